package dev.pgbatch.backup;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
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
				TestDatabase.secret("ETL_DB_PASSWORD"), new BackupProperties("backup", "", Duration.ofHours(24), ""));

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

}
