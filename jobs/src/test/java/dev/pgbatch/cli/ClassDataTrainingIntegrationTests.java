package dev.pgbatch.cli;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import dev.pgbatch.TestDatabase;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The training bin/etl runs after a build, its output discarded, on the database of whatever command the operator
 * ran first: it starts the whole application, yet migrates nothing unseen.
 */
class ClassDataTrainingIntegrationTests {

	/**
	 * The properties the training sets for every context it starts (read-only sessions), given as settings so that
	 * {@link EtlInProcess} takes them back after it: the commands run in this JVM later write. (Their values here are
	 * the training's to replace.)
	 */
	private static final Map<String, String> TRAININGS_PROPERTIES = Map.of("spring.datasource.hikari.connection-init-sql",
			"", "spring.flyway.init-sqls", "");

	@Test
	void theTrainingLeavesADatabaseThatIsNotMigratedAsItWas() throws Exception {
		String database = TestDatabase.PREFIX + "_training_unmigrated";
		TestDatabase.createDatabase(database);
		try {
			EtlProcess.Result trained = EtlProcess
				.start(Map.of("ETL_DB_URL", TestDatabase.serverUrl(database)), "class-data-training")
				.await();

			assertThat(trained.exitCode()).as(trained.stderr()).isEqualTo(Cli.FAILED);
			try (Connection connection = TestDatabase.connect(database);
					Statement statement = connection.createStatement();
					ResultSet schema = statement.executeQuery("SELECT to_regnamespace('etl') IS NULL")) {
				assertThat(schema.next()).isTrue();
				assertThat(schema.getBoolean(1)).as("no schema etl").isTrue();
			}
		}
		finally {
			TestDatabase.dropDatabase(database);
		}
	}

	/**
	 * Read-only sessions are no obstacle where the schema is the runner's: the whole application starts. (In this JVM:
	 * what it starts is the point here, not the process, which the test above has.)
	 */
	@Test
	void onAMigratedDatabaseTheTrainingStartsTheWholeApplication() throws Exception {
		EtlProcess.Result trained = EtlInProcess.run(TRAININGS_PROPERTIES, "class-data-training");

		assertThat(trained.exitCode()).as(trained.stderr()).isEqualTo(Cli.OK);
	}

}
