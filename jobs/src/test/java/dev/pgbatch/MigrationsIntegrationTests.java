package dev.pgbatch;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** schema/: the migrations apply to an empty database, and a second run changes nothing. */
class MigrationsIntegrationTests {

	private final String database = "pgbatch_migrations_" + ProcessHandle.current().pid();

	@BeforeEach
	void createEmptyDatabase() throws Exception {
		TestDatabase.dropDatabase(this.database);
		TestDatabase.createDatabase(this.database);
	}

	@AfterEach
	void dropDatabase() throws Exception {
		TestDatabase.dropDatabase(this.database);
	}

	private Flyway flyway() {
		return Flyway.configure()
			.dataSource(TestDatabase.serverUrl(this.database), TestDatabase.user(), TestDatabase.password())
			.locations("classpath:db/migration")
			.schemas("etl")
			.createSchemas(true)
			.load();
	}

	@Test
	void migrationsApplyToAnEmptyDatabaseAndASecondRunIsANoOp() throws Exception {
		MigrateResult first = flyway().migrate();
		assertThat(first.success).isTrue();
		assertThat(first.migrationsExecuted).isGreaterThanOrEqualTo(4);

		MigrateResult second = flyway().migrate();
		assertThat(second.success).isTrue();
		assertThat(second.migrationsExecuted).isZero();

		try (Connection connection = TestDatabase.connect(this.database); Statement statement = connection.createStatement();
				ResultSet tables = statement.executeQuery("""
						SELECT count(*) FILTER (WHERE table_schema = 'retail'),
						       count(*) FILTER (WHERE table_schema = 'ops'),
						       count(*) FILTER (WHERE table_schema = 'etl' AND table_name LIKE 'batch%'),
						       count(*) FILTER (WHERE table_schema = 'etl' AND table_name LIKE 'qrtz%')
						FROM information_schema.tables WHERE table_type = 'BASE TABLE'
						""")) {
			tables.next();
			assertThat(tables.getInt(1)).as("retail tables").isGreaterThanOrEqualTo(9);
			assertThat(tables.getInt(2)).as("ops tables").isGreaterThanOrEqualTo(6);
			assertThat(tables.getInt(3)).as("Spring Batch tables").isEqualTo(6);
			assertThat(tables.getInt(4)).as("Quartz tables").isEqualTo(11);
		}
	}

}
