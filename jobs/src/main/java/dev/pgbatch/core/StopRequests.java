package dev.pgbatch.core;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.JobExecution;
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

	private final JobRepository repository;

	StopRequests(JobRepository repository) {
		this.repository = repository;
	}

	/**
	 * Watches the lock's session (every ETL_LOCK_CHECK_INTERVAL); when it is lost, the executions of the job
	 * running here stop after their current chunk.
	 */
	public void stopOnLoss(ExecutionLock.Held held, String jobName) {
		held.watch(() -> {
			for (JobExecution running : this.repository.findRunningJobExecutions(jobName)) {
				request(running);
			}
		});
	}

	/**
	 * Whether the execution, still being launched in this thread, is to stop: asked before it existed (the
	 * scheduler's shutdown), or since (`etl stop`, which marks it STOPPING in the repository).
	 */
	public boolean requested(JobExecution execution) {
		return JobRunner.askedToStopAtStart()
				|| ExecutionReports.find(this.repository, execution.getId()).getStatus() == BatchStatus.STOPPING;
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
