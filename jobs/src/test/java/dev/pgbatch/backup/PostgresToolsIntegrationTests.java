package dev.pgbatch.backup;

import java.util.Map;
import java.util.Properties;

import dev.pgbatch.TestDatabase;
import org.junit.jupiter.api.Test;
import org.postgresql.Driver;

import static org.assertj.core.api.Assertions.assertThat;

/** The backup's tools keep every parameter of ETL_DB_URL that libpq knows. */
class PostgresToolsIntegrationTests {

	private static final String URL = TestDatabase.url() + (TestDatabase.url().contains("?") ? "&" : "?")
			+ "sslmode=disable&ApplicationName=pgbatch-url-check";

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
