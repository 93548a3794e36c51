package dev.pgbatch.nightly;

import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.JobRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.BatchStatus;
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
 * It also writes the child's outcome into the step's summary, fails the step with what went wrong in the
 * child (JobStep's own message only says that the delegate job failed), and passes a stop of the nightly on
 * to the child under way: the child stops after its current chunk, and the nightly with it, as any job does
 * (without it, a stopped nightly would go on until the whole child had finished).
 */
final class ChildJobOperator extends TaskExecutorJobOperator {

	/** Step execution-context key: the child's execution, its status and its steps' own summaries. */
	static final String CHILD = ExecutionReport.SUMMARY + "child";

	private static final Logger log = LoggerFactory.getLogger(ChildJobOperator.class);

	private final JobRepository repository;

	/** Resolved when a step runs: the runner knows every job, nightly included. */
	private final ObjectProvider<JobRunner> runner;

	ChildJobOperator(JobRepository repository, ObjectProvider<JobRunner> runner) {
		this.repository = repository;
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
		JobExecution child;
		ScheduledExecutorService stops = Executors.newSingleThreadScheduledExecutor(runnable -> {
			Thread thread = new Thread(runnable, "nightly-stop");
			thread.setDaemon(true);
			return thread;
		});
		try {
			if (step != null) {
				long parent = step.getStepExecution().getJobExecutionId();
				stops.scheduleWithFixedDelay(() -> passStopOn(parent, job.getName(), parameters), 1, 1, TimeUnit.SECONDS);
			}
			child = this.runner.getObject().continueOrStart(job.getName(), parameters);
		}
		finally {
			stops.shutdownNow();
		}
		ExecutionReport report = ExecutionReport.of(child, false);
		context.putString(CHILD, summary(report));
		if (child.getStatus().isUnsuccessful()) {
			throw new UnexpectedJobExecutionException("execution " + report.executionId() + " " + report.status()
					+ (report.exitDescription() != null ? ": " + report.exitDescription() : ""));
		}
		return child;
	}

	/** Once the nightly's execution is STOPPING, asks its child's running execution to stop too. */
	private void passStopOn(long parent, String childJob, JobParameters parameters) {
		try {
			if (this.repository.getJobExecution(parent).getStatus() != BatchStatus.STOPPING) {
				return;
			}
			JobExecution child = this.repository.getLastJobExecution(childJob, parameters);
			if (child != null && child.getStatus() == BatchStatus.STARTED) {
				log.info("Execution {} of {} is stopping: stopping execution {} of {}", parent, NightlyJob.NAME,
						child.getId(), childJob);
				this.runner.getObject().stop(child.getId());
			}
		}
		catch (RuntimeException ex) {
			// the child has just ended (RefusedException: not running), or the database did not answer: the next tick tries again
			log.debug("Could not pass the stop of execution {} on to {}: {}", parent, childJob, ex.getMessage());
		}
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
