package dev.pgbatch.nightly;

import java.util.Map;
import java.util.stream.Collectors;

import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.JobRunner;

import org.springframework.batch.core.configuration.support.MapJobRegistry;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.UnexpectedJobExecutionException;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.launch.support.TaskExecutorJobOperator;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.scope.context.StepContext;
import org.springframework.batch.core.scope.context.StepSynchronizationManager;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.beans.factory.ObjectProvider;

/**
 * How nightly's job steps start their child jobs. Spring Batch 6's JobStep starts its job through a
 * JobOperator; this is the operator JobStepBuilder makes by default (the job repository, an empty registry,
 * the calling thread) except that {@code start}, the only method JobStep calls, goes through
 * {@link JobRunner} as {@code bin/etl run} does. So a child's parameters are checked before anything of it is
 * written, and it runs under its own per-job lock: {@code bin/etl run archive} is refused while the nightly's
 * archive step runs, and that step fails with "job archive is already running" while another process runs
 * archive. A restarted step continues its child's instance ({@link JobRunner#continueOrStart}).
 * <p>
 * It also writes the child's outcome into the step's summary, and fails the step with what went wrong in the
 * child (JobStep's own message only says that the delegate job failed).
 */
final class ChildJobOperator extends TaskExecutorJobOperator {

	/** Step execution-context key: the child's execution, its status and its steps' own summaries. */
	static final String CHILD = ExecutionReport.SUMMARY + "child";

	/** Resolved when a step runs: the runner knows every job, nightly included. */
	private final ObjectProvider<JobRunner> runner;

	ChildJobOperator(JobRepository repository, ObjectProvider<JobRunner> runner) {
		this.runner = runner;
		setJobRepository(repository);
		setJobRegistry(new MapJobRegistry());
		try {
			afterPropertiesSet();
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	@Override
	public JobExecution start(Job job, JobParameters parameters) {
		StepContext step = StepSynchronizationManager.getContext();
		ExecutionContext context = (step != null) ? step.getStepExecution().getExecutionContext() : new ExecutionContext();
		// a restarted step starts from the context of the failed one: its child's old outcome is not this one
		context.remove(CHILD);
		JobExecution child = this.runner.getObject().continueOrStart(job.getName(), parameters);
		ExecutionReport report = ExecutionReport.of(child, false);
		context.putString(CHILD, summary(report));
		if (child.getStatus().isUnsuccessful()) {
			throw new UnexpectedJobExecutionException("execution " + report.executionId() + " " + report.status()
					+ (report.exitDescription() != null ? ": " + report.exitDescription() : ""));
		}
		return child;
	}

	/** "execution 42 COMPLETED; dump: backup 2026...; retention: retention deleted 0 backups ..." */
	private static String summary(ExecutionReport report) {
		StringBuilder line = new StringBuilder("execution " + report.executionId() + " " + report.status());
		for (ExecutionReport.StepReport step : report.steps()) {
			if (!step.summary().isEmpty()) {
				line.append("; ").append(step.step()).append(": ").append(step.summary().entrySet().stream()
					.map((Map.Entry<String, Object> entry) -> entry.getKey() + " " + entry.getValue())
					.collect(Collectors.joining(", ")));
			}
		}
		return line.toString();
	}

}
