package dev.pgbatch.backup;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import dev.pgbatch.TestDatabase;
import org.junit.jupiter.api.Test;
import org.postgresql.Driver;

import static org.assertj.core.api.Assertions.assertThat;

/** The backup's own connections and tools keep every parameter of ETL_DB_URL. */
class PostgresToolsIntegrationTests {

	private static final String URL = TestDatabase.url() + (TestDatabase.url().contains("?") ? "&" : "?")
			+ "sslmode=disable&ApplicationName=pgbatch-url-check";

	@Test
	void aConnectionToAnotherDatabaseKeepsTheParametersOfTheUrl() throws Exception {
		PostgresTools tools = new PostgresTools(URL, System.getenv().getOrDefault("ETL_DB_USER", "pgbatch"),
				TestDatabase.secret("ETL_DB_PASSWORD"), new BackupProperties("backup", "", Duration.ofHours(24), "", Duration.ofSeconds(10)));

		try (Connection connection = tools.connect("postgres"); Statement statement = connection.createStatement();
				ResultSet rs = statement.executeQuery(
						"SELECT application_name, datname, ssl FROM pg_stat_activity JOIN pg_stat_ssl USING (pid) WHERE pid = pg_backend_pid()")) {
			rs.next();
			assertThat(rs.getString(1)).isEqualTo("pgbatch-url-check");
			assertThat(rs.getString(2)).isEqualTo("postgres");
			assertThat(rs.getBoolean(3)).isFalse();
		}
	}

	@Test
	void pgDumpAndPgRestoreGetTheParametersLibpqKnows() {
		Properties parsed = Driver.parseURL(URL, null);

		assertThat(PostgresTools.libpqEnvironment(parsed)).containsEntry("PGSSLMODE", "disable")
			.containsEntry("PGAPPNAME", "pgbatch-url-check");
	}

	@Test
	void theToolsGetOnlyTheEnvironmentTheyNeedAndTheTlsDemandsOfTheUrl() {
		Map<String, String> inherited = Map.of("PATH", "/usr/bin", "HOME", "/home/etl", "LANG", "C.UTF-8",
				"ETL_S3_SECRET_KEY", "s3-secret", "OPENAI_API_KEY", "sk-x", "ETL_DB_URL", "jdbc:postgresql://h/db",
				"PGPASSFILE", "/elsewhere/pgpass", "AWS_SECRET_ACCESS_KEY", "aws");
		Map<String, Map<String, String>> expected = Map.of(
				"jdbc:postgresql://h/db", Map.of(),
				"jdbc:postgresql://h/db?ssl=true", Map.of("PGSSLMODE", "verify-full"),
				"jdbc:postgresql://h/db?ssl", Map.of("PGSSLMODE", "verify-full"),
				"jdbc:postgresql://h/db?ssl=true&sslrootcert=/etc/ca.pem", Map.of("PGSSLMODE", "verify-full", "PGSSLROOTCERT", "/etc/ca.pem"),
				"jdbc:postgresql://h/db?ssl=true&sslmode=require", Map.of("PGSSLMODE", "require"),
				"jdbc:postgresql://h/db?ssl=false", Map.of(),
				"jdbc:postgresql://h/db?sslmode=verify-ca&ApplicationName=x", Map.of("PGSSLMODE", "verify-ca", "PGAPPNAME", "x"));
		for (Map.Entry<String, Map<String, String>> url : expected.entrySet()) {
			Map<String, String> environment = new java.util.TreeMap<>(Map.of("PATH", "/usr/bin", "HOME", "/home/etl", "LANG", "C.UTF-8"));
			environment.putAll(url.getValue());

			assertThat(PostgresTools.environment(inherited, Driver.parseURL(url.getKey(), null))).as(url.getKey())
				.isEqualTo(environment);
		}
	}

}
