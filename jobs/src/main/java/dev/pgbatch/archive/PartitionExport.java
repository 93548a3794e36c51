package dev.pgbatch.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;

import dev.pgbatch.store.SealedObjects;
import org.postgresql.PGConnection;

/**
 * One partition to one sealed object (store/SealedObjects): COPY out, counted and hashed as exported,
 * streamed to the object store while PostgreSQL still writes, then read back whole and checked. Starting
 * an export returns once the rows are read, so the caller can read the next partition while this one's
 * object is uploaded and verified.
 */
final class PartitionExport {

	static final String SHORT = "%s: %d rows reached the object of the %d PostgreSQL copied; the partition is kept";

	static final String MISMATCH = "%s: the stored object does not match what was exported (%d rows, sha256 %s; read back: %d rows, sha256 %s); the partition is kept";

	private final SealedObjects objects;

	PartitionExport(SealedObjects objects) {
		this.objects = objects;
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

	/** Reads the object back, authenticates and counts it; an object that differs from the export is an error. */
	void verify(String objectKey, Exported exported) throws IOException {
		RowDigest read = new RowDigest(OutputStream.nullOutputStream());
		try (InputStream in = this.objects.open(objectKey)) {
			in.transferTo(read);
		}
		if (read.rows() != exported.rows() || !read.sha256().equals(exported.rowsSha256())) {
			throw new IOException(String.format(MISMATCH, objectKey, exported.rows(), exported.rowsSha256(), read.rows(),
					read.sha256()));
		}
	}

}
