package dev.pgbatch.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsTests {

	/** Every setting with values it must refuse; {@link #everySettingHasABadValueRow} keeps it complete. */
	static final Map<String, String[]> BAD_VALUES = Map.ofEntries(
			Map.entry("ETL_DB_URL", new String[] { "postgres://h/db", "jdbc:mysql://h/db", "jdbc:postgresql://h:99999999/db" }),
			Map.entry("ETL_DB_USER", new String[] { "", "pg\nbatch" }),
			Map.entry("ETL_DB_PASSWORD", new String[] { "secret\nline" }),
			Map.entry("ETL_DB_PASSWORD_FILE", new String[] { "/no/such/file", "/" }),
			Map.entry("ETL_PARTITION_LOCK_TIMEOUT", new String[] { "0", "0s", "2h", "soon" }),
			Map.entry("ETL_PARTITION_LOCK_TRIES", new String[] { "0", "1001", "six" }),
			Map.entry("ETL_PARTITION_LOCK_WAIT", new String[] { "-1s", "25h", "later" }),
			Map.entry("ETL_LOCK_CHECK_INTERVAL", new String[] { "0", "10ms", "2h", "often" }),
			Map.entry("ETL_NIGHTLY_WAIT_FOR_RUNNING", new String[] { "-1s", "25h", "a while" }),
			Map.entry("ETL_BACKUP_ABANDONED_AFTER", new String[] { "0", "5m", "400d", "old" }),
			Map.entry("ETL_STACK_DIR", new String[] { "", "st\nack" }),
			Map.entry("ETL_DB_POOL_SIZE", new String[] { "0", "1", "-3", "six", "" }),
			Map.entry("ETL_DB_MIGRATE", new String[] { "yes", "TRUE ", "" }),
			Map.entry("ETL_LOG_LEVEL", new String[] { "LOUD", "" }),
			Map.entry("ETL_SEED_CHUNK_ROWS", new String[] { "0", "2000000", "1e3" }),
			Map.entry("ETL_SEED_AUDIT", new String[] { "yes", "1" }),
			Map.entry("ETL_S3_ENDPOINT", new String[] { "127.0.0.1:9000", "ftp://h", "http://h/bucket", "http://" }),
			Map.entry("ETL_S3_ACCESS_KEY", new String[] { "", "ab", "a\tb" }),
			Map.entry("ETL_S3_SECRET_KEY", new String[] { "s3cr\net" }),
			Map.entry("ETL_S3_SECRET_KEY_FILE", new String[] { "/no/such/file", "/" }),
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
			Map.entry("ETL_PARTITION_POLICY", new String[] { "/no/such/policy.yml", "/" }),
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
			Map.entry("ETL_PG_BIN", new String[] { "/no/such/bin", "/etc/hostname" }),
			Map.entry("ETL_SCHEDULER_NAME", new String[] { "", "two words", "x".repeat(121) }),
			Map.entry("ETL_SCHEDULER_CHECKIN_MS", new String[] { "0", "99", "700000", "often" }),
			Map.entry("ETL_SCHEDULER_MISFIRE_THRESHOLD_MS", new String[] { "0", "-1", "a minute" }),
			Map.entry("ETL_SCHEDULER_THREADS", new String[] { "0", "101", "four" }),
			Map.entry("ETL_SCHEDULER_PORT", new String[] { "0", "65536", "http" }),
			Map.entry("ETL_SCHEDULES_DIR", new String[] { "", "sched\nules" }));

	@Test
	void everySettingOfApplicationPropertiesIsCheckedAndHasABadValueRow() throws IOException {
		assertThat(Settings.CHECKS.keySet()).containsAll(declared().keySet());
		assertThat(BAD_VALUES.keySet()).containsExactlyInAnyOrderElementsOf(Settings.CHECKS.keySet());
	}

	@Test
	void everyDefaultOfApplicationPropertiesPasses() throws IOException {
		declared().forEach((name, value) -> assertThat(Settings.problem(name, value)).as(name + "=" + value).isNull());
	}

	@Test
	void everyBadValueIsRefusedOnOneLineNamingTheSettingAndNeverShowingASecret() {
		BAD_VALUES.forEach((name, values) -> {
			for (String value : values) {
				Map<String, String> environment = Map.of(name, value);
				assertThatThrownBy(() -> Settings.check(environment::get)).as(name + "=" + value)
					.isInstanceOf(UsageException.class)
					.hasMessageStartingWith(name + ": ");
				if (!name.endsWith("_FILE") && (name.contains("PASSWORD") || name.contains("SECRET") || name.contains("API_KEY"))) {
					assertThatThrownBy(() -> Settings.check(environment::get)).message().doesNotContain(value);
				}
			}
		});
	}

	@Test
	void goodValuesPass() {
		Map<String, String> environment = Map.of("ETL_ROLLOVER_BATCH_ROWS", "1", "ETL_REFRESH_LOCK_TIMEOUT", "1500ms",
				"ETL_S3_ENDPOINT", "https://minio.example.com:9000/", "ETL_REFRESH_SCHEMAS", "ops, retail",
				"ETL_DB_URL", "jdbc:postgresql://db.example.com:5432/pgbatch?sslmode=verify-full", "ETL_LOG_LEVEL", "debug",
				"ETL_ARCHIVE_PREFIX", "cold/archive-1", "ETL_PG_BIN", "/usr/bin", "ETL_EMBED_INDEX_MEMORY_MAX", "512MB");
		Settings.check(environment::get);
	}

	/** The settings application.properties reads, with their defaults. */
	private static Map<String, String> declared() throws IOException {
		Properties properties = new Properties();
		try (InputStream in = SettingsTests.class.getResourceAsStream("/application.properties")) {
			properties.load(in);
		}
		Map<String, String> declared = new TreeMap<>();
		Pattern variable = Pattern.compile("\\$\\{((?:ETL|OPENAI)_[A-Z0-9_]+):([^}]*)}");
		properties.values().forEach(text -> {
			Matcher matcher = variable.matcher(text.toString());
			while (matcher.find()) {
				declared.put(matcher.group(1), matcher.group(2));
			}
		});
		return declared;
	}

}
