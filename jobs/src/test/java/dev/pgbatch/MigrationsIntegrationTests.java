package dev.pgbatch;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

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

	/**
	 * bin/stack's runner role holds exactly what docs/operations.md's "Your own PostgreSQL or MinIO" lists, no superuser and no
	 * CREATEROLE, and the migrations apply with that on a fresh database that has the extension (from template1).
	 */
	@Test
	void theMigrationsNeedNoMoreThanTheOperationsDocLists() throws Exception {
		try (Connection connection = TestDatabase.connect(this.database); Statement statement = connection.createStatement()) {
			assertThat(rows(statement, """
					SELECT concat_ws(' ', rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls)
					FROM pg_roles WHERE rolname = current_user""")).as("superuser createrole createdb replication bypassrls")
				.containsExactly("f f t f f");
			assertThat(rows(statement, """
					SELECT r.rolname || ' admin ' || m.admin_option FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
					WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)""")).containsExactly("mcp_user admin true");
			assertThat(rows(statement, "SELECT extname FROM pg_extension WHERE extname = 'vector'")).containsExactly("vector");
		}

		assertThat(flyway().migrate().success).isTrue();
	}

	private static List<String> rows(Statement statement, String query) throws SQLException {
		List<String> rows = new ArrayList<>();
		try (ResultSet result = statement.executeQuery(query)) {
			while (result.next()) {
				rows.add(result.getString(1));
			}
		}
		return rows;
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
