package dev.pgbatch.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Stream work on threads of their own, not the common pool: its one thread on a two-core machine would run
 * an upload and the encryption that feeds it one after the other, and each would wait for the other.
 */
public final class OwnThreads {

	private OwnThreads() {
	}

	/** Work that may fail with an I/O error. */
	@FunctionalInterface
	public interface Work<T> {

		T run() throws IOException;

	}

	/** Runs {@code work} on a new daemon thread named {@code name}. */
	public static <T> CompletableFuture<T> start(String name, Work<T> work) {
		return CompletableFuture.supplyAsync(() -> {
			try {
				return work.run();
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}, runnable -> {
			Thread thread = new Thread(runnable, name);
			thread.setDaemon(true);
			thread.start();
		});
	}

	/** Waits for the work's result; rethrows its failure as it was thrown. */
	public static <T> T joined(CompletableFuture<T> work) throws IOException {
		try {
			return work.join();
		}
		catch (CompletionException ex) {
			if (ex.getCause() instanceof UncheckedIOException io) {
				throw io.getCause();
			}
			throw unwrapped(ex);
		}
	}

	/** What a piece of work failed with if it has failed already, else null (it still runs or it succeeded). */
	static RuntimeException failure(CompletableFuture<?> work) {
		if (!work.isCompletedExceptionally()) {
			return null;
		}
		try {
			work.join();
			return null;
		}
		catch (CompletionException ex) {
			return unwrapped(ex);
		}
	}

	/** What the work threw: a runtime exception as it is, anything else wrapped as an I/O error. */
	private static RuntimeException unwrapped(CompletionException ex) {
		Throwable cause = ex.getCause();
		return cause instanceof RuntimeException runtime ? runtime : new UncheckedIOException(new IOException(cause));
	}

}
