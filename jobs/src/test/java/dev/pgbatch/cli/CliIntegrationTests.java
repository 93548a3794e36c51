package dev.pgbatch.cli;

import java.io.ByteArrayInputStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.seed.SeededTables;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator interface (the README's "Command line", docs/cli.md) against the real database: through bin/etl
 * processes where the process is the point (its launcher and class archive, its time zone, SIGKILL, a restart that is
 * killed in turn, the restore that ends the application's sessions), else through bin/etl's entry point in this JVM
 * ({@link EtlInProcess}), which checks, prints and returns as the process does: a restart that finishes what a killed
 * process left needs only its output and its effect.
 */
class CliIntegrationTests {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** Small chunks, so that a run has many commits to be killed between. */
	private static final Map<String, String> SMALL_CHUNKS = Map.of("ETL_SEED_CHUNK_ROWS", "500");

	/** An archive test leaves cold segments, which a later test's seed-data reset=true refuses: their record goes. */
	@AfterEach
	void forgetColdSegments() throws Exception {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			statement.execute("DELETE FROM ops.archive_log");
		}
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', value = { "run nope|unknown job 'nope'", "run seed-data colour=red|unknown parameter 'colour'",
			"run seed-data scale=abc|scale: 'abc' is not a number", "run seed-data scale=0|scale: must be between",
			"run seed-data scale=-2|scale: must be between", "run seed-data scale=1001|scale: must be between",
			"run seed-data seed=x|seed: 'x' is not a whole number", "run|Missing required parameter",
			"restart abc|Invalid value", "bogus|Unmatched argument",
			"run embed-products model=word2vec|model: unknown model 'word2vec'",
			"run embed-products batch-size=0|batch-size: must be between 1 and 2048",
			"run embed-products store=atlantis|store: unknown store 'atlantis'",
			"search tent --store atlantis|unknown store 'atlantis'", "search tent --store seattle --limit 0|--limit must be between",
			"search tent --store seattle --model word2vec|unknown model 'word2vec'",
			"search tent --store seattle --model text-embedding-3-small|needs OPENAI_API_KEY",
			"run partition-rollover table=ops.tasks|table 'ops.tasks' is not managed",
			"run partition-rollover as-of=tomorrow|as-of: 'tomorrow' is not a date",
			"run nightly as-of=tomorrow|as-of: 'tomorrow' is not a date", "run nightly table=ops.tasks|unknown parameter 'table'",
			"run backup database=no_such_db|database 'no_such_db' does not exist",
			"run backup keep-last=0|keep-last: must be between", "backup verify latest|latest' is not a backup id",
			"backup restore 20260101T000000000Z --target-db Bad-Name|Bad-Name' is not a plain name",
			"backup restore 20260101T000000000Z|Missing required option" })
	void badInputExitsTwoWithOneLineNamingTheProblemAndWritesNothing(String arguments, String problem) throws Exception {
		long executions = executions();
		Map<String, String> before = SeededTables.fingerprints();

		EtlProcess.Result result = EtlInProcess.run(arguments.split(" "));

		assertThat(result.exitCode()).isEqualTo(2);
		assertThat(result.stderr().strip()).contains(problem).doesNotContain("\n").startsWith("etl: ");
		assertThat(result.stdout()).isEmpty();
		assertThat(executions()).isEqualTo(executions);
		assertThat(SeededTables.fingerprints()).isEqualTo(before);
	}

	@Test
	void aSecretFileThatCannotBeReadExitsTwoNamingTheSettingAndTheFile() throws Exception {
		EtlProcess.Result result = EtlInProcess.run(
				Map.of("ETL_DB_PASSWORD", "", "ETL_DB_PASSWORD_FILE", "/nonexistent/db-password"), "executions");

		assertThat(result.exitCode()).isEqualTo(2);
		assertThat(result.stderr().strip())
			.isEqualTo("etl: ETL_DB_PASSWORD_FILE: must be a readable file, got '/nonexistent/db-password'");
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "jobs", "run", "executions", "status", "restart", "stop", "search", "backup", "archive",
			"keys", "schedules", "scheduler" })
	void everyCommandHasHelp(String command) throws Exception {
		EtlProcess.Result result = command.isEmpty() ? EtlInProcess.run("--help") : EtlInProcess.run(command, "--help");
		assertThat(result.exitCode()).isZero();
		assertThat(result.stdout()).startsWith("Usage: etl");
	}

	@Test
	void startsFromItsClassArchive() throws Exception {
		// -Xshare:on makes a JVM that cannot map the archive fail instead of starting without it
		EtlProcess.Result result = EtlProcess.start(Map.of("ETL_JAVA_OPTS", "-Xshare:on"), "executions").await();
		assertThat(result.exitCode()).as(result.stdout() + result.stderr()).isZero();
		assertThat(result.stdout()).startsWith("id ");
	}

	/**
	 * JFR with the runner's class archive crashed OpenJDK 17.0.15: a JVM asked to record (by bin/etl's options or the
	 * JVM's own variable) loads the runner's classes from the runner, with the JDK's archive alone.
	 */
	@ParameterizedTest
	@CsvSource(delimiter = '|', value = { "ETL_JAVA_OPTS||shared objects file",
			"ETL_JAVA_OPTS|-XX:FlightRecorderOptions=stackdepth=96|file:",
			"JDK_JAVA_OPTIONS|-XX:FlightRecorderOptions=stackdepth=96|file:" })
	void aJvmAskedToRecordStartsWithoutTheClassArchive(String variable, String options, String source,
			@TempDir Path directory) throws Exception {
		Path loaded = directory.resolve("loaded.log");
		String logged = "-Xlog:class+load=info:file=" + loaded;
		Map<String, String> environment = "ETL_JAVA_OPTS".equals(variable)
				? Map.of(variable, (options == null ? "" : options + " ") + logged)
				: Map.of(variable, options, "ETL_JAVA_OPTS", logged);

		EtlProcess.Result result = EtlProcess.start(environment, "--help").await();

		assertThat(result.exitCode()).as(result.stderr()).isZero();
		assertThat(Files.readAllLines(loaded))
			.anyMatch(line -> line.endsWith("] java.lang.Object source: shared objects file"))
			.anyMatch(line -> line.contains("] dev.pgbatch.cli.Cli source: " + source));
	}

	/**
	 * A bin/etl that finds the class archive being trained by another (no list yet, the lock taken) starts at once
	 * without it and leaves the training to the other. (That two first runs at once train one archive, moved into
	 * place whole, was checked by hand: a test here would unpack the runner again under the other classes' processes.)
	 */
	@Test
	void aStartThatFindsTheClassArchiveInTrainingStartsAtOnceWithoutIt(@TempDir Path directory) throws Exception {
		EtlProcess.run("--help");
		Path runner = Path.of("target", "runner");
		List<Path> trained = List.of(runner.resolve("classes.lst"), runner.resolve("classes.jsa"));
		String lock = Path.of("..", ".etl-build.lock").toString();
		Process training = new ProcessBuilder("flock", "--close", lock, "sleep", "600").start();
		try {
			await().atMost(Duration.ofSeconds(10))
				.until(() -> new ProcessBuilder("flock", "-n", lock, "true").start().waitFor() == 1);
			for (Path file : trained) {
				Files.move(file, aside(file));
			}
			try {
				Path loaded = directory.resolve("loaded.log");
				EtlProcess.Result result = EtlProcess
					.start(Map.of("ETL_JAVA_OPTS", "-Xlog:class+load=info:file=" + loaded), "--help")
					.await();

				assertThat(result.exitCode()).isZero();
				assertThat(result.stderr()).isEmpty();
				assertThat(trained).allMatch(Files::notExists);
				assertThat(Files.readAllLines(loaded)).anyMatch(line -> line.contains("] dev.pgbatch.cli.Cli source: file:"));
			}
			finally {
				for (Path file : trained) {
					Files.move(aside(file), file, StandardCopyOption.REPLACE_EXISTING);
				}
			}
		}
		finally {
			training.descendants().forEach(ProcessHandle::destroy);
			training.destroy();
			training.waitFor();
		}
	}

	private static Path aside(Path file) {
		return file.resolveSibling(file.getFileName() + ".aside");
	}

	/**
	 * What a new shell without the stack's settings, a wrong port, a wrong password or an unknown database get: one
	 * line naming the cause and the cure, not PgJDBC's words alone.
	 */
	@Test
	void aDatabaseThatCannotBeReachedOrRefusesTheLoginIsExplainedOnOneLineWithTheCure(@TempDir Path directory)
			throws Exception {
		int closed;
		try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
			closed = socket.getLocalPort();
		}
		Path wrong = Files.writeString(directory.resolve("wrong"), "not-the-password");
		String url = TestDatabase.url();
		Map.of(Map.of("ETL_DB_URL", "jdbc:postgresql://127.0.0.1:" + closed + "/pgbatch"),
				ConnectionProblems.REFUSED.formatted("Connection to 127.0.0.1:" + closed + " refused"),
				// (PgJDBC reads the stack's pgpass file too, which this property replaces)
				Map.of("ETL_DB_PASSWORD_FILE", "", "org.postgresql.pgpassfile", wrong + ".absent"),
				ConnectionProblems.NO_PASSWORD,
				Map.of("ETL_DB_PASSWORD_FILE", wrong.toString()), ConnectionProblems.WRONG_PASSWORD
					.formatted("password authentication failed for user \"" + TestDatabase.user() + "\""),
				Map.of("ETL_DB_URL", url.substring(0, url.lastIndexOf('/')) + "/no_such_database"),
				ConnectionProblems.NO_DATABASE.formatted("database \"no_such_database\" does not exist"))
			.forEach((settings, message) -> {
				// the commands that start only a few beans, and one that starts the whole application
				for (String command : List.of("executions", "status 1", "search tent --store seattle", "stop 1")) {
					EtlProcess.Result result = EtlInProcess.run(settings, command.split(" "));
					assertThat(result.exitCode()).as(command + " " + settings).isEqualTo(1);
					assertThat(result.stderr()).as(command + " " + settings).isEqualTo("etl: error: " + message + "\n");
				}
			});
	}

	/** A wrong S3 secret: one line naming the operation and the settings that hold the credentials. */
	@Test
	void anObjectStoreThatRefusesTheCredentialsIsExplainedOnOneLineWithTheSettings(@TempDir Path directory)
			throws Exception {
		Path wrong = Files.writeString(directory.resolve("wrong"), "not-the-secret");

		EtlProcess.Result result = EtlInProcess.run(Map.of("ETL_S3_SECRET_KEY_FILE", wrong.toString()), "backup", "list");

		assertThat(result.exitCode()).isEqualTo(1);
		assertThat(result.stderr().lines()).singleElement()
			.asString()
			.startsWith("etl: error: object store: ")
			.contains("refused the credentials (SignatureDoesNotMatch): check ETL_S3_ACCESS_KEY and the secret in"
					+ " ETL_S3_SECRET_KEY_FILE");
	}

	@Test
	void anUnknownExecutionIsBadInput() throws Exception {
		EtlProcess.Result result = EtlInProcess.run("status", "999999999");
		assertThat(result.exitCode()).isEqualTo(2);
		assertThat(result.stderr().strip()).isEqualTo("etl: there is no execution 999999999");
	}

	/**
	 * Spring Batch records local times without a zone: a run from a shell in another zone (TZ far from UTC) is
	 * recorded in UTC all the same, so that what executions prints in UTC is when it ran.
	 */
	@Test
	void aRunFromAShellInAnotherTimeZoneIsListedAtTheTimeItRan() throws Exception {
		java.time.Instant before = java.time.Instant.now().minusSeconds(1);
		EtlProcess.Result run = EtlProcess.start(Map.of("TZ", "Pacific/Kiritimati"), "run", "refresh-views", "--json")
			.await();
		java.time.Instant after = java.time.Instant.now().plusSeconds(1);

		assertThat(run.exitCode()).as(run.stderr()).isZero();
		long id = JSON.readTree(run.stdout()).get("executionId").asLong();
		JsonNode status = JSON.readTree(EtlInProcess.run("status", Long.toString(id), "--json").stdout());
		assertThat(java.time.Instant.parse(status.get("start").asString())).isBetween(before, after);
		assertThat(java.time.Instant.parse(status.get("end").asString())).isBetween(before, after);
	}

	@Test
	void aRunWithJsonPrintsOneDocumentThatStatusAndExecutionsAgreeWith() throws Exception {
		EtlProcess.Result run = EtlInProcess.run("run", "seed-data", "scale=0.02", "reset=true", "--json");

		assertThat(run.exitCode()).isZero();
		JsonNode document = JSON.readTree(run.stdout());
		long id = document.get("executionId").asLong();
		assertThat(document.get("job").asString()).isEqualTo("seed-data");
		assertThat(document.get("status").asString()).isEqualTo("COMPLETED");
		assertThat(document.get("start").asString()).isNotBlank();
		assertThat(document.get("end").asString()).isNotBlank();
		JsonNode customers = null;
		for (JsonNode step : document.get("steps")) {
			if (step.get("step").asString().equals("customers")) {
				customers = step;
			}
		}
		assertThat(customers).isNotNull();
		assertThat(customers.get("read").asLong()).isEqualTo(40);
		assertThat(customers.get("written").asLong()).isEqualTo(40);
		assertThat(customers.get("skipped").asLong()).isZero();

		EtlProcess.Result status = EtlInProcess.run("status", Long.toString(id), "--json");
		assertThat(JSON.readTree(status.stdout()).get("executionId").asLong()).isEqualTo(id);
		EtlProcess.Result executions = EtlInProcess.run("executions", "--job", "seed-data", "--limit", "1");
		assertThat(executions.exitCode()).isZero();
		assertThat(executions.stdout()).contains(Long.toString(id)).contains("COMPLETED");
	}

	@Test
	void aRunKilledWithSigkillRestartsToExactlyTheTablesOfAnUninterruptedRun() throws Exception {
		assertThat(EtlInProcess.run("run", "seed-data", "scale=2", "as-of=2026-05-01", "force=true", "reset=true").exitCode()).isZero();
		Map<String, String> uninterrupted = SeededTables.fingerprints();

		// killed early in the load, then again late in it
		EtlProcess run = EtlProcess.start(SMALL_CHUNKS, "run", "seed-data", "scale=2", "as-of=2026-05-01", "force=true", "reset=true");
		long id = awaitRunning(run);
		awaitUntil(() -> committedChunks(id, "customers") >= 2);
		run.kill();
		assertThat(status(id)).isEqualTo("STARTED");
		EtlProcess.Result shown = EtlInProcess.run("status", Long.toString(id));
		assertThat(shown.stdout()).contains("(its process is gone: restart continues it)")
			.contains("\n  continue it with: bin/etl restart " + id + "\n");

		EtlProcess restart = EtlProcess.start(SMALL_CHUNKS, "restart", Long.toString(id));
		long restartId = awaitExecutionAfter(id);
		awaitUntil(() -> committedChunks(restartId, "task-executions") >= 5);
		restart.kill();

		EtlProcess.Result finished = EtlInProcess.run("restart", Long.toString(restartId));
		assertThat(finished.exitCode()).as(finished.stderr()).isZero();
		assertThat(finished.stderr()).contains("process that is gone");
		assertThat(SeededTables.fingerprints()).isEqualTo(uninterrupted);
		// the two killed executions, FAILED now, were each continued by a later one: no hint to restart them, which
		// restart would refuse (review 11 #16)
		for (long superseded : List.of(id, restartId)) {
			EtlProcess.Result old = EtlInProcess.run("status", Long.toString(superseded));
			assertThat(old.stdout()).contains("  FAILED  ").doesNotContain("continue it with");
			assertThat(JSON.readTree(EtlInProcess.run("status", Long.toString(superseded), "--json").stdout())
				.path("superseded").asBoolean(false)).isTrue();
		}
	}

	@Test
	void anEmbedRunKilledWithSigkillRestartsWithoutEmbeddingAgainWhatWasCommitted() throws Exception {
		// 500 products, none embedded
		seededAtScale1();

		EtlProcess run = EtlProcess.start(Map.of(), "run", "embed-products", "batch-size=16");
		long id = awaitRunning(run);
		awaitUntil(() -> committedChunks(id, "embed") >= 3);
		run.kill();
		Map<String, String> committed = embeddedAt();
		assertThat(committed).hasSizeGreaterThanOrEqualTo(48).hasSizeLessThan(500);

		EtlProcess.Result restart = EtlInProcess.run("restart", Long.toString(id));
		assertThat(restart.exitCode()).as(restart.stderr()).isZero();
		assertThat(restart.stderr()).contains("process that is gone");
		Map<String, String> all = embeddedAt();
		assertThat(all).hasSize(500).containsAllEntriesOf(committed);
	}

	@Test
	void aPolicyFileWithATableNameThatIsNotAPlainIdentifierIsRefusedNamingFileAndEntry(@TempDir Path directory)
			throws Exception {
		Path policy = directory.resolve("policy.yml");
		Files.writeString(policy, "tables:\n  - table: ops.audit_log\n  - table: \"ops.audit_log; DROP TABLE ops.users\"\n");
		long executions = executions();

		EtlProcess.Result result = EtlInProcess.run(Map.of("ETL_PARTITION_POLICY", policy.toString()), "run",
				"partition-rollover");

		assertThat(result.exitCode()).isEqualTo(2);
		assertThat(result.stderr().strip()).isEqualTo("etl: ETL_PARTITION_POLICY: " + policy + ": tables[1]: 'ops.audit_log; DROP TABLE ops.users'"
				+ " is not a plain schema-qualified table name (schema.table, lower-case letters, digits and _)");
		assertThat(executions()).isEqualTo(executions);
	}

	/** Rows of ops.task_executions still in PostgreSQL plus those in verified cold objects. */
	private static final String IN_POSTGRES_OR_VERIFIED = "SELECT (SELECT count(*) FROM ops.task_executions)"
			+ " + (SELECT coalesce(sum(row_count), 0) FROM ops.archive_log WHERE tier = 'cold' AND status = 'completed')";

	/** A copy of the class's database as {@link #seededAtScale1} leaves it, made by its first call. */
	private static String scale1Copy;

	/**
	 * The class's database with the seed's own 19 months of task executions at scale 1, as-of 2026-06-30, and an
	 * empty archive log (no other test's partitions): seeded by the first test that asks, given back to the next
	 * ones as a copy (seconds, not a seed run at scale 1).
	 */
	private static void seededAtScale1() throws Exception {
		if (scale1Copy != null) {
			TestDatabase.replaceWith(scale1Copy);
			return;
		}
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			statement.execute("DO $$ DECLARE p text; BEGIN FOR p IN SELECT c.oid::regclass::text FROM pg_inherits i"
					+ " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ops.task_executions'::regclass"
					+ " AND c.relname <> 'task_executions_default' LOOP EXECUTE 'DROP TABLE ' || p; END LOOP; END $$");
			statement.execute("DELETE FROM ops.archive_log");
		}
		assertThat(EtlInProcess.run("run", "seed-data", "scale=1", "as-of=2026-06-30", "force=true", "reset=true").exitCode()).isZero();
		scale1Copy = TestDatabase.snapshot("scale1");
	}

	/**
	 * {@link #seededAtScale1}, and the environment of an archive run with a keyset and an object-store folder of its
	 * own.
	 */
	private static Map<String, String> archiveEnvironment(Path directory) throws Exception {
		Path keyset = directory.resolve("keyset.json");
		Keyset.init(keyset);
		seededAtScale1();
		return Map.of("ETL_BACKUP_KEYSET", keyset.toString(), "ETL_ARCHIVE_PREFIX", "cli-archive-" + System.nanoTime());
	}

	@Test
	void anArchiveRunKilledWithSigkillLosesNoRowAndItsRestartFinishes(@TempDir Path directory) throws Exception {
		Map<String, String> environment = archiveEnvironment(directory);
		long total = queryLong("SELECT count(*) FROM ops.task_executions");

		EtlProcess run = EtlProcess.start(environment, "run", "archive", "as-of=2026-06-30", "force=true", "table=ops.task_executions");
		long id = awaitRunning(run);
		awaitUntil(() -> queryLong("SELECT count(*) FROM ops.archive_log WHERE tier = 'cold'") >= 2);
		run.kill();
		assertThat(queryLong(IN_POSTGRES_OR_VERIFIED)).isEqualTo(total);

		EtlProcess.Result restart = etl(environment, "restart", Long.toString(id));
		assertThat(restart.exitCode()).as(restart.stderr()).isZero();
		assertThat(queryLong(IN_POSTGRES_OR_VERIFIED)).isEqualTo(total);
		assertThat(queryLong("SELECT count(DISTINCT partition_name) FROM ops.archive_log WHERE tier = 'cold'"
				+ " AND status = 'completed'")).isEqualTo(4);
	}

	@Test
	void anArchiveRunKilledWhileItDropsAnExportedPartitionLosesNoRowAndItsRestartFinishes(@TempDir Path directory)
			throws Exception {
		Map<String, String> environment = archiveEnvironment(directory);
		long total = queryLong("SELECT count(*) FROM ops.task_executions");
		long id;
		try (Connection reader = TestDatabase.connect(); Statement statement = reader.createStatement()) {
			// a reader of the second cold partition: the export may read beside it, the detach must wait for it
			reader.setAutoCommit(false);
			statement.execute("LOCK TABLE ops.task_executions_p2025_01 IN ACCESS SHARE MODE");
			EtlProcess run = EtlProcess.start(environment, "run", "archive", "as-of=2026-06-30", "force=true",
					"table=ops.task_executions");
			id = awaitRunning(run);
			awaitUntil(() -> queryLong("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
					+ " AND wait_event_type = 'Lock' AND query LIKE '%DETACH PARTITION%task_executions_p2025_01%'") == 1);
			run.kill();
			reader.rollback();
		}
		assertThat(queryLong(IN_POSTGRES_OR_VERIFIED)).isEqualTo(total);
		assertThat(queryLong("SELECT count(*) FROM ops.task_executions_p2025_01")).isPositive();

		EtlProcess.Result restart = etl(environment, "restart", Long.toString(id));
		assertThat(restart.exitCode()).as(restart.stderr()).isZero();
		assertThat(queryLong(IN_POSTGRES_OR_VERIFIED)).isEqualTo(total);
		assertThat(queryLong("SELECT count(*) FROM ops.archive_log WHERE tier = 'cold' AND status = 'completed'"))
			.isEqualTo(4);
		assertThat(queryLong("SELECT count(*) FROM pg_class WHERE relname = 'task_executions_p2025_01'")).isZero();
	}

	/** What a refusal says of the holder's session after its application_name: from where, since when, its pid. */
	private static final String WHERE_SINCE = "; connected from \\S+ since \\S+Z, server pid \\d+";

	@Test
	void aJobWhoseLockIsHeldByALiveProcessIsNeverStartedTwice() throws Exception {
		assertThat(EtlInProcess.run("run", "seed-data", "scale=0.02", "reset=true").exitCode()).isZero();
		long executions = executions();
		Map<String, String> before = SeededTables.fingerprints();
		try (Connection other = TestDatabase.connect(); Statement statement = other.createStatement()) {
			// what a live bin/etl process running seed-data holds
			statement.execute("SELECT set_config('application_name', 'pgbatch seed-data, pid 4242 on elsewhere', false), "
					+ "pg_advisory_lock(hashtext('pgbatch.job'), hashtext('seed-data'))");

			EtlProcess.Result second = EtlInProcess.run("run", "seed-data", "scale=0.01", "reset=true");

			assertThat(second.exitCode()).isEqualTo(1);
			assertThat(second.stderr().strip()).matches(
					"etl: job seed-data is already running \\(pgbatch seed-data, pid 4242 on elsewhere" + WHERE_SINCE
							+ "\\); a second run is refused");
			EtlProcess.Result restart = EtlInProcess.run("restart", Long.toString(lastExecution()));
			assertThat(restart.exitCode()).isEqualTo(1);
		}
		assertThat(executions()).isEqualTo(executions);
		assertThat(SeededTables.fingerprints()).isEqualTo(before);
	}

	@ParameterizedTest
	@ValueSource(strings = { "partition-rollover", "archive", "refresh-views", "backup" })
	void aSecondRunOfAJobThatIsRunningIsRefusedBeforeItWritesAnything(String job) throws Exception {
		long executions = executions();
		try (Connection other = TestDatabase.connect(); Statement statement = other.createStatement()) {
			statement.execute("SELECT set_config('application_name', 'pgbatch " + job + ", pid 4242 on elsewhere', false), "
					+ "pg_advisory_lock(hashtext('pgbatch.job'), hashtext('" + job + "'))");

			EtlProcess.Result second = EtlInProcess.run("run", job);

			assertThat(second.exitCode()).isEqualTo(1);
			assertThat(second.stderr().strip()).matches("etl: job " + job + " is already running \\(pgbatch " + job
					+ ", pid 4242 on elsewhere" + WHERE_SINCE + "\\); a second run is refused");
		}
		assertThat(executions()).isEqualTo(executions);
	}

	/** The steps of docs/operations.md, "Restoring at 3 a.m.", and the keys commands around them. */
	@Test
	void theOperationsDocsRestoreStepsWorkThroughBinEtlBeforeAndAfterAKeyRotation(@TempDir Path directory) throws Exception {
		Path keyset = directory.resolve("keyset.json");
		Map<String, String> environment = Map.of("ETL_BACKUP_KEYSET", keyset.toString(), "ETL_BACKUP_PREFIX",
				"cli-backup-" + System.nanoTime());
		String target = "pgbatch_cli_restored";
		TestDatabase.dropDatabase(target);
		// a small database, whatever the test before left (up to scale 1 with its embeddings): the backup and its four
		// restores are of this one
		assertThat(EtlInProcess.run("run", "seed-data", "scale=0.02", "reset=true").exitCode()).isZero();
		try {
			assertThat(etl(environment, "keys", "init").exitCode()).isZero();
			assertThat(Files.getPosixFilePermissions(keyset)).containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ,
					PosixFilePermission.OWNER_WRITE);
			EtlProcess.Result again = etl(environment, "keys", "init");
			assertThat(again.exitCode()).isEqualTo(1);
			assertThat(again.stderr()).contains("never overwritten");

			assertThat(etl(environment, "run", "backup").exitCode()).isZero();
			// made after the backup: gone once step 4 has replaced the database
			execute("CREATE TABLE public.made_after_the_backup ()");
			JsonNode listed = JSON.readTree(etl(environment, "backup", "list", "--json").stdout());
			assertThat(listed.size()).isEqualTo(1);
			String id = listed.get(0).get("manifest").get("id").asString();
			// step 2 as the README gives it: the id is the first column of the listing
			EtlProcess.Result step2 = etl(environment, "backup", "list");
			assertThat(step2.exitCode()).as(step2.stderr()).isZero();
			assertThat(step2.stdout().lines().skip(1).findFirst()).as(step2.stderr())
				.hasValueSatisfying(line -> assertThat(line.split(" ")[0]).isEqualTo(id));
			EtlProcess.Result drill = etl(environment, "backup", "verify", id, "--restore-test");
			assertThat(drill.exitCode()).as(drill.stderr()).isZero();
			assertThat(drill.stdout()).contains("restored into a scratch database");

			// step 3
			EtlProcess.Result restore = etl(environment, "backup", "restore", id, "--target-db", target);
			assertThat(restore.exitCode()).as(restore.stderr()).isZero();
			assertThat(restore.stdout()).contains("every table holds the rows its manifest recorded");
			// review 4 #5: a copy beside the original is told it shares its archive id, and how to give it its own
			String archiveId;
			try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement();
					ResultSet result = statement.executeQuery("SELECT archive_id::text FROM ops.archive_installation")) {
				result.next();
				archiveId = result.getString(1);
			}
			assertThat(restore.stdout().strip().lines().reduce((first, last) -> last)).hasValue(target + " keeps archive id "
					+ archiveId + ", the one of the database the backup"
					+ " was taken of: if that database goes on archiving, give " + target + " its own before it archives (in it:"
					+ " UPDATE ops.archive_installation SET archive_id = gen_random_uuid(); better, its own ETL_ARCHIVE_PREFIX"
					+ " too: docs/jobs/archive.md, whose segments)");
			assertThat(queryLong(target, "SELECT count(*) FROM ops.task_executions"))
				.isEqualTo(queryLong("SELECT count(*) FROM ops.task_executions"));
			EtlProcess.Result refused = etl(environment, "backup", "restore", id, "--target-db", target);
			assertThat(refused.exitCode()).isEqualTo(2);
			assertThat(refused.stderr()).contains("--force");

			EtlProcess.Result rotate = etl(environment, "keys", "rotate");
			assertThat(rotate.exitCode()).isZero();
			assertThat(rotate.stdout()).contains("holds 2 keys");
			assertThat(etl(environment, "backup", "verify", id).exitCode()).isZero();
			EtlProcess.Result forced = etl(environment, "backup", "restore", id, "--target-db", target, "--force");
			assertThat(forced.exitCode()).as(forced.stderr()).isZero();
			assertThat(JSON.readTree(etl(environment, "backup", "list", "--json").stdout()).get(0).get("verified").isNull())
				.isFalse();

			// step 4 onto the database of ETL_DB_URL itself, with the application still connected to it
			long rows = queryLong("SELECT count(*) FROM ops.task_executions");
			try (Connection application = TestDatabase.connect()) {
				EtlProcess.Result busy = etl(environment, "backup", "restore", id, "--target-db", TestDatabase.name(), "--force");
				assertThat(busy.exitCode()).isEqualTo(1);
				assertThat(busy.stderr()).contains("other sessions connected").contains("--terminate-sessions");
				assertThat(application.isValid(5)).isTrue();

				// step 4, through bin/etl
				EtlProcess.Result replaced = EtlProcess.start(environment, "backup", "restore", id, "--target-db",
						TestDatabase.name(), "--force", "--terminate-sessions").await();
				assertThat(replaced.exitCode()).as(replaced.stderr()).isZero();
				assertThat(replaced.stdout()).contains("every table holds the rows its manifest recorded");
				assertThat(application.isValid(5)).isFalse();
			}
			assertThat(queryLong("SELECT count(*) FROM ops.task_executions")).isEqualTo(rows);
			assertThat(queryLong("SELECT count(*) FROM pg_class WHERE relname = 'made_after_the_backup'")).isZero();
			// of this backup: other classes' restores may be under way on the server
			assertThat(queryLong("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgbatch\\_re%\\_"
					+ id.toLowerCase(Locale.ROOT) + "\\_%'")).isZero();
		}
		finally {
			TestDatabase.dropDatabase(target);
		}
	}

	/** backup list's last line counts the objects under the prefix that are in no backup folder, in these words. */
	@Test
	void backupListCountsTheObjectsOutsideAnyBackupFolder(@TempDir Path directory) throws Exception {
		String prefix = "cli-unlisted-" + System.nanoTime();
		Map<String, String> environment = Map.of("ETL_BACKUP_KEYSET", directory.resolve("keyset.json").toString(),
				"ETL_BACKUP_PREFIX", prefix);
		String header = String.format(Locale.ROOT, "%-20s %-16s %-20s %14s %14s %10s  %s%n", "id", "database", "started",
				"dump bytes", "stored bytes", "key", "verified");
		MinioClient s3 = MinioClient.builder()
			.endpoint(System.getenv().getOrDefault("ETL_S3_ENDPOINT", "http://127.0.0.1:9900"))
			.region(System.getenv().getOrDefault("ETL_S3_REGION", "us-east-1"))
			.credentials(System.getenv().getOrDefault("ETL_S3_ACCESS_KEY", "pgbatch"), TestDatabase.secret("ETL_S3_SECRET_KEY"))
			.build();
		String bucket = System.getenv().getOrDefault("ETL_S3_BUCKET", "pgbatch");
		// beside the folders (server/database/id/file): at the top, and a folder whose id is not a backup id
		List<String> strays = List.of(prefix + "/stray.txt", prefix + "/server/database/not-an-id/manifest.json");

		assertThat(etl(environment, "keys", "init").exitCode()).isZero();
		EtlProcess.Result empty = etl(environment, "backup", "list");
		assertThat(empty.exitCode()).as(empty.stderr()).isZero();
		assertThat(empty.stdout()).isEqualTo(header);
		try {
			for (String key : strays) {
				s3.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
					.stream(new ByteArrayInputStream(new byte[] { 1 }), 1L, -1L).build());
			}

			EtlProcess.Result listed = etl(environment, "backup", "list");

			assertThat(listed.exitCode()).as(listed.stderr()).isZero();
			assertThat(listed.stdout()).isEqualTo(header + "and 2 object(s) under " + prefix + "/ not shown: outside any"
					+ " backup folder (server/database/id/), an older layout or put there by hand; never restored, never"
					+ " removed by retention\n");
		}
		finally {
			for (String key : strays) {
				s3.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
			}
		}
	}

	@Test
	void anArchivedPartitionIsListedAndRestoredThroughBinEtl(@TempDir Path directory) throws Exception {
		Map<String, String> environment = archiveEnvironment(directory);
		long total = queryLong("SELECT count(*) FROM ops.task_executions");
		long january = queryLong("SELECT count(*) FROM ops.task_executions_p2025_01");
		assertThat(etl(environment, "run", "archive", "as-of=2026-06-30", "force=true", "table=ops.task_executions").exitCode()).isZero();
		assertThat(queryLong("SELECT count(*) FROM pg_class WHERE relname = 'task_executions_p2025_01'")).isZero();

		JsonNode listed = JSON.readTree(etl(environment, "archive", "list", "--json").stdout());
		List<String> tiers = new ArrayList<>();
		for (JsonNode entry : listed) {
			if (entry.get("partition").asString().equals("task_executions_p2025_01")) {
				tiers.add(entry.get("tier").asString());
			}
		}
		assertThat(tiers).containsExactly("cold");
		EtlProcess.Result restore = etl(environment, "archive", "restore", "ops.task_executions", "task_executions_p2025_01");

		assertThat(restore.exitCode()).as(restore.stderr()).isZero();
		assertThat(queryLong("SELECT count(*) FROM ops.task_executions_p2025_01")).isEqualTo(january);
		assertThat(queryLong(IN_POSTGRES_OR_VERIFIED)).isEqualTo(total);
	}

	private static EtlProcess.Result etl(Map<String, String> settings, String... arguments) {
		return EtlInProcess.run(settings, arguments);
	}

	private static long awaitRunning(EtlProcess run) throws Exception {
		long before = lastExecution();
		awaitUntil(() -> {
			assertThat(run.isAlive()).as("the run ended early").isTrue();
			return lastExecution() > before;
		});
		return lastExecution();
	}

	private static long awaitExecutionAfter(long id) throws Exception {
		awaitUntil(() -> lastExecution() > id);
		return lastExecution();
	}

	private static void awaitUntil(Callable<Boolean> condition) {
		await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50)).until(condition);
	}

	private static long committedChunks(long executionId, String step) {
		return queryLong("SELECT coalesce(max(commit_count), 0) FROM etl.batch_step_execution WHERE job_execution_id = "
				+ executionId + " AND step_name = '" + step + "'");
	}

	/** When each product's embedding was written. */
	private static Map<String, String> embeddedAt() throws Exception {
		Map<String, String> times = new java.util.HashMap<>();
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery("SELECT product_id, updated_at FROM retail.product_embeddings")) {
			while (rows.next()) {
				times.put(rows.getString(1), rows.getString(2));
			}
		}
		return times;
	}

	private static long lastExecution() {
		return queryLong("SELECT coalesce(max(job_execution_id), 0) FROM etl.batch_job_execution");
	}

	private static long executions() {
		return queryLong("SELECT count(*) FROM etl.batch_job_execution");
	}

	private static String status(long id) throws Exception {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement();
				ResultSet result = statement.executeQuery("SELECT status FROM etl.batch_job_execution WHERE job_execution_id = " + id)) {
			result.next();
			return result.getString(1);
		}
	}

	private static long queryLong(String sql) {
		return queryLong(TestDatabase.name(), sql);
	}

	private static void execute(String sql) throws Exception {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

	private static long queryLong(String database, String sql) {
		try (Connection connection = TestDatabase.connect(database); Statement statement = connection.createStatement();
				ResultSet result = statement.executeQuery(sql)) {
			result.next();
			return result.getLong(1);
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

}
