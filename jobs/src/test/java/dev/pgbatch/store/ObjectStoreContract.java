package dev.pgbatch.store;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What every {@link ObjectStore} must do; each implementation's test extends this. */
abstract class ObjectStoreContract {

	protected final String prefix = "contract-" + System.nanoTime() + "/";

	protected abstract ObjectStore store();

	@AfterEach
	void removeWhatTheTestWrote() {
		store().list(this.prefix).forEach(object -> store().delete(object.key()));
	}

	@Test
	void anObjectThatWasCreatedCanBeReadListedAndDeleted() throws Exception {
		byte[] content = "hello, object store".getBytes(StandardCharsets.UTF_8);
		store().create(this.prefix + "a/hello.txt", new ByteArrayInputStream(content), content.length);
		store().create(this.prefix + "b.txt", new ByteArrayInputStream(new byte[0]), 0);

		try (InputStream in = store().get(this.prefix + "a/hello.txt")) {
			assertThat(in.readAllBytes()).isEqualTo(content);
		}
		assertThat(store().exists(this.prefix + "a/hello.txt")).isTrue();
		assertThat(store().list(this.prefix)).extracting(ObjectStore.StoredObject::key, ObjectStore.StoredObject::size)
			.containsExactly(org.assertj.core.groups.Tuple.tuple(this.prefix + "a/hello.txt", (long) content.length),
					org.assertj.core.groups.Tuple.tuple(this.prefix + "b.txt", 0L));
		assertThat(store().list(this.prefix)).allSatisfy(object -> assertThat(object.lastModified())
			.isBetween(java.time.Instant.now().minusSeconds(600), java.time.Instant.now().plusSeconds(600)));

		store().delete(this.prefix + "a/hello.txt");
		assertThat(store().exists(this.prefix + "a/hello.txt")).isFalse();
		assertThat(store().list(this.prefix)).extracting(ObjectStore.StoredObject::key).containsExactly(this.prefix + "b.txt");
	}

	@Test
	void aStreamOfUnknownLengthIsUploadedInPartsAndComesBackIntact() throws Exception {
		byte[] content = new byte[12 * 1024 * 1024 + 17];
		new Random(7).nextBytes(content);
		store().create(this.prefix + "large.bin", new ByteArrayInputStream(content), -1);
		try (InputStream in = store().get(this.prefix + "large.bin")) {
			assertThat(sha256(in.readAllBytes())).isEqualTo(sha256(content));
		}
	}

	@Test
	void aMissingObjectIsNotFoundAndDeletingItIsNoError() {
		assertThat(store().exists(this.prefix + "missing")).isFalse();
		assertThatThrownBy(() -> store().get(this.prefix + "missing").close()).isInstanceOf(ObjectStoreException.class)
			.hasMessageContaining(this.prefix + "missing");
		store().delete(this.prefix + "missing");
		assertThat(store().list(this.prefix + "nothing-here/")).isEmpty();
	}

	@Test
	void aKeyDeletedCanBeCreatedAgain() throws Exception {
		store().create(this.prefix + "k", new ByteArrayInputStream(new byte[] { 1 }), 1);
		store().delete(this.prefix + "k");
		store().create(this.prefix + "k", new ByteArrayInputStream(new byte[] { 2, 3 }), 2);
		try (InputStream in = store().get(this.prefix + "k")) {
			assertThat(in.readAllBytes()).containsExactly(2, 3);
		}
	}

	@Test
	void createRefusesAKeyThatHoldsAnObjectWhetherInOnePutOrInParts() throws Exception {
		store().create(this.prefix + "once", new ByteArrayInputStream(new byte[] { 1 }), 1);
		assertThatThrownBy(() -> store().create(this.prefix + "once", new ByteArrayInputStream(new byte[] { 2 }), 1))
			.isInstanceOf(ObjectStoreException.class)
			.hasMessageContaining("exists already");
		// of unknown length, larger than a part: a multipart upload, where S3Proxy ignores If-None-Match
		byte[] large = new byte[12 * 1024 * 1024 + 17];
		assertThatThrownBy(() -> store().create(this.prefix + "once", new ByteArrayInputStream(large), -1))
			.isInstanceOf(ObjectStoreException.class)
			.hasMessageContaining("exists already");
		try (InputStream in = store().get(this.prefix + "once")) {
			assertThat(in.readAllBytes()).containsExactly(1);
		}
	}

	@Test
	void aCreateWhoseStreamFailsStoresNothing() {
		for (long size : new long[] { 12 * 1024 * 1024 + 17, -1 }) {
			// 6 MiB of zeros, then every read fails
			InputStream failing = new InputStream() {
				private long left = 6 * 1024 * 1024;

				@Override
				public int read() throws java.io.IOException {
					byte[] one = new byte[1];
					return (read(one, 0, 1) < 0) ? -1 : one[0];
				}

				@Override
				public int read(byte[] buffer, int offset, int length) throws java.io.IOException {
					if (this.left <= 0) {
						throw new java.io.IOException("the source failed");
					}
					int n = (int) Math.min(length, this.left);
					java.util.Arrays.fill(buffer, offset, offset + n, (byte) 0);
					this.left -= n;
					return n;
				}
			};
			assertThatThrownBy(() -> store().create(this.prefix + "failed", failing, size)).as("size %d", size)
				.isInstanceOf(ObjectStoreException.class);
			assertThat(store().exists(this.prefix + "failed")).as("size %d", size).isFalse();
			assertThat(store().list(this.prefix)).as("size %d", size).isEmpty();
		}
	}

	private static String sha256(byte[] bytes) throws Exception {
		return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
	}

}
