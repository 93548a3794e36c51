package dev.pgbatch.backup;

import java.util.Map;

/**
 * What a backup holds, stored beside it as JSON ({@code PREFIX/SERVER/DATABASE/ID/manifest.json}), written
 * last: a backup is complete when its manifest exists. Row counts are taken in the snapshot pg_dump dumps.
 * {@code server} is the cluster's system identifier.
 */
public record BackupManifest(String id, String server, String database, String serverVersion, String pgDumpVersion, String startedAt,
		String endedAt, long dumpBytes, long compressedBytes, long storedBytes, String storedSha256, int keyId,
		String objectKey, String format, Map<String, Long> rowCounts) {

	static final String FORMAT = "pg_dump custom format without compression, zstd, Tink streaming AEAD AES256-GCM-HKDF (associated data: the object key)";

}
