package dev.pgbatch.crypto;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.UsageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeysetTests {

	private static final byte[] NAME = "archive/ops.task_executions/p2025_01".getBytes(StandardCharsets.UTF_8);

	@TempDir
	Path directory;

	/** Three and a half megabytes, half of it compressible: several 1 MB segments. */
	private static byte[] data() {
		byte[] data = new byte[3_500_000];
		SplittableRandom random = new SplittableRandom(7);
		for (int i = 0; i < data.length; i++) {
			data[i] = (i < data.length / 2) ? (byte) random.nextInt(256) : (byte) ('a' + i % 26);
		}
		return data;
	}

	private static byte[] seal(Keyset keys, byte[] plain, byte[] name) throws IOException {
		ByteArrayOutputStream sealed = new ByteArrayOutputStream();
		try (OutputStream out = SealedStreams.seal(sealed, keys, name)) {
			out.write(plain);
		}
		return sealed.toByteArray();
	}

	private static byte[] open(Keyset keys, byte[] sealed, byte[] name) throws IOException {
		try (InputStream in = SealedStreams.open(new ByteArrayInputStream(sealed), keys, name)) {
			return in.readAllBytes();
		}
	}

	@Test
	void initWritesAKeysetOnlyItsOwnerCanReadAndNeverOverwritesOne() throws Exception {
		Path file = this.directory.resolve("keys/keyset.json");
		Keyset.init(file);
		assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
		String written = Files.readString(file);

		assertThatThrownBy(() -> Keyset.init(file)).isInstanceOf(RefusedException.class)
			.hasMessageContaining("already holds a keyset");
		assertThat(Files.readString(file)).isEqualTo(written);
	}

	@Test
	void sealedDataOpensToTheSameBytesAndIsCompressed() throws Exception {
		Keyset keys = Keyset.init(this.directory.resolve("keyset.json"));
		byte[] plain = data();
		byte[] sealed = seal(keys, plain, NAME);
		assertThat(sealed.length).isLessThan(plain.length * 3 / 4);
		assertThat(open(keys, sealed, NAME)).isEqualTo(plain);
	}

	@Test
	void aFlippedByteACutTailAnotherKeyOrAnotherNameFailAuthentication() throws Exception {
		Keyset keys = Keyset.init(this.directory.resolve("keyset.json"));
		byte[] sealed = seal(keys, data(), NAME);

		byte[] flipped = sealed.clone();
		flipped[flipped.length / 2] ^= 0x01;
		assertThatThrownBy(() -> open(keys, flipped, NAME)).isInstanceOf(AuthenticationFailedException.class);
		assertThatThrownBy(() -> open(keys, Arrays.copyOf(sealed, sealed.length - 100), NAME))
			.isInstanceOf(AuthenticationFailedException.class);
		Keyset other = Keyset.init(this.directory.resolve("other.json"));
		assertThatThrownBy(() -> open(other, sealed, NAME)).isInstanceOf(AuthenticationFailedException.class)
			.hasMessage(AuthenticationFailedException.MESSAGE);
		assertThatThrownBy(() -> open(keys, sealed, "another object".getBytes(StandardCharsets.UTF_8)))
			.isInstanceOf(AuthenticationFailedException.class);
	}

	@Test
	void anotherKeysetIsReportedAsAFailedAuthenticationDownToItsDeepestCause() throws Exception {
		byte[] sealed = seal(Keyset.init(this.directory.resolve("keyset.json")), data(), NAME);
		Keyset other = Keyset.init(this.directory.resolve("other.json"));

		// the command line prints the deepest cause's message: it must not be Tink's "No matching key found"
		assertThatThrownBy(() -> open(other, sealed, NAME)).satisfies(ex -> {
			Throwable deepest = ex;
			while (deepest.getCause() != null) {
				deepest = deepest.getCause();
			}
			assertThat(deepest).hasMessage(AuthenticationFailedException.MESSAGE);
		});
	}

	@Test
	void aFailureOfTheCiphertextsSourceIsReportedAsItWasNotAsAFailedAuthentication() throws Exception {
		Keyset keys = Keyset.init(this.directory.resolve("keyset.json"));
		byte[] sealed = seal(keys, data(), NAME);

		for (int failAt : new int[] { 0, sealed.length / 2 }) {
			InputStream source = new InputStream() {

				private int position;

				@Override
				public int read() throws IOException {
					byte[] one = new byte[1];
					return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
				}

				@Override
				public int read(byte[] buffer, int offset, int length) throws IOException {
					if (this.position >= failAt) {
						throw new IOException("connection reset");
					}
					int n = Math.min(length, failAt - this.position);
					System.arraycopy(sealed, this.position, buffer, offset, n);
					this.position += n;
					return n;
				}

			};
			assertThatThrownBy(() -> {
				try (InputStream in = SealedStreams.open(source, keys, NAME)) {
					in.readAllBytes();
				}
			}).as("failing at byte %d", failAt).isNotInstanceOf(AuthenticationFailedException.class).hasMessage("connection reset");
		}
	}

	@Test
	void afterRotationNewDataUsesTheNewKeyAndOldDataStillOpens() throws Exception {
		Path file = this.directory.resolve("keyset.json");
		Keyset before = Keyset.init(file);
		byte[] plain = data();
		byte[] sealedBefore = seal(before, plain, NAME);

		Keyset rotated = Keyset.rotate(file);

		assertThat(rotated.primaryKeyId()).isNotEqualTo(before.primaryKeyId());
		assertThat(Keyset.load(file).size()).isEqualTo(2);
		assertThat(Keyset.load(file).primaryKeyId()).isEqualTo(rotated.primaryKeyId());
		assertThat(open(Keyset.load(file), sealedBefore, NAME)).isEqualTo(plain);
		assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
	}

	@Test
	void rotationsAtTheSameTimeEachAddTheirKey() throws Exception {
		Path file = this.directory.resolve("keyset.json");
		Keyset.init(file);
		int threads = 6;
		int rotations = 4;
		java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
		try {
			java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
			List<java.util.concurrent.Future<?>> running = new java.util.ArrayList<>();
			for (int t = 0; t < threads; t++) {
				running.add(pool.submit(() -> {
					start.await();
					for (int r = 0; r < rotations; r++) {
						Keyset.rotate(file);
					}
					return null;
				}));
			}
			start.countDown();
			for (java.util.concurrent.Future<?> each : running) {
				each.get(1, java.util.concurrent.TimeUnit.MINUTES);
			}
		}
		finally {
			pool.shutdownNow();
		}
		assertThat(Keyset.load(file).size()).isEqualTo(1 + threads * rotations);
		assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
	}

	@Test
	void aKeysetOthersMayOpenIsRefusedAsBadUsageNamingTheFileAndTheCure() throws Exception {
		Path file = this.directory.resolve("keys/keyset.json");
		Keyset.init(file);
		assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
		for (String mode : List.of("rw-r-----", "rw----r--", "rw-----w-")) {
			Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
			assertThatThrownBy(() -> Keyset.load(file)).as(mode)
				.isInstanceOf(UsageException.class)
				.hasMessage(file + " is open to other users (mode " + mode + "): a keyset must be readable by its owner"
						+ " only; run chmod 600 " + file);
			assertThatThrownBy(() -> Keyset.rotate(file)).as(mode).isInstanceOf(UsageException.class);
		}
		Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
		assertThat(Keyset.load(file).size()).isEqualTo(1);
	}

	@Test
	void aMissingOrBrokenKeysetIsRefusedWithoutShowingWhatTheFileHolds() throws Exception {
		Path missing = this.directory.resolve("none.json");
		// (the first advice is to bring the safe copy back: a new keyset reads no earlier backup)
		assertThatThrownBy(() -> Keyset.load(missing)).isInstanceOf(RefusedException.class)
			.hasMessage(Keyset.MISSING.formatted(missing))
			.hasMessageContaining("bring its safe copy back there");
		Path broken = this.directory.resolve("broken.json");
		Files.writeString(broken, "{\"primaryKeyId\": 1, \"key\": [{\"keyData\": {\"value\": \"c2VjcmV0LWtleS1ieXRlcw==\"}}]}");
		Files.setPosixFilePermissions(broken, PosixFilePermissions.fromString("rw-------"));
		assertThatThrownBy(() -> Keyset.load(broken)).isInstanceOf(RefusedException.class)
			.hasMessageContaining("not a usable keyset")
			.hasMessageNotContaining("c2VjcmV0");
	}

}
