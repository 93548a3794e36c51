package dev.pgbatch.core;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.stereotype.Component;

/**
 * Stops running executions after their current chunk: on an operator's request, and when a lock a run
 * holds for its whole length (its job's, or the partitions' shared one) is lost with its session, so that
 * the run does not go on unprotected. A lost lock stops the run that held it, not others of the job.
 */
@Component
public class StopRequests {

	private static final Logger log = LoggerFactory.getLogger(StopRequests.class);

	private static final String LOSING = "the lock of {} is lost: execution {} stops here after its current chunk, as"
			+ " it would go on unprotected";

	/** How many times a run whose lock is lost is asked to stop while the repository fails (a second apart). */
	private static final int STOP_TRIES = 120;

	/** The launch under way in this thread (JobRunner's; a nightly's child's inside the nightly's). */
	private static final ThreadLocal<Launch> LAUNCHING = new ThreadLocal<>();

	private final JobRepository repository;

	StopRequests(JobRepository repository) {
		this.repository = repository;
	}

	/**
	 * Watches the lock's session (every ETL_LOCK_CHECK_INTERVAL) of a launch under way in this thread: when it is
	 * lost, the execution the launch records next ({@link #recorded}) stops after its current chunk, at once if
	 * it is recorded after the loss. Runs of the job elsewhere go on: one may hold the lock since, rightly. Closing
	 * the launch ends its part in this thread (a nightly's child's launch inside the nightly's).
	 */
	public Launch stopOnLoss(ExecutionLock.Held held, String jobName) {
		Launch launch = new Launch(held::lost, jobName, LAUNCHING.get());
		held.watch(launch::lost);
		return launch.begin();
	}

	/** The launch under way in this thread from now on, whose lock is lost once {@code lockLost} says so. */
	Launch begin(BooleanSupplier lockLost, String jobName) {
		return new Launch(lockLost, jobName, LAUNCHING.get()).begin();
	}

	/** Watches the lock of a run already recorded: when it is lost, that run stops after its current chunk. */
	public void stopOnLoss(ExecutionLock.Held held, JobExecution execution) {
		held.watch(() -> stopLosing(execution.getJobInstance().getJobName(), execution.getId()));
	}

	/**
	 * Binds the execution just recorded to the launch under way in this thread, when it is that launch's (its job,
	 * and none bound yet); marks it STOPPING when the launch's lock is already lost. Called before any step.
	 */
	static void recorded(JobExecution execution) {
		Launch launch = LAUNCHING.get();
		if (launch != null && launch.jobName.equals(execution.getJobInstance().getJobName())
				&& launch.execution.compareAndSet(null, execution.getId()) && launch.lockLost.getAsBoolean()) {
			log.error(LOSING, launch.jobName, execution.getId());
			execution.setStatus(BatchStatus.STOPPING);
		}
	}

	/**
	 * On the lock watch's thread: asks the execution to stop, and asks again every second while the repository
	 * cannot be reached (the loss of the lock's session may be that of the database), for up to STOP_TRIES seconds.
	 */
	private void stopLosing(String jobName, long executionId) {
		log.error(LOSING, jobName, executionId);
		for (int attempt = 1;; attempt++) {
			try {
				JobExecution execution = ExecutionReports.find(this.repository, executionId);
				if (execution.getStatus().isRunning()) {
					request(execution);
				}
				return;
			}
			catch (UsageException ex) {
				// gone from the repository (deleted by hand): nothing is left to stop, and asking again will not find it
				log.warn("Execution {}: could not be asked to stop: {}", executionId, ex.getMessage());
				return;
			}
			catch (RuntimeException ex) {
				// its class only: a driver's message may carry the server's address or more
				log.warn("Execution {}: could not be asked to stop ({}); {}", executionId, ex.getClass().getSimpleName(),
						attempt < STOP_TRIES ? "trying again in a second" : "giving up");
				if (attempt == STOP_TRIES || !pause()) {
					return;
				}
			}
		}
	}

	private static boolean pause() {
		try {
			Thread.sleep(1000);
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/** A launch in this thread, under a held lock: the execution it records, once recorded. */
	public final class Launch implements AutoCloseable {

		private final BooleanSupplier lockLost;

		private final String jobName;

		private final Launch outer;

		private final AtomicReference<Long> execution = new AtomicReference<>();

		private Launch(BooleanSupplier lockLost, String jobName, Launch outer) {
			this.lockLost = lockLost;
			this.jobName = jobName;
			this.outer = outer;
		}

		/** On the watch's thread, once the lock is lost (lockLost true): recorded() sees one or the other. */
		void lost() {
			Long recorded = this.execution.get();
			if (recorded != null) {
				stopLosing(this.jobName, recorded);
			}
		}

		private Launch begin() {
			LAUNCHING.set(this);
			return this;
		}

		@Override
		public void close() {
			if (this.outer == null) {
				LAUNCHING.remove();
			}
			else {
				LAUNCHING.set(this.outer);
			}
		}

	}

	/**
	 * Whether the execution, still being launched in this thread, is to stop: asked before it existed (the
	 * scheduler's shutdown), or since (`etl stop`, which marks it STOPPING in the repository), or its launch's
	 * lock is lost (before the execution is bound to it: a job's own listener can wait for another lock). Made in the
	 * launching thread, which alone knows the first; asked in any (a lock wait's watch asks on its own).
	 */
	public BooleanSupplier requested(JobExecution execution) {
		BooleanSupplier atStart = JobRunner.stopAtStart();
		Launch launch = LAUNCHING.get();
		BooleanSupplier lockLost = launch != null && launch.jobName.equals(execution.getJobInstance().getJobName())
				? launch.lockLost : () -> false;
		long executionId = execution.getId();
		AtomicBoolean warned = new AtomicBoolean();
		return () -> {
			if (atStart.getAsBoolean() || lockLost.getAsBoolean()) {
				return true;
			}
			try {
				return ExecutionReports.find(this.repository, executionId).getStatus() == BatchStatus.STOPPING;
			}
			catch (RuntimeException ex) {
				// asked every half second for as long as the wait lasts: a passing error of the repository is
				// not to fail the launch, and said once, not every time (its class only: a driver's message
				// may carry the server's address or more)
				if (warned.compareAndSet(false, true)) {
					log.warn("Execution {}: could not read whether it was asked to stop ({}); it goes on as if not,"
							+ " and asks again", executionId, ex.getClass().getSimpleName());
				}
				return false;
			}
		};
	}

	/**
	 * Says why an execution stopped, when it stopped because the lock was lost; true when it did. The
	 * caller stores the execution (a job listener's afterJob is followed by the job's own update).
	 */
	public static boolean explainLoss(ExecutionLock.Held held, JobExecution execution, String why) {
		if (held.lost() && execution.getStatus() == BatchStatus.STOPPED) {
			execution.setExitStatus(new ExitStatus(execution.getExitStatus().getExitCode(), why));
			return true;
		}
		return false;
	}

	/**
	 * Marks the execution STOPPING: the running process checks its execution's status after every chunk and
	 * stops there. Only the job execution is updated: JobOperator.stop also rewrites the running steps, whose
	 * versions move on with every chunk of the running process, and so fails with an optimistic-locking error.
	 */
	JobExecution request(JobExecution execution) {
		long executionId = execution.getId();
		for (int attempt = 1;; attempt++) {
			try {
				execution.setStatus(BatchStatus.STOPPING);
				this.repository.update(execution);
				return execution;
			}
			catch (OptimisticLockingFailureException ex) {
				if (attempt == 5) {
					throw new RefusedException("execution " + executionId + " could not be stopped: " + ex.getMessage());
				}
				execution = ExecutionReports.find(this.repository, executionId);
				if (!execution.getStatus().isRunning()) {
					return execution;
				}
			}
		}
	}

}
