package dev.pgbatch.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.core.ParameterType;
import dev.pgbatch.SettingsTestRows;
import dev.pgbatch.seed.SeededTables;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hostile-input table: every command, every job parameter and every setting with bad values, run through
 * the command line in this JVM (as bin/etl runs it, without a process per row): exit 2, one line on stderr
 * naming the problem, nothing on stdout, and nothing written: no execution, no change to the seeded tables,
 * no object in the store. Settings are given as system properties, which Spring and the settings' check read
 * before the environment.
 */
class BadInputIntegrationTests {

	private static final Map<String, String> DATABASE = new HashMap<>();

	private static final String BUCKET = "pgbatch-bad-input";

	private static final MinioClient STORE = MinioClient.builder()
		.endpoint(System.getenv().getOrDefault("ETL_S3_ENDPOINT", "http://127.0.0.1:9900"))
		.credentials(System.getenv().getOrDefault("ETL_S3_ACCESS_KEY", "pgbatch"),
				TestDatabase.secret("ETL_S3_SECRET_KEY"))
		.region("us-east-1")
		.build();

	/** The seeded tables before the first row: hashing them per row would make the table take minutes. */
	private static Map<String, String> tables;

	@BeforeAll
	static void aimAtTheTestDatabase() throws Exception {
		DATABASE.put("ETL_DB_URL", TestDatabase.url());
		// a bucket of its own: other classes write to the stack's bucket at the same time
		DATABASE.put("ETL_S3_BUCKET", BUCKET);
		DATABASE.forEach(System::setProperty);
		tables = SeededTables.fingerprints();
	}

	@AfterAll
	static void noRowChangedTheSeededTables() throws Exception {
		DATABASE.keySet().forEach(System::clearProperty);
		assertThat(SeededTables.fingerprints()).isEqualTo(tables);
	}

	/** Each job parameter with a value of the wrong kind, or beyond its bounds. */
	static Stream<Arguments> everyJobParameter() {
		List<Arguments> rows = new ArrayList<>();
		for (JobDefinition job : JobCatalog.JOBS) {
			for (ParameterDefinition parameter : job.parameters()) {
				for (String bad : switch (parameter.type()) {
					case LONG -> List.of("1.5");
					case DECIMAL -> List.of("NaN");
					case DATE -> List.of("2099-01-01", "+999999-01-01");
					case BOOLEAN -> List.of("yes\nno");
					case STRING -> List.of("no such\nthing");
				}) {
					rows.add(Arguments.of(Map.of(), List.of("run", job.name(), parameter.name() + "=" + bad), parameter.name()));
				}
				// just past each bound
				if (parameter.check() instanceof ParameterDefinition.Range range) {
					double step = (parameter.type() == ParameterType.LONG) ? 1 : 0.0001;
					// a bound as large as Long.MAX_VALUE has nothing beyond it that a double can say
					for (double beyond : java.util.stream.DoubleStream.of(range.min() - step, range.max() + step)
						.filter(value -> Math.abs(value) < 1e15)
						.toArray()) {
						String value = (parameter.type() == ParameterType.LONG) ? Long.toString((long) beyond)
								: java.math.BigDecimal.valueOf(beyond).toPlainString();
						rows.add(Arguments.of(Map.of(), List.of("run", job.name(), parameter.name() + "=" + value),
								parameter.name() + ": must be between"));
					}
				}
			}
		}
		return rows.stream();
	}

	/**
	 * Each setting with its first bad value (SettingsTests checks the others), on a command that would write if
	 * the value got through.
	 */
	static Stream<Arguments> everySetting() {
		return SettingsTestRows.BAD_VALUES.entrySet()
			.stream()
			.flatMap(setting -> Stream.of(setting.getValue()[0])
				.map(bad -> Arguments.of(Map.of(setting.getKey(), bad), List.of("run", "seed-data", "scale=0.01", "reset=true"),
						setting.getKey())));
	}

	/** Each command and subcommand, with an option it does not have. */
	static Stream<Arguments> everyCommand() {
		List<Arguments> rows = new ArrayList<>();
		commands(EtlCommand.commandLine(), new ArrayList<>(), rows);
		return rows.stream();
	}

	private static void commands(CommandLine command, List<String> path, List<Arguments> rows) {
		List<String> arguments = new ArrayList<>(path);
		arguments.add("--no-such-option");
		// picocli names the unknown option, or first a missing argument; either way it points at the help
		rows.add(Arguments.of(Map.of(), arguments, "(see: etl"));
		command.getSubcommands().forEach((name, sub) -> {
			if (!name.equals("help")) {
				List<String> deeper = new ArrayList<>(path);
				deeper.add(name);
				commands(sub, deeper, rows);
			}
		});
	}

	/** What a command checks beyond the types of its arguments. */
	static Stream<Arguments> commandArguments() {
		return Stream.of(row("run nope", "unknown job 'nope'"), row("run seed-data colour=red", "unknown parameter 'colour'"),
				row("run archive as-of=2099-01-01 dry-run=true", "give force=true"),
				row("run partition-rollover as-of=+999999-01-01 force=true", "is not a date"),
				row("run partition-rollover table=ops.tasks", "table 'ops.tasks' is not managed"),
				row("run backup database=no_such_db", "database 'no_such_db' does not exist"),
				row("run backup keep-last=0", "keep-last: must be between"),
				row("run embed-products store=atlantis", "store: unknown store 'atlantis'"),
				row("run embed-products model=word2vec", "model: unknown model 'word2vec'"),
				row("restart abc", "Invalid value"), row("status 999999999", "there is no execution 999999999"),
				row("stop abc", "Invalid value"),
				row("search tent --store atlantis", "unknown store 'atlantis'"),
				row("search tent --store seattle --limit 0", "--limit must be between"),
				row("backup verify latest", "latest' is not a backup id"),
				row("backup verify 20990101T000000000Z", "there is no complete backup '20990101T000000000Z'"),
				row("backup restore 20990101T000000000Z --target-db x", "there is no complete backup '20990101T000000000Z'"),
				row("backup verify", "name a backup ID (bin/etl backup list) or give --physical, not both"),
				row("backup verify 20260101T000000000Z --physical", "or give --physical, not both"),
				row("backup verify --physical --restore-test", "--restore-test goes with a backup ID only"),
				row("backup verify 20260101T000000000Z --json", "--json goes with --physical only"),
				row("backup restore 20260101T000000000Z --target-db Bad-Name", "Bad-Name' is not a plain name"),
				row("backup restore", "Missing required parameter: 'ID' (or a point in time"),
				row("backup restore 20260101T000000000Z --target-db x --to p1 --data-dir /var/tmp/x", "not both"),
				row("backup restore --to p1 --to-time 2026-01-01T00:00:00Z --data-dir /var/tmp/x", "--to NAME or --to-time T, one of them"),
				row("backup restore --data-dir /var/tmp/x", "--to NAME or --to-time T, one of them"),
				row("backup restore --to p1", "--data-dir DIR is required"),
				row("backup restore --to p1 --data-dir /var/tmp/a'b", "a directory's path of letters, digits"),
				row("backup restore --to p1 --data-dir /var/tmp/a/../b", "a directory's path of letters, digits"),
				row("backup restore --to bad/name --data-dir /var/tmp/x", "restore point name 'bad/name'"),
				row("backup restore --to-time yesterday --data-dir /var/tmp/x", "--to-time 'yesterday': a date and time with its zone"),
				row("backup restore --to-time 2026-12-03T02:40:00 --data-dir /var/tmp/x", "a date and time with its zone"),
				row("backup restore --to p1 --data-dir /var/tmp/x --port 0", "--port 0: a port from 1024 to 65535"),
				row("backup restore --to p1 --data-dir /var/tmp/x --port 1023", "--port 1023: a port from 1024 to 65535"),
				row("backup restore --release /srv/x --data-dir /srv/x", "backup restore --release DIR goes alone: no ID,"),
				row("backup restore --release /srv/a'b", "a directory's path of letters, digits"),
				row("backup restore --release /srv/never-restored", "backup restore --release /srv/never-restored: no kept"
						+ " restore into that directory is recorded on host "),
				row("backup drill --to p1 --to-time 2026-01-01T00:00:00Z", "backup drill: --to NAME or --to-time T"),
				row("backup drill --to-time soon", "a date and time with its zone"),
				row("archive restore ops.task_executions task_executions_p2025_07;drop", "PARTITION: 'task_executions_p2025_07;drop' is not a plain name"),
				row("archive restore ops.task_executions ops.task_executions_p2025_07", "PARTITION: "),
				row("archive restore task_executions task_executions_p2025_07", "TABLE: "),
				row("archive restore ops.tasks tasks_p2025_07", "TABLE: table 'ops.tasks' is not managed"),
				row("archive forget ops.task_executions task_executions_p2025_07;drop k", "PARTITION: 'task_executions_p2025_07;drop' is not a plain name"),
				row("archive forget ops.tasks tasks_p2025_07 k", "TABLE: table 'ops.tasks' is not managed"),
				row("archive forget ops.task_executions task_executions_p2025_07 archive/x.copy.zst.tink --force",
						"has no completed cold segment stored at archive/x.copy.zst.tink"),
				row("archive adopt ops.tasks tasks_p2025_07 k", "TABLE: table 'ops.tasks' is not managed"),
				row("archive adopt ops.task_executions task_executions_p2025_07 archive/ops.task_executions/task_executions_p2025_07/x.copy.zst.tink",
						"is not the key of a cold segment of that partition"),
				row("keys nope", "Unmatched argument"));
	}

	private static Arguments row(String arguments, String problem) {
		return Arguments.of(Map.of(), List.of(arguments.split(" ")), problem);
	}

	@ParameterizedTest
	@MethodSource({ "everyJobParameter", "everySetting", "everyCommand", "commandArguments" })
	void badInputExitsTwoWithOneLineNamingTheProblemAndWritesNothing(Map<String, String> settings, List<String> arguments,
			String problem) throws Exception {
		long executions = executions();
		long objects = objects();

		EtlProcess.Result outcome = run(settings, arguments);

		assertThat(outcome.exitCode()).as(outcome.stderr()).isEqualTo(2);
		assertThat(outcome.stderr()).startsWith("etl: ").endsWith("\n").contains(problem);
		assertThat(outcome.stderr().strip()).doesNotContain("\n");
		assertThat(outcome.stdout()).isEmpty();
		assertThat(executions()).isEqualTo(executions);
		assertThat(objects()).isEqualTo(objects);
	}

	/**
	 * The rows above give settings as system properties, in this JVM; here one as bin/etl gets it, from the
	 * environment, and a secret as a java option (on the command line, which ps shows), which no row here can give.
	 */
	@Test
	void aBadSettingInTheEnvironmentOrASecretAmongTheJavaOptionsOfBinEtlExitsTwoWithOneLineAndWritesNothing()
			throws Exception {
		long executions = executions();
		EtlProcess.Result outcome = EtlProcess.start(Map.of("ETL_ROLLOVER_BATCH_ROWS", "0"), "run", "partition-rollover")
			.await();
		assertThat(outcome.exitCode()).as(outcome.stderr()).isEqualTo(2);
		assertThat(outcome.stderr().strip()).startsWith("etl: ").contains("ETL_ROLLOVER_BATCH_ROWS").doesNotContain("\n");

		// without the stack's file of that secret, which would be refused as the secret given twice
		EtlProcess.Result secret = EtlProcess.runIn(null, Map.of("ETL_JAVA_OPTS", "-DETL_S3_SECRET_KEY=hunter2"),
				List.of("ETL_S3_SECRET_KEY_FILE"), "executions");
		assertThat(secret.exitCode()).as(secret.stderr()).isEqualTo(2);
		assertThat(secret.stderr().strip()).startsWith("etl: ETL_S3_SECRET_KEY: given as -DETL_S3_SECRET_KEY")
			.contains("ETL_S3_SECRET_KEY_FILE")
			.doesNotContain("hunter2")
			.doesNotContain("\n");
		assertThat(secret.stdout()).isEmpty();
		assertThat(executions()).isEqualTo(executions);
	}

	@Test
	void schedulesFromADirectoryWithoutAnyScheduleOrWithACronThatNeverFiresAreRefused() throws Exception {
		Path empty = Files.createTempDirectory("schedules");
		Path past = Files.createTempDirectory("schedules");
		Files.writeString(past.resolve("past.yaml"), "schedules:\n  - {name: past, job: backup, cron: \"0 0 3 1 1 ? 2020\"}\n");
		for (List<String> command : List.of(List.of("scheduler"), List.of("schedules", "apply"), List.of("schedules", "list"))) {
			if (!command.contains("list")) {
				// list shows the stored schedules whatever the directory holds
				assertThat(run(Map.of("ETL_SCHEDULES_DIR", empty.toString()), command)).satisfies(outcome -> {
					assertThat(outcome.exitCode()).isEqualTo(2);
					assertThat(outcome.stderr().strip()).contains("holds no schedule").doesNotContain("\n");
				});
			}
			assertThat(run(Map.of("ETL_SCHEDULES_DIR", past.toString()), command)).satisfies(outcome -> {
				assertThat(outcome.exitCode()).isEqualTo(2);
				assertThat(outcome.stderr().strip()).contains("entry 'past': cron '0 0 3 1 1 ? 2020' never fires again")
					.doesNotContain("\n");
			});
		}
	}

	/** The command line in this JVM with the settings given, its output captured. */
	private static EtlProcess.Result run(Map<String, String> settings, List<String> arguments) {
		return EtlInProcess.run(settings, arguments.toArray(String[]::new));
	}

	private static long executions() throws Exception {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement();
				ResultSet result = statement.executeQuery("SELECT count(*) FROM etl.batch_job_execution")) {
			result.next();
			return result.getLong(1);
		}
	}

	private static long objects() {
		try {
			if (!STORE.bucketExists(io.minio.BucketExistsArgs.builder().bucket(BUCKET).build())) {
				return 0;
			}
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
		return StreamSupport.stream(STORE.listObjects(ListObjectsArgs.builder().bucket(BUCKET).recursive(true).build())
			.spliterator(), false).count();
	}

}
