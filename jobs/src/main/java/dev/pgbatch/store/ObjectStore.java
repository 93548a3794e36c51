package dev.pgbatch.store;

import java.io.InputStream;
import java.util.List;

/**
 * The object store that backups and cold archives go to: MinIO (or any S3-API server) in production,
 * the stack's S3Proxy here. Kept small on purpose, like WAL-G's storage interface; every implementation
 * passes the same contract test. Keys are '/'-separated paths inside one bucket.
 */
public interface ObjectStore {

	/**
	 * Stores a new object, never onto a key that holds one: that is refused with an {@link ObjectStoreException}.
	 * There is no overwriting put, so nothing stored is ever replaced. A stream of unknown length ({@code size}
	 * -1) is uploaded in parts, so it never has to fit in memory or on disk.
	 */
	void create(String key, InputStream content, long size);

	/** Reads an object; the caller closes the stream. Fails with {@link ObjectStoreException} if it is missing. */
	InputStream get(String key);

	/** Whether an object exists. */
	boolean exists(String key);

	/** The keys under a prefix, in lexical order, with their sizes and the store's last-modified times. */
	List<StoredObject> list(String prefix);

	/** Removes an object; removing a missing object is not an error. */
	void delete(String key);

	/**
	 * A stored object's key, size in bytes, and when the store wrote it, by the store's own clock (the one
	 * clock every runner sharing the bucket sees alike).
	 */
	record StoredObject(String key, long size, java.time.Instant lastModified) {
	}

}
