package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A restored cluster's clean-up (a drill's, a point-in-time restore's), run once: by the restore when it fails or
 * ends, or by a shutdown hook when the JVM is stopped meanwhile (Ctrl-C, SIGHUP when the ssh session drops,
 * SIGTERM). Without the hook the JVM exits with the restore's catch and finally never run, and postgres, detached by
 * pg_ctl, replays and promotes on its own beside the live cluster. The hook is registered for the restore's duration
 * only ({@link #close}).
 */
final class CleanUpOnExit implements AutoCloseable {

	static final String STOPPED = "%s stopped by a signal: %s";

	static final String NOTHING_LEFT = "nothing is left";

	/**
	 * Said as the hook begins: what follows may take minutes (children given 30 s, postgres's stop, a large
	 * directory's removal), and a kill -9 then would leave a directory half removed or a postgres running.
	 */
	static final String CLEANING_UP = "%s is stopping (a signal): %s; this may take minutes: do not kill -9 it (a"
			+ " directory half removed or a running postgres would be left)";

	static final String CLOSING = "not started: the JVM is stopping, and its restored cluster is being cleaned up";

	/**
	 * Held while a child process is started ({@link #start}) and while a hook closes the gate: a process is either
	 * started before, and so among the children the hook stops, or refused.
	 */
	private static final Object STARTS = new Object();

	/** Set by a hook (the JVM stops): no child process is started from then on but by a clean-up. */
	private static boolean closing;

	/** Whether this thread runs a clean-up: its pg_ctl stop starts however the gate stands. */
	private static final ThreadLocal<Boolean> CLEANING = ThreadLocal.withInitial(() -> false);

	/** How long the restore's own processes (pgbackrest restore, pg_ctl), asked to stop, have to end. */
	private static final Duration CHILDREN_END = Duration.ofSeconds(30);

	private final Thread hook;

	private boolean ran;

	private String said;

	/**
	 * Registers the hook: on exit it closes the gate ({@link #start}), first waiting for a clean-up the restore runs
	 * already (its own pg_ctl stop is not stopped under it); then asks this process's children that name
	 * {@code place} in their command line to stop (pgbackrest restore and its workers, pg_ctl: they would write on
	 * into what is removed; postgres itself is stopped by the clean-up), then runs {@code cleanUp} (null: nothing
	 * left), then {@code stop} once more (a postmaster whose pg_ctl start began before the gate closed: why it still
	 * runs, or null), and prints what they say after {@code what}, the command. It says first what it is doing
	 * ({@code doing}), at once.
	 */
	CleanUpOnExit(String what, Path place, Supplier<String> doing, Supplier<String> cleanUp, Supplier<String> stop) {
		this.hook = new Thread(() -> {
			System.err.println("etl: " + CLEANING_UP.formatted(what, doing.get()));
			String left;
			String stillRuns;
			// all under run's monitor: the restore's own clean-up, would it fail meanwhile (its processes stopped
			// here), waits for this one and says what it said, never removing what this one keeps
			synchronized (this) {
				synchronized (STARTS) {
					closing = true;
				}
				if (!this.ran) {
					stopChildren(place);
				}
				left = run(cleanUp);
				stillRuns = cleaning(stop);
			}
			System.err.println("etl: " + STOPPED.formatted(what, (left == null ? NOTHING_LEFT : left)
					+ (stillRuns == null ? "" : "; " + stillRuns)));
		}, what + " clean-up on exit");
		Runtime.getRuntime().addShutdownHook(this.hook);
	}

	/**
	 * Runs {@code cleanUp} unless a clean-up ran or runs already (the hook's, or the restore's own): then waits for
	 * it and gives what it said. Either way once: two at a time would remove the same files under each other.
	 */
	synchronized String run(Supplier<String> cleanUp) {
		if (!this.ran) {
			this.said = cleaning(cleanUp);
			this.ran = true;
		}
		return this.said;
	}

	private static String cleaning(Supplier<String> cleanUp) {
		CLEANING.set(true);
		try {
			return cleanUp.get();
		}
		finally {
			CLEANING.set(false);
		}
	}

	/**
	 * Starts a child process of a restore (pgbackrest, pg_ctl...), or refuses once a hook has closed the gate (the
	 * JVM stops): one started after the hook looked for children to stop would run on, detached, after the JVM. A
	 * clean-up's own are started.
	 */
	static Process start(ProcessBuilder builder) throws IOException {
		synchronized (STARTS) {
			if (closing && !CLEANING.get()) {
				throw new IllegalStateException(CLOSING);
			}
			return builder.start();
		}
	}

	/**
	 * Whether a hook has begun (this JVM is stopping on a signal): a restored cluster that stops from then on is
	 * stopped by the hook's clean-up, not by someone else.
	 */
	static boolean closing() {
		synchronized (STARTS) {
			return closing;
		}
	}

	/** The restore is over: nothing to clean up on exit from now on. */
	@Override
	public void close() {
		try {
			Runtime.getRuntime().removeShutdownHook(this.hook);
		}
		catch (IllegalStateException ex) {
			// the JVM is exiting: the hook runs, or ran; its clean-up and the restore's are the same one
		}
	}

	private static void stopChildren(Path place) {
		List<ProcessHandle> children = ProcessHandle.current()
			.descendants()
			.filter(child -> child.info().commandLine().orElse("").contains(place.toString()))
			.filter(child -> !child.info().command().orElse("").endsWith("/postgres"))
			.toList();
		children.forEach(ProcessHandle::destroy);
		long deadline = System.nanoTime() + CHILDREN_END.toNanos();
		for (ProcessHandle child : children) {
			try {
				child.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (ExecutionException | TimeoutException ex) {
				// the clean-up goes on: it stops postgres and removes only what it may
			}
		}
	}

}
