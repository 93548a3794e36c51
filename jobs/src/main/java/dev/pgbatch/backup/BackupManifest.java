package dev.pgbatch.backup;

import java.util.Map;

/**
 * What a backup holds, stored beside it as JSON ({@code PREFIX/SERVER/DATABASE/ID/manifest.json}), written
 * last: a backup is complete when its manifest exists. Row counts are taken in the snapshot pg_dump dumps.
 * {@code server} is the folder's server name (ETL_BACKUP_SERVER_NAME, or else the system identifier);
 * {@code systemIdentifier} the cluster's own (pg_control_system()), which retention matches too, since two
 * clusters may be given one server name; null in manifests written before it was recorded.
 */
public record BackupManifest(String id, String server, String systemIdentifier, String database, String serverVersion, String pgDumpVersion, String startedAt,
		String endedAt, long dumpBytes, long compressedBytes, long storedBytes, String storedSha256, int keyId,
		String objectKey, String format, Map<String, Long> rowCounts) {

	static final String FORMAT = "pg_dump custom format without compression, zstd, Tink streaming AEAD AES256-GCM-HKDF (associated data: the object key)";

}
