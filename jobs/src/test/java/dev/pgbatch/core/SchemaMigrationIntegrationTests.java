package dev.pgbatch.core;

import java.util.Map;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.cli.EtlInProcess;
import dev.pgbatch.cli.EtlProcess;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole application's Flyway migrates a schema that is not the runner's yet, leaves the runner's own alone, and
 * a start without migrations (ETL_DB_MIGRATE=false, no Flyway at all) still starts.
 */
class SchemaMigrationIntegrationTests {

	@Test
	void aDatabaseNotMigratedYetIsMigratedByTheWholeStart() throws Exception {
		String database = TestDatabase.PREFIX + "_unmigrated_run";
		TestDatabase.createDatabase(database);
		try {
			EtlProcess.Result seeded = EtlInProcess.run(Map.of("ETL_DB_URL", TestDatabase.serverUrl(database)), "run",
					"seed-data", "scale=0.01", "reset=true");

			assertThat(seeded.exitCode()).as(seeded.stderr()).isZero();
		}
		finally {
			TestDatabase.dropDatabase(database);
		}
	}

	@Test
	void theWholeStartWithoutMigrationsAtStartRunsOnTheRunnersSchema() {
		assertThat(EtlInProcess.run("run", "seed-data", "scale=0.01", "reset=true").exitCode()).isZero();

		EtlProcess.Result seeded = EtlInProcess.run(Map.of("ETL_DB_MIGRATE", "false"), "run", "seed-data", "scale=0.01",
				"reset=true");

		assertThat(seeded.exitCode()).as(seeded.stderr()).isZero();
	}

}
