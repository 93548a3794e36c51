package dev.pgbatch.core;

import java.util.concurrent.atomic.AtomicBoolean;
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
 * the run does not go on unprotected.
 */
@Component
public class StopRequests {

	private static final Logger log = LoggerFactory.getLogger(StopRequests.class);

	private final JobRepository repository;

	StopRequests(JobRepository repository) {
		this.repository = repository;
	}

	/**
	 * Watches the lock's session (every ETL_LOCK_CHECK_INTERVAL); when it is lost, the executions of the job
	 * running under that lock ({@link ExecutionLock#lockName} of {@code parameters}) stop after their current chunk.
	 */
	public void stopOnLoss(ExecutionLock.Held held, String jobName, JobParameters parameters) {
		String lock = ExecutionLock.lockName(jobName, parameters);
		held.watch(() -> stopRunsUnder(lock, jobName));
	}

	/**
	 * Marks STOPPING the running executions of the job that take {@code lock}: a run of the job under another lock
	 * (a logical backup beside a physical one, perhaps in another process) lost nothing and goes on.
	 */
	void stopRunsUnder(String lock, String jobName) {
		log.error("stopping the runs of {} under lock {} here after their current chunk: they would go on unprotected",
				jobName, lock);
		for (JobExecution running : this.repository.findRunningJobExecutions(jobName)) {
			if (lock.equals(ExecutionLock.lockName(jobName, running.getJobParameters()))) {
				request(running);
			}
		}
	}

	/**
	 * Whether the execution, still being launched in this thread, is to stop: asked before it existed (the
	 * scheduler's shutdown), or since (`etl stop`, which marks it STOPPING in the repository). Made in the
	 * launching thread, which alone knows the first; asked in any (a lock wait's watch asks on its own).
	 */
	public BooleanSupplier requested(JobExecution execution) {
		BooleanSupplier atStart = JobRunner.stopAtStart();
		long executionId = execution.getId();
		AtomicBoolean warned = new AtomicBoolean();
		return () -> {
			if (atStart.getAsBoolean()) {
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
