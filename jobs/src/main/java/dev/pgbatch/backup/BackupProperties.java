package dev.pgbatch.backup;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of backup and its commands.
 *
 * @param prefix ETL_BACKUP_PREFIX: where backups go in the bucket, one folder per backup
 * @param pgBin ETL_PG_BIN: the directory of pg_dump and pg_restore; empty: /usr/lib/postgresql/MAJOR/bin
 * for the server's major version when it exists (Debian's layout), else the PATH
 */
@ConfigurationProperties("etl.backup")
record BackupProperties(String prefix, String pgBin) {
}
