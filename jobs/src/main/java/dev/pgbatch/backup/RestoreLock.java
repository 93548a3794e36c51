package dev.pgbatch.backup;

import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

import dev.pgbatch.core.ExecutionLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one drill or point-in-time restore of a server at a time ({@link ClusterRestore#LOCK}): a scratch cluster
 * beside the live one takes its memory, disk and a port, so two at once are refused. Taken in the maintenance
 * database, as backup restore's locks are: an advisory lock belongs to one database, and runners configured with
 * different databases of the same server must exclude each other. Watched: when its session ends (the live cluster
 * restarted under a restore of hours), another drill or restore could start beside this one, which is said. A
 * physical backup's retention holds it too, for the seconds of its expire (no set is removed under a restore).
 */
final class RestoreLock {

	private static final Logger log = LoggerFactory.getLogger(RestoreLock.class);

	static final String LOST = "the lock of %s was lost while it ran (its session in database %s ended: did the server"
			+ " restart?): another drill or restore --to may have run beside it";

	/**
	 * The longest a drill or restore --to waits for retention's hold, whatever ETL_PGBACKREST_LOCK_WAIT says: it holds
	 * the lock for one expire run, seconds; one that holds it longer hangs, and an operator is not kept waiting for it.
	 */
	static final Duration RETENTION_WAIT = Duration.ofMinutes(2);

	private RestoreLock() {
	}

	/**
	 * Takes the lock for {@code holder} (the name a refusal shows: a physical backup's retention, which skips its expire
	 * when refused), or refuses at once naming whoever holds it. Close the handle to release it;
	 * {@link ExecutionLock.Held#check} says whether it held.
	 */
	static ExecutionLock.Held hold(ExecutionLock lock, String holder) {
		return watched(lock.acquire(ClusterRestore.LOCK, holder, ServerDatabases.MAINTENANCE), holder);
	}

	/**
	 * {@link #hold}, for a drill or a restore --to ("backup drill", "backup restore --to"): while a physical backup's retention holds the lock (for the
	 * seconds of its expire), it is tried again until {@code deadline} (ETL_PGBACKREST_LOCK_WAIT from the start of
	 * the command's waits), {@link #RETENTION_WAIT} from now at the latest, then refused
	 * ({@link ExecutionLock.OutWaited}). Any other holder is refused at once: a drill or restore runs
	 * for hours. Null when {@code stop} said so meanwhile.
	 */
	static ExecutionLock.Held holdAfterRetention(ExecutionLock lock, String holder, Instant deadline,
			BooleanSupplier stop) throws InterruptedException {
		Instant capped = Instant.now().plus(RETENTION_WAIT);
		ExecutionLock.Held held = lock.acquireAfter(ClusterRestore.LOCK, holder, ServerDatabases.MAINTENANCE,
				BackupJobConfiguration.RETENTION, deadline.isBefore(capped) ? deadline : capped, stop);
		return held == null ? null : watched(held, holder);
	}

	private static ExecutionLock.Held watched(ExecutionLock.Held held, String holder) {
		held.watch(() -> log.error(lost(holder)));
		return held;
	}

	static String lost(String holder) {
		return LOST.formatted(holder, ServerDatabases.MAINTENANCE);
	}

}
