package dev.pgbatch.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.SealedStreams;
import dev.pgbatch.store.ObjectStore;
import org.postgresql.PGConnection;

/**
 * One partition to one object: COPY out, counted and hashed as exported, zstd, encryption, streamed to the
 * object store in parts while PostgreSQL still writes (a pipe between this thread and the uploader), then
 * read back whole and checked. Nothing touches the disk and memory stays flat whatever the partition's size.
 */
final class PartitionExport {

	static final String MISMATCH = "%s: the stored object does not match what was exported (%d rows, sha256 %s; read back: %d rows, sha256 %s); the partition is kept";

	private static final int PIPE_BYTES = 1 << 20;

	private final ObjectStore store;

	private final Keyset keys;

	PartitionExport(ObjectStore store, Keyset keys) {
		this.store = store;
		this.keys = keys;
	}

	/** What an export wrote: the rows as exported and the object as stored. */
	record Exported(long rows, String rowsSha256, long objectBytes, String objectSha256) {
	}

	Exported export(Connection connection, String qualifiedPartition, String objectKey) throws IOException, SQLException {
		PipedInputStream pipeIn = new PipedInputStream(PIPE_BYTES);
		PipedOutputStream pipeOut = new PipedOutputStream(pipeIn);
		CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
			try (InputStream in = pipeIn) {
				this.store.put(objectKey, in, -1);
			}
			catch (IOException ex) {
				throw new java.io.UncheckedIOException(ex);
			}
		});
		RowDigest stored = new RowDigest(pipeOut);
		RowDigest rows;
		boolean written = false;
		try (OutputStream sealed = SealedStreams.seal(stored, this.keys, associatedData(objectKey))) {
			rows = new RowDigest(sealed);
			connection.unwrap(PGConnection.class)
				.getCopyAPI()
				.copyOut("COPY (SELECT * FROM " + qualifiedPartition + ") TO STDOUT", rows);
			written = true;
		}
		finally {
			if (!written) {
				// the uploader sees the pipe end early and fails: a half object is never taken for a whole one
				pipeOut.close();
				upload.cancel(true);
			}
		}
		try {
			upload.get();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IOException("interrupted while uploading " + objectKey, ex);
		}
		catch (ExecutionException ex) {
			if (ex.getCause() instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new IOException(ex.getCause());
		}
		return new Exported(rows.rows(), rows.sha256(), stored.bytes(), stored.sha256());
	}

	/** Reads the object back, authenticates and counts it; an object that differs from the export is an error. */
	void verify(String objectKey, Exported exported) throws IOException {
		RowDigest read = new RowDigest(OutputStream.nullOutputStream());
		try (InputStream in = SealedStreams.open(this.store.get(objectKey), this.keys, associatedData(objectKey))) {
			in.transferTo(read);
		}
		if (read.rows() != exported.rows() || !read.sha256().equals(exported.rowsSha256())) {
			throw new IOException(String.format(MISMATCH, objectKey, exported.rows(), exported.rowsSha256(), read.rows(),
					read.sha256()));
		}
	}

	static byte[] associatedData(String objectKey) {
		return objectKey.getBytes(StandardCharsets.UTF_8);
	}

}
