package dev.pgbatch.backup;

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

	/** How long the restore's own processes (pgbackrest restore, pg_ctl), asked to stop, have to end. */
	private static final Duration CHILDREN_END = Duration.ofSeconds(30);

	private final Thread hook;

	private boolean ran;

	private String said;

	/**
	 * Registers the hook: on exit it asks this process's children that name {@code place} in their command line to
	 * stop (pgbackrest restore and its workers, pg_ctl: they would write on into what is removed; postgres itself is
	 * stopped by the clean-up, immediate), then runs {@code cleanUp} (null: nothing left) and prints what it says
	 * after {@code what}, the command.
	 */
	CleanUpOnExit(String what, Path place, Supplier<String> cleanUp) {
		this.hook = new Thread(() -> {
			stopChildren(place);
			String left = run(cleanUp);
			System.err.println("etl: " + STOPPED.formatted(what, left == null ? NOTHING_LEFT : left));
		}, what + " clean-up on exit");
		Runtime.getRuntime().addShutdownHook(this.hook);
	}

	/**
	 * Runs {@code cleanUp} unless a clean-up ran or runs already (the hook's, or the restore's own): then waits for
	 * it and gives what it said. Either way once: two at a time would remove the same files under each other.
	 */
	synchronized String run(Supplier<String> cleanUp) {
		if (!this.ran) {
			this.said = cleanUp.get();
			this.ran = true;
		}
		return this.said;
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
