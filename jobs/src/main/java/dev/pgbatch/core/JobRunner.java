package dev.pgbatch.core;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.AbstractJob;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Launches, restarts and stops executions, one live process per job (per lock of its runs) at a time
 * ({@link ExecutionLock}).
 * Launches are synchronous: the calling thread runs the job and gets its finished execution back.
 */
@Component
public class JobRunner {

	private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

	static final String LOCK_LOST = "stopped: the job's lock was lost (its database session ended), and a second run"
			+ " could have started beside this one; restart it";

	static final String LOCK_LOST_AT_LAUNCH = "%s did not start: its lock was lost (its database session ended) while"
			+ " it was being launched, and another run may hold it now; try again";

	static final String STILL_RUNS_UNDER_JOB_LOCK = "execution %d of %s may still run: the job's own lock is held (%s),"
			+ " as runners before the lock of its type held it for every run; let that run end first";

	static final String STOPPED_AT_START = "stopped before its first step: it was asked to stop while it was being"
			+ " launched; restart it";

	/**
	 * Set by {@link #continueOrStart(String, JobParameters, BooleanSupplier)} for its thread: whether the
	 * executions launched in it (a nightly's children too) are to stop before their first step.
	 */
	private static final ThreadLocal<BooleanSupplier> STOP_AT_START = new ThreadLocal<>();

	/**
	 * After the execution is recorded (and the job's own listeners have run), before any step: a stop asked for
	 * before the execution existed, which no stop request could reach, stops it here.
	 */
	private static final JobExecutionListener STOPPING_AT_START = new JobExecutionListener() {
		@Override
		public void beforeJob(JobExecution execution) {
			StopRequests.recorded(execution);
			if (askedToStopAtStart()) {
				log.info("Execution {} of {}: {}", execution.getId(), execution.getJobInstance().getJobName(),
						STOPPED_AT_START);
				// the job checks this before every step, and ends STOPPED, restartable
				execution.setStatus(BatchStatus.STOPPING);
			}
		}

		@Override
		public void afterJob(JobExecution execution) {
			if (askedToStopAtStart() && execution.getStatus() == BatchStatus.STOPPED
					&& execution.getStepExecutions().isEmpty()) {
				// instead of Spring Batch's "All steps already completed or no steps configured"
				execution.setExitStatus(new ExitStatus(ExitStatus.STOPPED.getExitCode(), STOPPED_AT_START));
			}
		}
	};

	/** Whether the launch under way in this thread was asked to stop before its execution existed. */
	static boolean askedToStopAtStart() {
		return stopAtStart().getAsBoolean();
	}

	/** That question for the launch under way in this thread, to be asked from any thread. */
	static BooleanSupplier stopAtStart() {
		BooleanSupplier stop = STOP_AT_START.get();
		return stop != null ? stop : () -> false;
	}

	private final JobOperator operator;

	private final JobRepository repository;

	private final JdbcTemplate jdbc;

	private final Map<String, Job> jobs;

	private final ExecutionLock lock;

	private final StopRequests stops;

	JobRunner(JobOperator operator, JobRepository repository, JdbcTemplate jdbc, List<Job> jobs, ExecutionLock lock,
			StopRequests stops) {
		this.stops = stops;
		this.operator = operator;
		this.repository = repository;
		this.jdbc = jdbc;
		this.jobs = jobs.stream().collect(Collectors.toMap(Job::getName, Function.identity()));
		this.lock = lock;
		for (Job job : jobs) {
			if (job instanceof AbstractJob registering) {
				registering.registerJobExecutionListener(STOPPING_AT_START);
			}
		}
	}

	public JobExecution start(String jobName, JobParameters parameters) {
		return launch(jobName, parameters, false);
	}

	/**
	 * Runs the instance of these parameters to its end, as a job running another job in one of its steps
	 * (nightly) does: a new instance starts, one that failed or stopped continues from where it ended, one
	 * that completed is returned as it is. Like a launch, under the job's lock: an execution of the instance
	 * still recorded as running then belongs to a process that is gone (killed with its parent), and is
	 * marked FAILED first, as {@link #restart} does.
	 */
	public JobExecution continueOrStart(String jobName, JobParameters parameters) {
		return launch(jobName, parameters, true);
	}

	/**
	 * {@link #continueOrStart(String, JobParameters)} for a caller that can be told to stop at any moment (a
	 * scheduled firing when the scheduler shuts down): a stop request reaches only an execution that exists,
	 * so one asked for while the launch is still on its way (taking the lock, validating) is kept in
	 * {@code stopped}, and the execution, once recorded, stops before its first step.
	 */
	public JobExecution continueOrStart(String jobName, JobParameters parameters, BooleanSupplier stopped) {
		BooleanSupplier outer = STOP_AT_START.get();
		STOP_AT_START.set(stopped);
		try {
			return launch(jobName, parameters, true);
		}
		finally {
			STOP_AT_START.set(outer);
		}
	}

	private JobExecution launch(String jobName, JobParameters parameters, boolean continuing) {
		Job job = job(jobName);
		// The lock first: a validator reads the catalog, which can wait behind the DDL of a run under way
		// (archive's detach), and a second run is to be refused at once, not after that wait.
		try (ExecutionLock.Held held = this.lock.acquire(jobName, parameters);
				StopRequests.Launch launch = this.stops.stopOnLoss(held, jobName)) {
			try {
				// Spring Batch validates after it has recorded the job instance; a refusal must leave no trace
				job.getJobParametersValidator().validate(parameters);
			}
			catch (InvalidJobParametersException ex) {
				throw new UsageException(ex.getMessage());
			}
			JobExecution last = continuing ? this.repository.getLastJobExecution(jobName, parameters) : null;
			if (last != null && last.getStatus() == BatchStatus.COMPLETED) {
				return last;
			}
			if (last != null) {
				requireNewest(last);
			}
			if (last != null && last.getStatus().isRunning()) {
				markFailed(requireGone(execution(last.getId()), held));
			}
			return ended(held, this.operator.start(job, parameters));
		}
		catch (RefusedException | UsageException ex) {
			throw ex;
		}
		catch (Exception ex) {
			throw new RefusedException("job " + jobName + " could not start: " + ex.getMessage());
		}
	}

	/**
	 * Continues a failed or stopped execution from its last committed chunk. An execution left STARTED by
	 * a process that is gone (its lock is free) is first marked FAILED, which Spring Batch will not do on
	 * its own; one whose process is alive is refused. The lock is that of the execution's run (its parameters).
	 */
	public JobExecution restart(long executionId) {
		JobExecution recorded = execution(executionId);
		String jobName = recorded.getJobInstance().getJobName();
		Job job = job(jobName);
		try (ExecutionLock.Held held = this.lock.acquire(jobName, recorded.getJobParameters());
				StopRequests.Launch launch = this.stops.stopOnLoss(held, jobName)) {
			// read again under the lock: the execution may have ended meanwhile
			JobExecution execution = execution(executionId);
			requireNewest(execution);
			if (execution.getStatus().isRunning()) {
				execution = markFailed(requireGone(execution, held));
			}
			if (execution.getStatus() == BatchStatus.COMPLETED) {
				throw new RefusedException("execution " + executionId + " of " + jobName
						+ " is already COMPLETED: there is nothing to restart");
			}
			if (execution.getStatus() == BatchStatus.ABANDONED) {
				throw new RefusedException("execution " + executionId + " of " + jobName
						+ " was abandoned and cannot be restarted");
			}
			// Starting an instance again with its own parameters continues it from where it failed.
			return ended(held, this.operator.start(job, execution.getJobParameters()));
		}
		catch (RefusedException | UsageException ex) {
			throw ex;
		}
		catch (Exception ex) {
			throw new RefusedException("execution " + executionId + " could not restart: " + ex.getMessage());
		}
	}

	/**
	 * Refuses to continue an execution that a newer one of the same job (and lock) ran after: its restart point
	 * predates the newer run's work, which continuing would mix with its own (a nightly's old child
	 * archiving after a newer archive ran).
	 */
	private void requireNewest(JobExecution execution) {
		Long newer = ExecutionReports.newer(this.jdbc, execution);
		if (newer != null) {
			throw new RefusedException("execution " + execution.getId() + " of " + execution.getJobInstance().getJobName()
					+ " is not the newest (" + newer + " ran after it): continuing it now could mix its work with the newer"
					+ " run's; launch the job again instead");
		}
	}

	/**
	 * The execution recorded as running, once its own lock is taken here: refused while the job's lock is held for
	 * it by a runner not yet upgraded ({@link ExecutionLock#formerHolder}), whose run would otherwise be marked
	 * FAILED and run a second time beside it.
	 */
	private JobExecution requireGone(JobExecution execution, ExecutionLock.Held held) {
		String jobName = execution.getJobInstance().getJobName();
		String holder = this.lock.formerHolder(jobName, execution.getJobParameters());
		if (holder != null) {
			throw new RefusedException(STILL_RUNS_UNDER_JOB_LOCK.formatted(execution.getId(), jobName, holder));
		}
		// the execution is gone only while this lock is ours: lost meanwhile, it may be a live run's that took it since
		if (!held.check()) {
			throw new RefusedException(LOCK_LOST_AT_LAUNCH.formatted(jobName));
		}
		return execution;
	}

	/** Marks an execution recorded as running, whose process is gone (its lock was free), FAILED. */
	private JobExecution markFailed(JobExecution execution) {
		log.warn("Execution {} of {} was left {} by a process that is gone; marking it FAILED", execution.getId(),
				execution.getJobInstance().getJobName(), execution.getStatus());
		return this.operator.recover(execution);
	}

	/**
	 * Asks a running execution to stop after its current chunk. An execution whose process is gone is
	 * marked FAILED instead, ready for restart.
	 */
	public JobExecution stop(long executionId) {
		JobExecution execution = execution(executionId);
		String jobName = execution.getJobInstance().getJobName();
		if (!execution.getStatus().isRunning()) {
			throw new RefusedException("execution " + executionId + " of " + jobName + " is not running (it is "
					+ execution.getStatus() + ")");
		}
		if (!this.lock.isHeld(jobName, execution.getJobParameters())) {
			log.warn("Execution {} of {} has no live process; marking it FAILED", executionId, jobName);
			return this.operator.recover(execution);
		}
		return this.stops.request(execution);
	}

	/** The execution as it ended, with why it stopped when it stopped because its lock was lost. */
	private JobExecution ended(ExecutionLock.Held held, JobExecution execution) {
		if (StopRequests.explainLoss(held, execution, LOCK_LOST)) {
			this.repository.update(execution);
		}
		return execution;
	}

	public JobExecution execution(long executionId) {
		return ExecutionReports.find(this.repository, executionId);
	}

	private Job job(String jobName) {
		Job job = this.jobs.get(jobName);
		if (job == null) {
			throw new UsageException("unknown job '" + jobName + "'");
		}
		return job;
	}

}
