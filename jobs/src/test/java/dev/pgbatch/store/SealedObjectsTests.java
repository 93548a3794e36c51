package dev.pgbatch.store;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;

import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.SealedStreams;
import dev.pgbatch.crypto.TestKeysets;

import org.junit.jupiter.api.Test;
import org.mockito.MockedStatic;
import org.mockito.Mockito;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.mockito.ArgumentMatchers.any;

/**
 * An Error in a sealed object's middle stages (compression on the caller's thread, encryption on its own):
 * the put throws it, within bounded time, nothing is stored, and the object's threads end. The content's and
 * the upload's own Errors are in MinioObjectStoreIntegrationTests. Only the failing stream is made up (a
 * spied keyset, a stubbed static); the store keeps the real store's contract (InMemoryObjectStoreTests).
 */
class SealedObjectsTests {

	/** Past the pipes' 1 MiB, so every stage has started and holds part of the object when the Error comes. */
	private static final int FAIL_AFTER = 3 << 20;

	private final InMemoryObjectStore store = new InMemoryObjectStore(Clock.systemUTC());

	private final Keyset keys = Keyset.load(TestKeysets.fresh());

	@Test
	void anErrorInTheEncryptionIsWhatThePutThrowsAndNothingIsStored() throws IOException {
		OutOfMemoryError error = new OutOfMemoryError("no memory for a ciphertext segment");
		Keyset failing = Mockito.spy(this.keys);
		Mockito.doAnswer(call -> failingAfter((OutputStream) call.callRealMethod(), error))
			.when(failing)
			.encrypting(any(), any());
		String key = "sealed/encrypt-error";

		assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(() -> put(failing, key)).isSameAs(error));

		assertNothingLeftOf(key);
	}

	@Test
	void anErrorInTheCompressionIsWhatThePutThrowsAndNothingIsStored() {
		AssertionError error = new AssertionError("a broken compressor");
		String key = "sealed/compress-error";

		// on this thread, which lives on: the encryption, reading what it compresses, never sees its writer end
		try (MockedStatic<SealedStreams> streams = Mockito.mockStatic(SealedStreams.class, Mockito.CALLS_REAL_METHODS)) {
			streams.when(() -> SealedStreams.compressing(any()))
				.thenAnswer(call -> failingAfter((OutputStream) call.callRealMethod(), error));
			assertThatThrownBy(() -> put(this.keys, key)).isSameAs(error);
		}

		assertNothingLeftOf(key);
	}

	/** Eight MiB of incompressible content, so the compressed stream is as long as the plaintext. */
	private void put(Keyset keys, String key) throws IOException {
		Random random = new Random(7);
		byte[] block = new byte[1 << 20];
		new SealedObjects(this.store, keys).put(key, out -> {
			for (int i = 0; i < 8; i++) {
				// a new block each time: a repeated one is compressed away within zstd's window
				random.nextBytes(block);
				out.write(block);
			}
		});
	}

	private void assertNothingLeftOf(String key) {
		await().atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(100))
			.untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
				.as("threads of the object still alive")
				.noneMatch(thread -> thread.getName().endsWith(" " + key)));
		assertThat(this.store.list("")).as("objects stored").isEmpty();
	}

	/** {@code out}, which throws {@code error} once {@link #FAIL_AFTER} bytes have been written into it. */
	private static OutputStream failingAfter(OutputStream out, Error error) {
		return new FilterOutputStream(out) {

			private long written;

			@Override
			public void write(byte[] bytes, int offset, int length) throws IOException {
				this.written += length;
				if (this.written > FAIL_AFTER) {
					throw error;
				}
				this.out.write(bytes, offset, length);
			}

		};
	}

}
