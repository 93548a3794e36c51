package dev.pgbatch.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;

import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.ObjectStoreException;
import dev.pgbatch.store.SealedJson;
import dev.pgbatch.store.SealedObjects;
import dev.pgbatch.store.CountingHashingOutputStream;
import org.postgresql.PGConnection;

/**
 * One partition to one sealed object (store/SealedObjects): COPY out, counted and hashed as exported,
 * streamed to the object store while PostgreSQL still writes; then its manifest is stored beside it, and
 * both are read back whole, authenticated and checked against what was exported. Starting an export
 * returns once the rows are read, so the caller can read the next partition while this one's object is
 * uploaded and verified.
 */
final class PartitionExport {

	static final String SHORT = "%s: %d rows reached the object of the %d PostgreSQL copied; the partition is kept";

	static final String MISMATCH = "%s: the stored object does not match what was exported (%d rows, sha256 %s; read back: %d rows, sha256 %s); the partition is kept";

	static final String STORED_MISMATCH = "%s: the stored object is not the one uploaded (%d bytes, sha256 %s; read back: %d bytes, sha256 %s); the partition is kept";

	static final String MANIFEST_READ_BACK = "%s: the manifest read back is not the one written (%s); the partition is kept";

	private final SealedObjects objects;

	private final SealedJson manifests;

	PartitionExport(ObjectStore store, Keyset keys) {
		this.objects = new SealedObjects(store, keys);
		this.manifests = new SealedJson(store, keys);
	}

	/** What an export wrote: the rows as exported and the object as stored. */
	record Exported(long rows, String rowsSha256, long objectBytes, String objectSha256) {
	}

	/** An export whose rows are all read, while its object may still be on its way into the store. */
	record Started(String objectKey, long copiedRows, RowDigest rows, SealedObjects.Upload upload) {

		/**
		 * Waits until the object is stored; fails if it was not, or if the rows counted in it are not those
		 * PostgreSQL reported copying.
		 */
		Exported await() throws IOException {
			SealedObjects.Stored stored = this.upload.await();
			if (this.rows.rows() != this.copiedRows) {
				throw new IOException(String.format(SHORT, this.objectKey, this.rows.rows(), this.copiedRows));
			}
			return new Exported(this.rows.rows(), this.rows.sha256(), stored.storedBytes(), stored.storedSha256());
		}

	}

	/** COPYs the partition out on {@code connection}; returns once PostgreSQL has sent every row. */
	Started start(Connection connection, String qualifiedPartition, String objectKey) throws IOException, SQLException {
		RowDigest[] rows = new RowDigest[1];
		long[] copied = new long[1];
		SealedObjects.Upload upload = this.objects.start(objectKey, plaintext -> {
			rows[0] = new RowDigest(plaintext);
			copied[0] = connection.unwrap(PGConnection.class)
				.getCopyAPI()
				.copyOut("COPY (SELECT * FROM " + qualifiedPartition + ") TO STDOUT", rows[0]);
		});
		return new Started(objectKey, copied[0], rows[0], upload);
	}

	/**
	 * Stores the export's manifest beside its object, then reads both back: the manifest must authenticate
	 * and be exactly the one written, and the object must authenticate and match it (size and SHA-256 as
	 * stored, rows and their SHA-256). A store that lost or changed either one fails the export: the
	 * partition is dropped only after this, so a restore will find what it needs.
	 */
	void seal(Manifest manifest) throws IOException {
		String key = ColdObjectKeys.manifestOf(manifest.objectKey());
		this.manifests.put(key, manifest);
		Manifest read;
		try {
			read = this.manifests.get(key, Manifest.class);
		}
		catch (IOException | ObjectStoreException ex) {
			throw new IOException(String.format(MANIFEST_READ_BACK, key, ex.getMessage()), ex);
		}
		if (!read.equals(manifest)) {
			throw new IOException(String.format(MANIFEST_READ_BACK, key, "it differs"));
		}
		verify(read);
	}

	/** Reads the object back, authenticates and counts it; an object that differs from its manifest is an error. */
	private void verify(Manifest manifest) throws IOException {
		RowDigest read = new RowDigest(OutputStream.nullOutputStream());
		CountingHashingOutputStream stored = new CountingHashingOutputStream(OutputStream.nullOutputStream());
		try (InputStream in = this.objects.open(manifest.objectKey(), stored)) {
			in.transferTo(read);
		}
		if (stored.bytes() != manifest.objectBytes() || !stored.sha256().equals(manifest.objectSha256())) {
			throw new IOException(String.format(STORED_MISMATCH, manifest.objectKey(), manifest.objectBytes(),
					manifest.objectSha256(), stored.bytes(), stored.sha256()));
		}
		if (read.rows() != manifest.rows() || !read.sha256().equals(manifest.rowsSha256())) {
			throw new IOException(String.format(MISMATCH, manifest.objectKey(), manifest.rows(), manifest.rowsSha256(),
					read.rows(), read.sha256()));
		}
	}

}
