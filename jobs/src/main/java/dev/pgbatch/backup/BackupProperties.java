package dev.pgbatch.backup;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of backup and its commands.
 *
 * @param prefix ETL_BACKUP_PREFIX: where backups go in the bucket, one folder per backup
 * @param pgBin ETL_PG_BIN: the directory of pg_dump and pg_restore; empty: /usr/lib/postgresql/MAJOR/bin
 * for the server's major version when it exists (Debian's layout), else the PATH
 * @param abandonedAfter ETL_BACKUP_ABANDONED_AFTER: a backup folder without a manifest is removed by
 * retention only once the store wrote it this long before the manifest of the backup the run made (the
 * store's clock only), so an upload another runner is still finishing is never taken for abandoned
 * @param serverName ETL_BACKUP_SERVER_NAME: the server's folder in the backups' keys, and the set of backups
 * its retention counts; empty: the cluster's system identifier, which clusters cloned from one another
 * (pg_basebackup, a restored volume snapshot) share, so each of them needs a name of its own
 * @param pointLockTimeout ETL_BACKUP_POINT_LOCK_TIMEOUT: how long a restore point waits for a write under way on a
 * managed table (its SHARE locks wait for it, and writes that come later wait for the point) before it fails
 */
@ConfigurationProperties("etl.backup")
record BackupProperties(String prefix, String pgBin, Duration abandonedAfter, String serverName, Duration pointLockTimeout) {
}
