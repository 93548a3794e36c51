package dev.pgbatch.backup;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import dev.pgbatch.TestDatabase;
import org.junit.jupiter.api.Test;

import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;

import static org.assertj.core.api.Assertions.assertThat;

/** The backup's own connections keep every parameter of ETL_DB_URL. */
class ServerDatabasesIntegrationTests {

	@Test
	void aConnectionToAnotherDatabaseKeepsTheParametersOfTheUrl() throws Exception {
		DataSourceProperties database = new DataSourceProperties();
		database.setUrl(TestDatabase.url() + (TestDatabase.url().contains("?") ? "&" : "?")
				+ "sslmode=disable&ApplicationName=pgbatch-url-check");
		database.setUsername(System.getenv().getOrDefault("ETL_DB_USER", "pgbatch"));
		database.setPassword(TestDatabase.secret("ETL_DB_PASSWORD"));
		ServerDatabases databases = new ServerDatabases(database);

		try (Connection connection = databases.connect("postgres"); Statement statement = connection.createStatement();
				ResultSet rs = statement.executeQuery(
						"SELECT application_name, datname, ssl FROM pg_stat_activity JOIN pg_stat_ssl USING (pid) WHERE pid = pg_backend_pid()")) {
			rs.next();
			assertThat(rs.getString(1)).isEqualTo("pgbatch-url-check");
			assertThat(rs.getString(2)).isEqualTo("postgres");
			assertThat(rs.getBoolean(3)).isFalse();
		}
		assertThat(databases.defaultDatabase()).isEqualTo(TestDatabase.name());
	}

}
