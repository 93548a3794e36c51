package dev.pgbatch.cli;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.ExecutionReports;
import dev.pgbatch.core.ExecutionReportsContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.batch.core.job.Job;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * executions, status and search start only the beans they need ({@link SpringRuntime#startOnly}) where the
 * database's schema is the runner's: they report what the whole application reports, and a schema that is not the
 * runner's gets what the whole start gives it, as before.
 */
class StartOnlyIntegrationTests {

	/** What a context reports of every execution, and how many jobs it holds. */
	private record Seen(List<ExecutionReport> newest, List<ExecutionReport> each, int jobs) {

		static Seen in(ConfigurableApplicationContext context) {
			try (context) {
				ExecutionReports reports = context.getBean(ExecutionReports.class);
				List<ExecutionReport> newest = reports.newest(null, 20);
				return new Seen(newest, newest.stream().map(report -> reports.report(report.executionId())).toList(),
						context.getBeansOfType(Job.class).size());
			}
		}

	}

	/** The reports are what executions and status print (text or --json): equal reports, the same bytes. */
	@Test
	void executionsAndStatusReportOnTheirFewBeansWhatTheWholeApplicationReports() {
		assertThat(EtlInProcess.run("run", "seed-data", "scale=0.01", "reset=true").exitCode()).isZero();
		assertThat(EtlInProcess.run("run", "refresh-views").exitCode()).isZero();

		Seen few = EtlInProcess.with(Map.of(), () -> Seen.in(SpringRuntime.startOnly(ExecutionReportsContext.class)));
		Seen whole = EtlInProcess.with(Map.of(), () -> Seen.in(SpringRuntime.start()));

		assertThat(few.jobs()).isZero();
		assertThat(whole.jobs()).isPositive();
		assertThat(few.newest()).hasSize(2).isEqualTo(whole.newest());
		assertThat(few.each()).isEqualTo(whole.each());
		assertThat(few.each().get(1).steps()).isNotEmpty();
	}

	/** As before, the whole start's Flyway migrates it; from then on the few beans serve. */
	@Test
	void anUnmigratedDatabaseIsMigratedByTheWholeStartThenServedByTheFewBeans() throws Exception {
		String database = TestDatabase.PREFIX + "_unmigrated_cli";
		TestDatabase.createDatabase(database);
		try {
			Map<String, String> there = Map.of("ETL_DB_URL", TestDatabase.serverUrl(database));

			EtlProcess.Result listed = EtlInProcess.run(there, "executions");

			assertThat(listed.exitCode()).as(listed.stderr()).isZero();
			assertThat(listed.stdout()).startsWith("id ").hasLineCount(1);
			assertThat(EtlInProcess.with(there, () -> Seen.in(SpringRuntime.startOnly(ExecutionReportsContext.class))).jobs())
				.isZero();
		}
		finally {
			TestDatabase.dropDatabase(database);
		}
	}

	/** Without migrations at start (ETL_DB_MIGRATE=false) no start looks at the schema: the query says what is missing. */
	@Test
	void anUnmigratedDatabaseWithoutMigrationsAtStartIsOneLineSayingWhatIsMissing() throws Exception {
		String database = TestDatabase.PREFIX + "_unmigrated_cli_off";
		TestDatabase.createDatabase(database);
		try {
			EtlProcess.Result listed = EtlInProcess
				.run(Map.of("ETL_DB_URL", TestDatabase.serverUrl(database), "ETL_DB_MIGRATE", "false"), "executions");

			assertThat(listed.exitCode()).isEqualTo(1);
			assertThat(listed.stdout()).isEmpty();
			assertThat(listed.stderr())
				.isEqualTo("etl: error: ERROR: relation \"etl.batch_job_execution\" does not exist\n");
		}
		finally {
			TestDatabase.dropDatabase(database);
		}
	}

	/**
	 * A migration changed after it was applied, or its row's description: the whole start's Flyway refuses the schema,
	 * as it always did (core/SchemaHistoryIntegrationTests has the other histories the few beans leave to it).
	 */
	@ParameterizedTest
	@CsvSource(delimiter = '|', value = { "checksum = checksum + 1|checksum = checksum - 1",
			"description = 'runner tables and more'|description = 'runner tables'" })
	void aHistoryThatIsNotTheRunnersGetsTheWholeStartWhoseFlywayRefusesIt(String edit, String undo) throws Exception {
		execute("UPDATE etl.flyway_schema_history SET " + edit + " WHERE version = '1'");
		try {
			EtlProcess.Result status = EtlInProcess.run("status", "1");

			assertThat(status.exitCode()).isEqualTo(1);
			assertThat(status.stdout()).isEmpty();
			assertThat(status.stderr()).startsWith("etl: error: Validate failed").hasLineCount(1);
		}
		finally {
			execute("UPDATE etl.flyway_schema_history SET " + undo + " WHERE version = '1'");
		}
	}

	private static void execute(String sql) throws Exception {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

}
