package dev.pgbatch.backup;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

import dev.pgbatch.core.ExecutionLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.repository.JobRepository;
import org.springframework.stereotype.Component;

/**
 * What backup verify --physical and backup drill (and their jobs, backup-verify and backup-drill) wait for before
 * they start: a physical backup of the backup job (the lock of its physical runs, held for its backup, its
 * retention's expire and its restore point; a logical backup or a nightly, under the job's own lock, touches no
 * pgBackRest set and is not waited for) and any pgBackRest backup of the stanza (its backup lock as info shows it:
 * another runner's, or a killed runner's pgbackrest that goes on), up to ETL_PGBACKREST_LOCK_WAIT, the setting that
 * already bounds a wait for a backup of the stanza. A verify racing an expire reads sets vanishing under it as
 * missing files; a drill during a full restores the set before it, not the full's.
 */
@Component
class BackupWait {

	private static final Logger log = LoggerFactory.getLogger(BackupWait.class);

	/** How often the locks are looked at while they are waited for. */
	private static final Duration POLL = Duration.ofSeconds(1);

	private final ExecutionLock lock;

	private final JobRepository repository;

	private final PhysicalBackups physical;

	private final Duration wait;

	BackupWait(ExecutionLock lock, JobRepository repository, PhysicalBackups physical, PgBackRestProperties properties) {
		this.lock = lock;
		this.repository = repository;
		this.physical = physical;
		this.wait = properties.lockWait();
	}

	Duration bound() {
		return this.wait;
	}

	/** How a wait for the backups under way ended. */
	enum Waited {
		/** No backup runs. */
		NONE_RUNS,
		/** One still runs at the end of the wait. */
		STILL_RUNS,
		/** The waiter was asked to stop. */
		STOPPED
	}

	/** Whether no backup runs now, after waiting up to ETL_PGBACKREST_LOCK_WAIT for one that does ({@code what} waits). */
	boolean awaitNoBackup(String what) throws IOException, InterruptedException {
		return awaitNoBackup(what, deadline(), () -> false) == Waited.NONE_RUNS;
	}

	/** The end of a wait that starts now. */
	Instant deadline() {
		return Instant.now().plus(this.wait);
	}

	/**
	 * {@link #awaitNoBackup(String)} up to {@code deadline} (a waiter may wait more than once within one wait), for a
	 * waiter that may be asked to stop (`etl stop`, the scheduler's shutdown): {@code stop} is asked at every look, so
	 * that a stop does not wait out the whole wait.
	 */
	Waited awaitNoBackup(String what, Instant deadline, BooleanSupplier stop) throws IOException, InterruptedException {
		boolean said = false;
		while (true) {
			if (stop.getAsBoolean()) {
				return Waited.STOPPED;
			}
			if (!running()) {
				return Waited.NONE_RUNS;
			}
			if (!Instant.now().isBefore(deadline)) {
				return Waited.STILL_RUNS;
			}
			if (!said) {
				log.info("{} waits up to {} s for the backup of stanza {} under way to end", what, this.wait.toSeconds(),
						this.physical.stanza());
				said = true;
			}
			Thread.sleep(POLL.toMillis());
		}
	}

	/**
	 * Whether a physical backup runs now: of the backup job (its lock, or the job's own for a physical run recorded
	 * as running: a runner not yet upgraded takes that one, {@link ExecutionLock#formerHolder}), or any pgBackRest
	 * backup of the stanza.
	 */
	boolean running() throws IOException, InterruptedException {
		return this.lock.isHeld(BackupJob.PHYSICAL_LOCK) || physicalUnderTheJobsLock() || this.physical.backupRunning();
	}

	/** The repository is read only while the job's own lock is held: mostly never, or for a logical backup. */
	private boolean physicalUnderTheJobsLock() {
		return this.lock.isHeld(BackupJob.NAME) && this.repository.findRunningJobExecutions(BackupJob.NAME)
			.stream()
			.anyMatch(running -> BackupJob.physical(BackupJob.NAME, running.getJobParameters()));
	}

}
