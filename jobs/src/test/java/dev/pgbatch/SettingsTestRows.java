package dev.pgbatch;

import java.util.Map;

import dev.pgbatch.partition.TestPolicies;

/** Bad values of every setting, shared by the settings' unit test and the command line's hostile-input table. */
public final class SettingsTestRows {

	/** Every setting with values it must refuse; SettingsTests#everySettingOfApplicationPropertiesIsCheckedAndHasABadValueRow keeps it complete. */
	public static final Map<String, String[]> BAD_VALUES = Map.ofEntries(
			Map.entry("ETL_DB_URL", new String[] { "postgres://h/db", "jdbc:mysql://h/db", "jdbc:postgresql://h:99999999/db" }),
			Map.entry("ETL_DB_USER", new String[] { "", "pg\nbatch" }),
			Map.entry("ETL_DB_PASSWORD", new String[] { "secret\nline" }),
			Map.entry("ETL_DB_PASSWORD_FILE", new String[] { "/no/such/file", "/" }),
			Map.entry("ETL_PARTITION_LOCK_TIMEOUT", new String[] { "0", "0s", "2h", "soon" }),
			Map.entry("ETL_PARTITION_LOCK_TRIES", new String[] { "0", "1001", "six" }),
			Map.entry("ETL_PARTITION_LOCK_WAIT", new String[] { "0", "0s", "-1s", "25h", "later" }),
			Map.entry("ETL_LOCK_CHECK_INTERVAL", new String[] { "0", "10ms", "2h", "often" }),
			Map.entry("ETL_NIGHTLY_WAIT_FOR_RUNNING", new String[] { "-1s", "25h", "a while" }),
			Map.entry("ETL_NIGHTLY_RESTORE_POINT", new String[] { "yes", "1" }),
			Map.entry("ETL_BACKUP_ABANDONED_AFTER", new String[] { "0", "5m", "400d", "old" }),
			Map.entry("ETL_STACK_DIR", new String[] { "", "st\nack" }),
			Map.entry("ETL_S3_SECRET_KEY_FILE", new String[] { "/no/such/file", "/" }),
			Map.entry("ETL_SEARCH_USER", new String[] { "", "mcp\nuser" }),
			Map.entry("ETL_SEARCH_PASSWORD", new String[] { "pass\nword" }),
			Map.entry("ETL_SEARCH_PASSWORD_FILE", new String[] { "/no/such/file", "/" }),
			Map.entry("ETL_DB_POOL_SIZE", new String[] { "0", "1", "-3", "six", "" }),
			Map.entry("ETL_DB_MIGRATE", new String[] { "yes", "TRUE ", "" }),
			Map.entry("ETL_LOG_LEVEL", new String[] { "LOUD", "" }),
			Map.entry("ETL_SEED_CHUNK_ROWS", new String[] { "0", "2000000", "1e3" }),
			Map.entry("ETL_SEED_AUDIT", new String[] { "yes", "1" }),
			Map.entry("ETL_S3_ENDPOINT", new String[] { "127.0.0.1:9000", "ftp://h", "http://h/bucket", "http://" }),
			Map.entry("ETL_S3_ACCESS_KEY", new String[] { "", "ab", "a\tb" }),
			Map.entry("ETL_S3_SECRET_KEY", new String[] { "s3cr\net" }),
			Map.entry("ETL_S3_BUCKET", new String[] { "My_Bucket", "ab", "", "a/b" }),
			Map.entry("ETL_S3_REGION", new String[] { "", "US East", "us-east-1\n" }),
			Map.entry("ETL_S3_PART_SIZE", new String[] { "1024", "0", "6000000000", "16MB" }),
			Map.entry("ETL_EMBED_TEMPLATE", new String[] { "{nope}", "no fields at all" }),
			Map.entry("ETL_EMBED_BULK_LOAD_ROWS", new String[] { "0", "-1", "many" }),
			Map.entry("ETL_EMBED_INDEX_MEMORY_MAX", new String[] { "0", "12KB", "3TB", "eight" }),
			Map.entry("OPENAI_API_KEY", new String[] { "sk-\n1" }),
			Map.entry("ETL_OPENAI_BASE_URL", new String[] { "api.openai.com/v1", "file:///etc/passwd", "" }),
			Map.entry("ETL_OPENAI_REQUEST_TOKENS", new String[] { "0", "20000000", "lots" }),
			Map.entry("ETL_OPENAI_RETRIES", new String[] { "-1", "101", "x" }),
			Map.entry("ETL_OPENAI_TIMEOUT", new String[] { "0s", "-5s", "2h", "soon", "500us" }),
			Map.entry("ETL_OPENAI_MAX_BACKOFF", new String[] { "0", "2h", "later" }),
			// first the one the command line's table runs: numbers beyond their bounds (a typo of premake would
			// make 100,000 partitions)
			Map.entry("ETL_PARTITION_POLICY", new String[] {
					TestPolicies.file("tables:\n  - {table: ops.task_executions, premake: 100000}\n").toString(),
					TestPolicies.file("tables:\n  - {table: ops.audit_log, hot: 3, warm: 5000}\n").toString(),
					"/no/such/policy.yml", "/" }),
			Map.entry("ETL_ROLLOVER_BATCH_ROWS", new String[] { "0", "-1", "ten", "20000000" }),
			Map.entry("ETL_TABLESPACE_WARM", new String[] { "Warm", "etl warm", "etl_warm;drop", "" }),
			Map.entry("ETL_TABLESPACE_COLD", new String[] { "\"cold\"", "" }),
			Map.entry("ETL_ARCHIVE_SALES_DAYS", new String[] { "0", "40000", "year" }),
			Map.entry("ETL_ARCHIVE_SALES_BATCH_ROWS", new String[] { "0", "many" }),
			Map.entry("ETL_BACKUP_KEYSET", new String[] { "", " ", "keys\n.json" }),
			Map.entry("ETL_ARCHIVE_PREFIX", new String[] { "", "/archive", "archive/", "../x", "a//b", "a b" }),
			Map.entry("ETL_REFRESH_SCHEMAS", new String[] { "", "ops,", "ops;retail", "Ops" }),
			Map.entry("ETL_REFRESH_LOCK_TIMEOUT", new String[] { "0", "0s", "-1s", "25h", "ten" }),
			Map.entry("ETL_BACKUP_PREFIX", new String[] { "", "..", "backup/../archive" }),
			Map.entry("ETL_BACKUP_SERVER_NAME", new String[] { "..", ".", "a/b", "prod db", "x".repeat(101) }),
			Map.entry("ETL_PG_BIN", new String[] { "/no/such/bin", "/etc/hostname" }),
			Map.entry("ETL_PGBACKREST_BIN", new String[] { "", "pgbackrest", "bin/pgbackrest" }),
			Map.entry("ETL_PGBACKREST_CONFIG", new String[] { " ", "pgbackrest\n.conf" }),
			Map.entry("ETL_PGBACKREST_DRILL_DIR", new String[] { "", "drills", "/var/tmp/my drills" }),
			Map.entry("ETL_BACKUP_POINT_LOCK_TIMEOUT", new String[] { "0", "0s", "2h", "briefly" }),
			Map.entry("ETL_PGBACKREST_LOCK_WAIT", new String[] { "-1s", "25h", "a while" }),
			Map.entry("ETL_PGBACKREST_RETENTION_FULL", new String[] { "0", "10000000", "four" }),
			Map.entry("ETL_PGBACKREST_STANZA", new String[] { "", "main stanza", "--config=/tmp/x" }),
			Map.entry("ETL_SCHEDULER_NAME", new String[] { "", "two words", "x".repeat(121) }),
			Map.entry("ETL_SCHEDULER_CHECKIN_MS", new String[] { "0", "99", "700000", "often" }),
			Map.entry("ETL_SCHEDULER_MISFIRE_THRESHOLD_MS", new String[] { "0", "-1", "a minute" }),
			Map.entry("ETL_SCHEDULER_THREADS", new String[] { "0", "101", "four" }),
			Map.entry("ETL_SCHEDULER_RETRY_MS", new String[] { "0", "99", "later" }),
			Map.entry("ETL_SCHEDULER_OVERDUE_GRACE", new String[] { "-1s", "25h", "a while" }),
			Map.entry("ETL_SCHEDULER_PORT", new String[] { "0", "65536", "http" }),
			Map.entry("ETL_SCHEDULES_DIR", new String[] { "", "sched\nules" }));

	private SettingsTestRows() {
	}

}
