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

	@Test
	void everySettingOfApplicationPropertiesIsCheckedAndHasABadValueRow() throws IOException {
		assertThat(Settings.CHECKS.keySet()).containsAll(declared().keySet());
		assertThat(SettingsTestRows.BAD_VALUES.keySet()).containsExactlyInAnyOrderElementsOf(Settings.CHECKS.keySet());
	}

	@Test
	void everyDefaultOfApplicationPropertiesPasses() throws IOException {
		declared().forEach((name, value) -> assertThat(Settings.problem(name, value)).as(name + "=" + value).isNull());
	}

	@Test
	void everyBadValueIsRefusedOnOneLineNamingTheSettingAndNeverShowingASecret() {
		SettingsTestRows.BAD_VALUES.forEach((name, values) -> {
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
