package dev.pgbatch.store;

import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import dev.pgbatch.core.BackgroundThreads;
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

	static final String ABANDONED = "the content failed: the upload is abandoned";

	static final String READ_FAILED = "object store: reading %s failed: %s";

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

	/** An object whose content is all written, on its way into the store. */
	public static final class Upload {

		private final Stages stages;

		private final CompletableFuture<Void> encryption;

		private final CompletableFuture<Void> upload;

		private final CountingHashingOutputStream plain;

		private final CountingHashingOutputStream compressed;

		private final CountingHashingOutputStream stored;

		private Upload(Stages stages, CompletableFuture<Void> encryption, CompletableFuture<Void> upload, CountingHashingOutputStream plain,
				CountingHashingOutputStream compressed, CountingHashingOutputStream stored) {
			this.stages = stages;
			this.encryption = encryption;
			this.upload = upload;
			this.plain = plain;
			this.compressed = compressed;
			this.stored = stored;
		}

		/** Waits until the object is stored whole; fails, as its encryption or its upload did, if it was not. */
		public Stored await() throws IOException {
			// a failed stage stops the others: both end, and the first failure is the one to report
			CompletableFuture.allOf(this.encryption, this.upload).handle((result, failure) -> null).join();
			if (this.stages.abandoned()) {
				this.stages.<IOException>rethrowFirst(null);
			}
			return new Stored(this.plain.bytes(), this.compressed.bytes(), this.stored.bytes(), this.stored.sha256());
		}

	}

	/** Stores the content under {@code key}: {@link #start}, then {@link Upload#await}. */
	public <E extends Exception> Stored put(String key, Content<E> content) throws IOException, E {
		return start(key, content).await();
	}

	/**
	 * Starts storing the content under {@code key} and returns once the content is written, while the last
	 * of it may still be encrypted and uploaded: an object smaller than a part is uploaded only once it is
	 * whole, and the caller can make the next one meanwhile. Three threads share the work, so that two
	 * cores do: the caller's makes and compresses the content, a second encrypts, a third uploads. When the
	 * content fails, the ciphertext is never finished and the upload fails instead of completing, so a part
	 * of an object is never stored as if it were the whole.
	 */
	public <E extends Exception> Upload start(String key, Content<E> content) throws IOException, E {
		PipedInputStream uploadIn = new PipedInputStream(PIPE_BYTES);
		PipedOutputStream uploadOut = new PipedOutputStream(uploadIn);
		PipedInputStream compressedIn = new PipedInputStream(PIPE_BYTES);
		PipedOutputStream compressedOut = new PipedOutputStream(compressedIn);
		Stages stages = new Stages(compressedOut, uploadOut, compressedIn, uploadIn);
		CompletableFuture<Void> upload = stages.watched(BackgroundThreads.start("upload " + key, () -> {
			try (InputStream in = new FilterInputStream(uploadIn) {

				@Override
				public int read(byte[] buffer, int offset, int length) throws IOException {
					int n = super.read(buffer, offset, length);
					if (n < 0 && stages.abandoned()) {
						throw new IOException(ABANDONED);
					}
					return n;
				}

			}) {
				stages.recording(() -> this.store.create(key, in, -1));
			}
			return null;
		}));
		CountingHashingOutputStream stored = new CountingHashingOutputStream(uploadOut);
		CompletableFuture<Void> encryption = stages.watched(BackgroundThreads.start("encrypt " + key, () -> {
			try (InputStream in = compressedIn) {
				stages.recording(() -> {
					OutputStream encrypting = this.keys.encrypting(stored, associatedData(key));
					in.transferTo(encrypting);
					if (stages.abandoned()) {
						// a finished ciphertext would authenticate: end the upload without finishing it
						uploadOut.close();
						return;
					}
					encrypting.close();
				});
			}
			return null;
		}));
		CountingHashingOutputStream compressed = new CountingHashingOutputStream(compressedOut, false);
		CountingHashingOutputStream plain = null;
		try {
			OutputStream sealed = SealedStreams.compressing(compressed);
			plain = new CountingHashingOutputStream(sealed, false);
			content.writeTo(plain);
			// not in a try-with-resources: a failed content must be marked abandoned before its end is written
			sealed.close();
		}
		catch (Throwable ex) {
			stages.failed(ex);
			stages.<E>rethrowFirst(ex);
		}
		return new Upload(stages, encryption, upload, plain, compressed, stored);
	}

	/**
	 * The three stages of one object. The first failure of any, an Error too, is the one reported: it marks
	 * the object abandoned and closes every pipe, so the other stages, blocked on a pipe, fail within the
	 * pipes' one-second poll instead of waiting for ever for a reader or a writer that is gone.
	 */
	private static final class Stages {

		private final AtomicReference<Throwable> first = new AtomicReference<>();

		private final List<Closeable> pipes;

		/** The pipes' writing ends first: a reader then meets their end, and sees that it is abandoned. */
		Stages(Closeable... pipes) {
			this.pipes = List.of(pipes);
		}

		boolean abandoned() {
			return this.first.get() != null;
		}

		void failed(Throwable failure) {
			if (this.first.compareAndSet(null, failure)) {
				for (Closeable pipe : this.pipes) {
					try {
						pipe.close();
					}
					catch (IOException ignored) {
						// closing is how the other stages are stopped; one already closed is fine
					}
				}
			}
		}

		/**
		 * Runs a stage's work, its failure recorded before the stage's own pipe closes behind it: the stage at the
		 * pipe's other end then fails on a closed pipe only after, and is not taken for the first.
		 */
		void recording(Work work) throws IOException {
			try {
				work.run();
			}
			catch (IOException | RuntimeException | Error ex) {
				failed(ex);
				throw ex;
			}
		}

		interface Work {

			void run() throws IOException;

		}

		/** The stage, its failure recorded before anyone waiting for it can see it. */
		<T> CompletableFuture<T> watched(CompletableFuture<T> stage) {
			return stage.whenComplete((result, failure) -> {
				if (failure != null) {
					failed(BackgroundThreads.thrown(failure));
				}
			});
		}

		/**
		 * Throws the first failure, with what this thread met (if anything: null when it only waited), when
		 * that is another (a pipe a failed stage closed), suppressed.
		 */
		@SuppressWarnings("unchecked")
		<E extends Exception> void rethrowFirst(Throwable met) throws IOException, E {
			Throwable failure = this.first.get();
			if (met != null && met != failure) {
				failure.addSuppressed(met);
			}
			BackgroundThreads.throwIfIoOrUnchecked(failure);
			// the content's own exception: no other checked one reaches here
			throw (E) failure;
		}

	}

	/**
	 * The plaintext of an object; reading fails with crypto/AuthenticationFailedException where it was
	 * changed, cut or made with another key. The caller closes the stream.
	 */
	public InputStream open(String key) throws IOException {
		return SealedStreams.open(read(key), this.keys, associatedData(key));
	}

	/**
	 * Like {@link #open}, with the SHA-256 of the object as stored taken while it is read: complete once the
	 * stream has been read to its end.
	 */
	public InputStream open(String key, CountingHashingOutputStream stored) throws IOException {
		InputStream teed = new TeeInputStream(read(key), stored);
		return SealedStreams.open(teed, this.keys, associatedData(key));
	}

	/**
	 * The stored object, its read failures (a connection reset) saying that the object store failed, so that
	 * they are never taken for a failed authentication. The underlying error is suppressed, not the cause:
	 * the command line reports the deepest cause, which would hide which object and what failed.
	 */
	private InputStream read(String key) {
		return new FilterInputStream(this.store.get(key)) {

			@Override
			public int read() throws IOException {
				try {
					return super.read();
				}
				catch (IOException ex) {
					throw failed(key, ex);
				}
			}

			@Override
			public int read(byte[] buffer, int offset, int length) throws IOException {
				try {
					return super.read(buffer, offset, length);
				}
				catch (IOException ex) {
					throw failed(key, ex);
				}
			}

		};
	}

	private static IOException failed(String key, IOException ex) {
		IOException failure = new IOException(String.format(READ_FAILED, key, ex.getMessage()));
		failure.addSuppressed(ex);
		return failure;
	}

	private static byte[] associatedData(String key) {
		return key.getBytes(StandardCharsets.UTF_8);
	}

}
