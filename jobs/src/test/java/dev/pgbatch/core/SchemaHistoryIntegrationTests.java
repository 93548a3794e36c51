package dev.pgbatch.core;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.cli.EtlInProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.flyway.autoconfigure.FlywayProperties;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Only a history that is, row for row, what Flyway writes as it migrates an empty schema lets a command start without
 * Flyway: each history below (the class's database's, edited in a transaction that is rolled back) is one Flyway's
 * validation refuses or the fast path cannot vouch for, and gets the whole start.
 */
class SchemaHistoryIntegrationTests {

	/** The Flyway settings as the runner binds them (application.properties). */
	private static FlywayProperties flyway;

	@BeforeAll
	static void bindTheRunnersFlywaySettings() {
		flyway = flywayWith(Map.of());
	}

	@Test
	void theHistoryOfAMigrationFromScratchIsTheRunners() throws Exception {
		assertThat(currentAfter("SELECT 1", flyway)).isTrue();
	}

	/** Flyway on a connection of its own may keep its history in another database: this one's says nothing. */
	@Test
	void noHistoryIsTheRunnersWhereFlywayHasADatabaseOfItsOwn() throws Exception {
		assertThat(currentAfter("SELECT 1", flywayWith(Map.of("spring.flyway.url", TestDatabase.url())))).isFalse();
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', value = {
			"a migration twice|INSERT INTO etl.flyway_schema_history SELECT (SELECT max(installed_rank) + 1"
					+ " FROM etl.flyway_schema_history), version, description, type, script, checksum, installed_by,"
					+ " installed_on, execution_time, success FROM etl.flyway_schema_history WHERE version = '2'",
			"a migration installed after a later one|UPDATE etl.flyway_schema_history SET installed_rank = installed_rank"
					+ " + 1000 WHERE version = '2'",
			"another description|UPDATE etl.flyway_schema_history SET description = 'retail and more' WHERE version = '2'",
			"another version|UPDATE etl.flyway_schema_history SET version = '10' WHERE version = '2'",
			"another type|UPDATE etl.flyway_schema_history SET type = 'JDBC' WHERE version = '2'",
			"a failed migration|UPDATE etl.flyway_schema_history SET success = false WHERE installed_rank ="
					+ " (SELECT max(installed_rank) FROM etl.flyway_schema_history)",
			"a migration missing|DELETE FROM etl.flyway_schema_history WHERE installed_rank ="
					+ " (SELECT max(installed_rank) FROM etl.flyway_schema_history)",
			"a repeatable migration|INSERT INTO etl.flyway_schema_history SELECT max(installed_rank) + 1, NULL, 'views',"
					+ " 'SQL', 'R__views.sql', 1, 'pgbatch', now(), 1, true FROM etl.flyway_schema_history",
			"a baseline|UPDATE etl.flyway_schema_history SET type = 'BASELINE', description = '<< Flyway Baseline >>',"
					+ " script = '<< Flyway Baseline >>', checksum = NULL WHERE version = '1'",
			"the schema's creation after a migration|UPDATE etl.flyway_schema_history SET installed_rank = 1000"
					+ " WHERE type = 'SCHEMA'" })
	void anyOtherHistoryIsNotTheRunners(String what, String edit) throws Exception {
		assertThat(currentAfter(edit, flyway)).as(what).isFalse();
	}

	/** The Flyway settings the runner binds with {@code settings} given. */
	private static FlywayProperties flywayWith(Map<String, String> settings) {
		return EtlInProcess.with(settings, () -> {
			try (ConfigurableApplicationContext context = new SpringApplicationBuilder(DatabaseContext.class)
				.web(WebApplicationType.NONE)
				.run()) {
				return context.getBean(FlywayProperties.class);
			}
		});
	}

	/** What the runner's SchemaHistory says of the class's database with {@code edit} made, then taken back. */
	private static boolean currentAfter(String edit, FlywayProperties flyway) throws SQLException {
		try (Connection connection = TestDatabase.connect()) {
			connection.setAutoCommit(false);
			try (Statement statement = connection.createStatement()) {
				statement.execute(edit);
				return new SchemaHistory(new JdbcTemplate(new SingleConnectionDataSource(connection, true)), flyway)
					.current();
			}
			finally {
				connection.rollback();
			}
		}
	}

}
