package dev.pgbatch.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The one way pgbatch runs work in the background: each piece on a daemon thread of its own, named for
 * what it does, never on the common pool, whose one thread on a two-core machine would run an upload and
 * the encryption that feeds it one after the other, each waiting for the other.
 */
public final class BackgroundThreads {

	private BackgroundThreads() {
	}

	/** Work that may fail with an I/O error. */
	@FunctionalInterface
	public interface Task<T> {

		T run() throws IOException;

	}

	/** Runs {@code task} on a new daemon thread named {@code name}. */
	public static <T> CompletableFuture<T> start(String name, Task<T> task) {
		return CompletableFuture.supplyAsync(() -> {
			try {
				return task.run();
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}, runnable -> daemon(name, runnable).start());
	}

	/** Runs {@code work} on a new daemon thread named {@code name}, nobody waiting for it. */
	public static void run(String name, Runnable work) {
		daemon(name, work).start();
	}

	/** One daemon thread named {@code name} that runs work at set times, until shut down. */
	public static ScheduledExecutorService scheduler(String name) {
		return Executors.newSingleThreadScheduledExecutor(runnable -> daemon(name, runnable));
	}

	private static Thread daemon(String name, Runnable work) {
		Thread thread = new Thread(work, name);
		thread.setDaemon(true);
		return thread;
	}

	/** Waits for the work's result; rethrows its failure as it was thrown, an Error too. */
	public static <T> T joined(CompletableFuture<T> work) throws IOException {
		try {
			return work.join();
		}
		catch (CompletionException ex) {
			Throwable thrown = thrown(ex);
			throwIfIoOrUnchecked(thrown);
			// work throws no other checked exception
			throw new IllegalStateException(thrown);
		}
	}

	/** Throws {@code failure} as it is when it is an I/O error, a runtime exception or an Error. */
	public static void throwIfIoOrUnchecked(Throwable failure) throws IOException {
		if (failure instanceof IOException io) {
			throw io;
		}
		if (failure instanceof RuntimeException runtime) {
			throw runtime;
		}
		if (failure instanceof Error error) {
			throw error;
		}
	}

	/** What a piece of work threw, from the failure its future reports: an I/O error as it was, not wrapped. */
	public static Throwable thrown(Throwable failure) {
		Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
				: failure;
		return cause instanceof UncheckedIOException io ? io.getCause() : cause;
	}

}
