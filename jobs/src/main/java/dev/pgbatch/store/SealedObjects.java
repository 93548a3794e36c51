package dev.pgbatch.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.SealedStreams;

/**
 * Objects that are compressed and encrypted on their way into the object store and authenticated on their
 * way out (crypto/SealedStreams), with the object key as associated data, so an object copied under
 * another name does not decrypt. What backup and archive write. The content streams into a multipart
 * upload while it is made (a pipe to an uploader thread): nothing touches the disk and memory stays flat
 * whatever the size.
 */
public final class SealedObjects {

	private static final int PIPE_BYTES = 1 << 20;

	private final ObjectStore store;

	private final Keyset keys;

	public SealedObjects(ObjectStore store, Keyset keys) {
		this.store = store;
		this.keys = keys;
	}

	/** Writes an object's plaintext into the stream it is given. */
	public interface Content<E extends Exception> {

		void writeTo(OutputStream plaintext) throws IOException, E;

	}

	/**
	 * What was stored: plaintext bytes, compressed bytes (before encryption), and the object as stored.
	 */
	public record Stored(long plainBytes, long compressedBytes, long storedBytes, String storedSha256) {
	}

	/**
	 * Stores the content under {@code key}. When the content fails, the upload is abandoned, so a part
	 * of an object is never stored as if it were the whole.
	 */
	public <E extends Exception> Stored put(String key, Content<E> content) throws IOException, E {
		PipedInputStream pipeIn = new PipedInputStream(PIPE_BYTES);
		PipedOutputStream pipeOut = new PipedOutputStream(pipeIn);
		CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
			try (InputStream in = pipeIn) {
				this.store.put(key, in, -1);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		});
		Tally stored = new Tally(pipeOut);
		Tally compressed;
		Tally plain;
		try (OutputStream sealed = SealedStreams.compressing(
				compressed = new Tally(this.keys.encrypting(stored, associatedData(key)), false))) {
			plain = new Tally(sealed, false);
			content.writeTo(plain);
		}
		catch (Exception ex) {
			// the uploader sees the pipe end early and fails: a half object is never taken for a whole one
			pipeOut.close();
			if (upload.isCompletedExceptionally()) {
				// the store failed first, and the writer only met the closed pipe: say what the store said
				RuntimeException cause = uploadFailure(upload);
				cause.addSuppressed(ex);
				throw cause;
			}
			upload.cancel(true);
			throw ex;
		}
		try {
			upload.get();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IOException("interrupted while uploading " + key, ex);
		}
		catch (ExecutionException ex) {
			throw uploadFailure(upload);
		}
		return new Stored(plain.bytes(), compressed.bytes(), stored.bytes(), stored.sha256());
	}

	/**
	 * The plaintext of an object; reading fails with crypto/AuthenticationFailedException where it was
	 * changed, cut or made with another key. The caller closes the stream.
	 */
	public InputStream open(String key) throws IOException {
		return SealedStreams.open(this.store.get(key), this.keys, associatedData(key));
	}

	/**
	 * Like {@link #open}, with the SHA-256 of the object as stored taken while it is read: complete once the
	 * stream has been read to its end.
	 */
	public InputStream open(String key, Tally stored) throws IOException {
		InputStream teed = new TeeInputStream(this.store.get(key), stored);
		return SealedStreams.open(teed, this.keys, associatedData(key));
	}

	private static RuntimeException uploadFailure(CompletableFuture<Void> upload) {
		try {
			upload.join();
			return new IllegalStateException("the upload did not fail");
		}
		catch (java.util.concurrent.CompletionException ex) {
			Throwable cause = ex.getCause();
			return cause instanceof RuntimeException runtime ? runtime : new UncheckedIOException(new IOException(cause));
		}
	}

	private static byte[] associatedData(String key) {
		return key.getBytes(StandardCharsets.UTF_8);
	}

}
