package dev.pgbatch.archive;

import java.util.List;

/**
 * What a cold export holds, stored beside it as JSON: enough to verify it and to re-create the partition
 * without the database that made it.
 */
record Manifest(String table, String partition, String rangeStart, String rangeEnd, long rows, String rowsSha256,
		String objectKey, long objectBytes, String objectSha256, int keyId, List<String> columns, String partitionBound,
		String format, String exportedAt) {

	static final String FORMAT = "PostgreSQL COPY text, zstd, Tink streaming AEAD AES256-GCM-HKDF (associated data: the object key)";

}
