package dev.pgbatch.backup;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.pgbatch.core.ExecutionLock;

/**
 * The advisory locks a backup, verify or restore holds for its whole length (in the backed-up database, on
 * a staging database, on a restore's target), watched as a job's own lock is (ExecutionLock.Held.watch):
 * when a lock's session ends, the lock is gone and a second run could start beside this one (or a sweep
 * take its staging database for a leftover), so the running pg_dump or pg_restore is killed at once, and
 * the run fails before it writes a manifest or swaps a database in ({@link #check}).
 */
final class LockWatch {

	static final String LOST = "the lock of %s was lost (its database session ended): stopped before anything was kept; run it again";

	/** The watch of one lock, ended by closing it. */
	interface Watched extends AutoCloseable {

		@Override
		void close();

	}

	private final Map<ExecutionLock.Held, String> held = new ConcurrentHashMap<>();

	private volatile PostgresTools.Running running;

	private volatile String lost;

	/**
	 * Watches a held lock from now until it is closed; the handle ends the watch of a lock that is released
	 * before the run ends (close it before the lock, as try-with-resources does when it comes second).
	 */
	Watched watch(ExecutionLock.Held lock, String name) {
		this.held.put(lock, name);
		lock.watch(() -> {
			this.lost = name;
			PostgresTools.Running tool = this.running;
			if (tool != null) {
				tool.kill();
			}
		});
		return () -> this.held.remove(lock);
	}

	/** The tool to kill when a lock is lost (one at a time: a run starts its tools one after another). */
	void guard(PostgresTools.Running tool) {
		this.running = tool;
		if (this.lost != null) {
			tool.kill();
		}
	}

	/** Whether the watch has found a lock lost (without asking the sessions). */
	boolean lost() {
		return this.lost != null;
	}

	/**
	 * Fails when a lock has been lost, checking each one's session now (not only at the watch's last look):
	 * called before anything is kept, and on the way out of a failure, so that a tool killed by the watch
	 * is reported as the lost lock it is.
	 */
	void check() {
		this.held.forEach((lock, name) -> {
			if (!lock.check()) {
				this.lost = name;
			}
		});
		if (this.lost != null) {
			throw new IllegalStateException(String.format(LOST, this.lost));
		}
	}

}
