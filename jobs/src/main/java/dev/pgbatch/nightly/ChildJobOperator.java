package dev.pgbatch.nightly;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.JobRunner;
import dev.pgbatch.core.BackgroundThreads;
import dev.pgbatch.core.RefusedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.configuration.support.MapJobRegistry;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInterruptedException;
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
 * archive step runs. A step whose job another process runs (the hourly view refresh still going at 01:00)
 * waits for that run to end, up to ETL_NIGHTLY_WAIT_FOR_RUNNING, and fails as already running only after
 * that. A restarted step continues its child's instance ({@link JobRunner#continueOrStart}).
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

	private final ExecutionLock lock;

	private final Duration waitForRunning;

	ChildJobOperator(JobRepository repository, ObjectProvider<JobRunner> runner, ExecutionLock lock,
			Duration waitForRunning) {
		this.repository = repository;
		this.runner = runner;
		this.lock = lock;
		this.waitForRunning = waitForRunning;
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
		ScheduledExecutorService stops = BackgroundThreads.scheduler("nightly-stop");
		Long parent = (step != null) ? step.getStepExecution().getJobExecutionId() : null;
		try {
			if (parent != null) {
				stops.scheduleWithFixedDelay(() -> passStopOn(parent, job.getName(), parameters), 1, 1, TimeUnit.SECONDS);
			}
			child = startOnceFree(job.getName(), parameters, parent);
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

	/**
	 * Starts the child; refused because another process runs its job, waits for that run to end (polling its
	 * lock) and tries again, until the wait is used up (refused) or the nightly is stopped (the step stopped).
	 */
	private JobExecution startOnceFree(String job, JobParameters parameters, Long parent) {
		Instant deadline = Instant.now().plus(this.waitForRunning);
		boolean triedAgainOnceFree = false;
		while (true) {
			try {
				return this.runner.getObject().continueOrStart(job, parameters);
			}
			catch (RefusedException ex) {
				if (!this.lock.isHeld(job, parameters)) {
					// refused for another reason, or the other run ended just now: one more try tells which
					if (triedAgainOnceFree) {
						throw ex;
					}
					triedAgainOnceFree = true;
					continue;
				}
				triedAgainOnceFree = false;
				String wait = this.waitForRunning.toString().substring(2).toLowerCase(Locale.ROOT);
				log.info("{}: waiting up to {} for the run under way to end", ex.getMessage(), wait);
				if (!awaitFree(job, parameters, deadline, parent)) {
					throw new RefusedException(ex.getMessage() + " (waited up to " + wait + " for it to end)");
				}
			}
		}
	}

	/**
	 * Whether the lock of the child's run was seen free before the deadline. The nightly stopped meanwhile ends the step
	 * STOPPED (an interruption, as Spring Batch reads its cause), not FAILED, so that a restart continues there.
	 */
	private boolean awaitFree(String job, JobParameters parameters, Instant deadline, Long parent) {
		while (this.lock.isHeld(job, parameters)) {
			if (parent != null && this.repository.getJobExecution(parent).getStatus() == BatchStatus.STOPPING) {
				String stopped = "stopped while waiting for the run of " + job + " under way to end";
				throw new UnexpectedJobExecutionException(stopped, new JobInterruptedException(stopped));
			}
			if (Instant.now().isAfter(deadline)) {
				return false;
			}
			try {
				Thread.sleep(Math.min(1000, Math.max(1, Duration.between(Instant.now(), deadline).toMillis())));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return false;
			}
		}
		return true;
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
