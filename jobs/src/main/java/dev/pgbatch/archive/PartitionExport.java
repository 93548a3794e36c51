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
 * streamed to the object store while PostgreSQL still writes, then read back whole and checked.
 */
final class PartitionExport {

	static final String MISMATCH = "%s: the stored object does not match what was exported (%d rows, sha256 %s; read back: %d rows, sha256 %s); the partition is kept";

	private final SealedObjects objects;

	PartitionExport(SealedObjects objects) {
		this.objects = objects;
	}

	/** What an export wrote: the rows as exported and the object as stored. */
	record Exported(long rows, String rowsSha256, long objectBytes, String objectSha256) {
	}

	Exported export(Connection connection, String qualifiedPartition, String objectKey) throws IOException, SQLException {
		RowDigest[] rows = new RowDigest[1];
		SealedObjects.Stored stored = this.objects.put(objectKey, plaintext -> {
			rows[0] = new RowDigest(plaintext);
			connection.unwrap(PGConnection.class)
				.getCopyAPI()
				.copyOut("COPY (SELECT * FROM " + qualifiedPartition + ") TO STDOUT", rows[0]);
		});
		return new Exported(rows[0].rows(), rows[0].sha256(), stored.storedBytes(), stored.storedSha256());
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
