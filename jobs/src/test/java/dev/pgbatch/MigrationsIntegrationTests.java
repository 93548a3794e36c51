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
		return flyway("latest");
	}

	private Flyway flyway(String target) {
		return Flyway.configure()
			.dataSource(TestDatabase.serverUrl(this.database), TestDatabase.user(), TestDatabase.password())
			.locations("classpath:db/migration")
			.schemas("etl")
			.createSchemas(true)
			.target(target)
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

	/**
	 * Rows of etl.seed_revoked as V17 wrote them (regrole): PUBLIC's (grantee 0), a role's dropped since, mcp_user's
	 * on a column. Migrated to 19 they read as V19 promised: PUBLIC NULL, the dropped role's deleted (never
	 * "unknown (OID=...)"), the column's named.
	 */
	private void revokedAsV17RecordedThem(Statement statement) throws Exception {
		String dropped = "pgbatch_migrations_dropped_" + ProcessHandle.current().pid();
		StackSuperuser.execute(this.database, "CREATE ROLE " + dropped + " NOLOGIN");
		try {
			statement.execute("INSERT INTO etl.seed_revoked (seeded, attnum, grantee, privilege, grantable) VALUES"
					+ " ('retail.products', NULL, 0::oid::regrole, 'INSERT', false),"
					+ " ('retail.products', NULL, '" + dropped + "'::regrole, 'DELETE', false),"
					+ " ('retail.customers', (SELECT attnum FROM pg_attribute WHERE attrelid = 'retail.customers'::regclass"
					+ "   AND attname = 'email'), 'mcp_user'::regrole, 'UPDATE', true)");
		}
		finally {
			StackSuperuser.execute(this.database, "DROP ROLE " + dropped);
		}
		assertThat(flyway("19").migrate().migrationsExecuted).isEqualTo(1);
		assertThat(rows(statement, revoked("pg_typeof(grantee), privilege, grantable")))
			.containsExactly("retail.products PUBLIC name INSERT f", "retail.customers email mcp_user name UPDATE t");
	}

	/** Drills as the build of V24 recorded them, counted written by the runner: one to a point, one to a time. */
	private static void drillsAsV24RecordedThem(Statement statement) throws SQLException {
		statement.execute("INSERT INTO etl.restore_drill (started_at, target, passed, counted) VALUES"
				+ " (now(), 'backup-20261206-020000F', true, true), (now(), '2026-12-03T02:40:00Z', false, false)");
	}

	/**
	 * After V25 (review 13 #10) the rows of V24 keep what they said; a runner of the build before V24, which writes no
	 * counted, records its drills again (V24's NOT NULL refused them), and a runner of V24's build, which writes it,
	 * still records them: counted by their target, whatever the runner wrote.
	 */
	private static void drillsAsV25ComputesThem(Statement statement) throws SQLException {
		statement.execute("INSERT INTO etl.restore_drill (started_at, target, backup_label, restore_seconds,"
				+ " replay_seconds, passed, problems) VALUES (now(), 'before-upgrade', NULL, 1, 1, true, ''),"
				+ " (now(), '2026-12-03T03:00:00.125Z', NULL, 1, 1, true, '')");
		statement.execute("INSERT INTO etl.restore_drill (started_at, target, passed, counted) VALUES"
				+ " (now(), 'v24-build', true, false)");
		assertThat(rows(statement, "SELECT target || ' ' || counted FROM etl.restore_drill ORDER BY id"))
			.containsExactly("backup-20261206-020000F true", "2026-12-03T02:40:00Z false", "before-upgrade true",
					"2026-12-03T03:00:00.125Z false", "v24-build true");
	}

	/** etl.seed_revoked's rows: table, column name, role ('PUBLIC' for NULL), then {@code more}. */
	private static String revoked(String more) {
		return "SELECT concat_ws(' ', seeded, (SELECT attname FROM pg_attribute WHERE attrelid = seeded AND attnum = r.attnum),"
				+ " coalesce(grantee, 'PUBLIC'), " + more + ") FROM etl.seed_revoked r ORDER BY position";
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

	/**
	 * Applied in steps, to check on the way what V19 promised of the rows V17 wrote (review 5, finding 10: it was
	 * checked by hand only) and what V21 makes of them.
	 */
	@Test
	void migrationsApplyToAnEmptyDatabaseAndASecondRunIsANoOp() throws Exception {
		MigrateResult toV18 = flyway("18").migrate();
		assertThat(toV18.success).isTrue();
		assertThat(toV18.migrationsExecuted).isGreaterThanOrEqualTo(4);
		try (Connection connection = TestDatabase.connect(this.database); Statement statement = connection.createStatement()) {
			revokedAsV17RecordedThem(statement);
		}

		MigrateResult toV24 = flyway("24").migrate();
		assertThat(toV24.success).isTrue();
		assertThat(toV24.migrationsExecuted).as("V19 to V24").isEqualTo(5);
		try (Connection connection = TestDatabase.connect(this.database); Statement statement = connection.createStatement()) {
			// V21: the oid of the role of that name, on this cluster
			assertThat(rows(statement, revoked("privilege, grantable, grantee_oid = 'mcp_user'::regrole,"
					+ " system_identifier = (SELECT system_identifier FROM pg_control_system())")))
				.containsExactly("retail.products PUBLIC INSERT f", "retail.customers email mcp_user UPDATE t t t");
			drillsAsV24RecordedThem(statement);
		}

		MigrateResult rest = flyway().migrate();
		assertThat(rest.success).isTrue();
		assertThat(rest.migrationsExecuted).as("V25 on").isGreaterThanOrEqualTo(1);
		try (Connection connection = TestDatabase.connect(this.database); Statement statement = connection.createStatement()) {
			drillsAsV25ComputesThem(statement);
		}

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
