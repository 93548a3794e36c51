package dev.pgbatch.backup;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where pgBackRest is, and where it finds the cluster of ETL_DB_URL and its repository.
 *
 * @param bin ETL_PGBACKREST_BIN: the pgbackrest executable, an absolute path
 * @param config ETL_PGBACKREST_CONFIG: pgBackRest's configuration file; empty: pgBackRest's own default
 * (PGBACKREST_CONFIG, else /etc/pgbackrest/pgbackrest.conf)
 * @param stanza ETL_PGBACKREST_STANZA: the stanza of that cluster
 * @param retentionFull ETL_PGBACKREST_RETENTION_FULL: full backups (with the sets that depend on them) kept by a
 * physical backup's retention
 * @param lockWait ETL_PGBACKREST_LOCK_WAIT: how long a physical backup waits for one of the stanza that runs already
 * (a killed runner's pgbackrest) to end, and verify and drill for a physical run of the backup job or a backup of
 * the stanza, and a drill or restore --to for a physical backup's retention to let go of the restore lock
 * @param drillDir ETL_PGBACKREST_DRILL_DIR: where backup drill makes its scratch clusters
 */
@ConfigurationProperties("etl.pgbackrest")
record PgBackRestProperties(String bin, String config, String stanza, long retentionFull, Duration lockWait,
		String drillDir) {
}
