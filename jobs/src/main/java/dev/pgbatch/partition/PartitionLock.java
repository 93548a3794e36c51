package dev.pgbatch.partition;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.StopRequests;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The jobs that change the partitions of the managed tables (partition-rollover, archive, archive restore,
 * seed-data) run one at a time: each holds one shared advisory lock, "partitions", for its whole run. Run
 * side by side they took the parent's and the default partition's locks in opposite orders and deadlocked;
 * one at a time, and every DDL with a bounded lock wait (core/BoundedLocks), nothing waits forever.
 */
@Component
public class PartitionLock {

	static final String RESOURCE = "partitions of the managed tables";

	public static final String LOCK_LOST = "stopped: the lock of the " + RESOURCE + " was lost (its database session"
			+ " ended), and another job could have started changing them beside this one; restart it";

	private static final Logger log = LoggerFactory.getLogger(PartitionLock.class);

	private final ExecutionLock locks;

	private final PartitionProperties properties;

	private final StopRequests stops;

	private final Map<Long, ExecutionLock.Held> held = new ConcurrentHashMap<>();

	PartitionLock(ExecutionLock locks, PartitionProperties properties, StopRequests stops) {
		this.locks = locks;
		this.properties = properties;
		this.stops = stops;
	}

	/** Takes the lock, waiting up to ETL_PARTITION_LOCK_WAIT; close the handle to release it. */
	public ExecutionLock.Held hold(String holder) {
		return this.locks.acquireShared(RESOURCE, holder, this.properties.lockWait());
	}

	/** Whether the execution holds the lock (it may have failed to take it). */
	public boolean holds(JobExecution execution) {
		return this.held.containsKey(execution.getId());
	}

	/**
	 * A step's tasklet whose every transaction commits only while the run still holds the lock, checked at
	 * the commit: the watch looks every ETL_LOCK_CHECK_INTERVAL and stops a run only between transactions,
	 * so a change (a reset's TRUNCATE, an export's drops) could otherwise commit after the lock was lost,
	 * beside another of these jobs.
	 */
	public Tasklet heldAtCommit(Tasklet tasklet) {
		return (contribution, chunk) -> {
			long execution = chunk.getStepContext().getStepExecution().getJobExecutionId();
			TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
				@Override
				public void beforeCommit(boolean readOnly) {
					ExecutionLock.Held lock = PartitionLock.this.held.get(execution);
					if (lock == null || !lock.check()) {
						throw new IllegalStateException(LOCK_LOST);
					}
				}
			});
			return tasklet.execute(contribution, chunk);
		};
	}

	/**
	 * Holds the lock from the start of a job to its end; a job that cannot take it in time fails. Watched
	 * like the job's own lock: a job whose lock is lost stops after its current chunk. A job asked to stop
	 * while it waits for the lock (SIGTERM, `etl stop`) gives the wait up and stops before its first step,
	 * instead of waiting up to ETL_PARTITION_LOCK_WAIT only to stop then.
	 */
	public JobExecutionListener forJob() {
		return new JobExecutionListener() {

			@Override
			public void beforeJob(JobExecution execution) {
				String job = execution.getJobInstance().getJobName();
				ExecutionLock.Held lock = PartitionLock.this.locks.acquireShared(RESOURCE, job,
						PartitionLock.this.properties.lockWait(), PartitionLock.this.stops.requested(execution));
				if (lock == null) {
					log.info("Execution {} of {}: asked to stop while it waited for the lock of the {}; it stops before"
							+ " its first step", execution.getId(), job, RESOURCE);
					execution.setStatus(BatchStatus.STOPPING);
					return;
				}
				PartitionLock.this.held.put(execution.getId(), lock);
				PartitionLock.this.stops.stopOnLoss(lock, execution);
			}

			@Override
			public void afterJob(JobExecution execution) {
				ExecutionLock.Held lock = PartitionLock.this.held.remove(execution.getId());
				if (lock != null) {
					lock.close();
					StopRequests.explainLoss(lock, execution, LOCK_LOST);
				}
			}

		};
	}

}
