package dev.pgbatch.backup;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.pgbatch.RestoreTurns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.cli.EtlInProcess;
import dev.pgbatch.cli.EtlProcess;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * bin/etl backup restore --to NAME|--to-time T --data-dir DIR [--port P] against the stack's cluster and pgBackRest
 * repository: one full backup and one restore point shared by the class (a table made after the point must not be
 * restored). The restored cluster runs apart (its own port and socket, archiving nothing but keeping its WAL, also after a restart), and the
 * steps of docs/operations.md run as written; bad directories and times are refused with nothing written, and a
 * restore that fails stops what it started and removes only what it made.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PointInTimeRestoreIntegrationTests {

	private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

	private static final Path STACK = Path.of(System.getenv("ETL_STACK_DIR"));

	/**
	 * Where the tests' restores go (BackupWaitIntegrationTests' too): the stack's directory, unless it is in a temporary
	 * place (a clone under /tmp), which backup restore --to refuses; then a directory of the stack's port under
	 * /var/lib. Short either way, for the sockets' 107 bytes.
	 */
	static final Path RESTORES = PointInTimeRestores.temporary(STACK) == null ? STACK
			: Path.of("/var/lib/pgbatch-test-" + System.getenv().getOrDefault("ETL_STACK_PG_PORT", "55432"));

	private static final Path LIVE_DATA = STACK.resolve("pg/data");

	private static final String PG_BIN = "/usr/lib/postgresql/15/bin/";

	private static final String PGBACKREST = System.getenv().getOrDefault("ETL_PGBACKREST_BIN", "/usr/bin/pgbackrest");

	/**
	 * Where the restores go: postgres (who runs them) must reach it, so not under JUnit's 0700 temporary directories;
	 * not in /var/tmp either (refused: a restored cluster may become production), but in the stack's directory.
	 */
	private Path base;

	private String point;

	@BeforeAll
	void oneFullBackupAndAPointAfterIt() throws Exception {
		Files.createDirectories(RESTORES);
		this.base = Files.createTempDirectory(RESTORES, "pitr-");
		Files.setPosixFilePermissions(this.base, PosixFilePermissions.fromString("rwxr-xr-x"));
		EtlProcess.Result backup = EtlInProcess.run("run", "backup", "type=full");
		assertThat(backup.exitCode()).as(backup.stdout() + backup.stderr()).isZero();
		this.point = "pitr-" + System.nanoTime();
		assertThat(EtlInProcess.run("backup", "point", this.point).exitCode()).isZero();
		execute("CREATE TABLE public.made_after_the_point (id int)");
	}

	@AfterAll
	void removeTheRestores() throws Exception {
		try (Stream<Path> restores = Files.list(this.base)) {
			for (Path restore : restores.toList()) {
				if (Files.exists(restore.resolve("postmaster.pid"))) {
					asPostgres(PG_BIN + "pg_ctl", "-D", restore.toString(), "-m", "immediate", "-w", "stop");
				}
			}
		}
		try (Stream<Path> files = Files.walk(this.base)) {
			for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
				Files.delete(file);
			}
		}
	}

	/**
	 * docs/operations.md, "Point-in-time restore at 3 a.m.": its bin/etl commands, as written there (POINT, DIR and
	 * PORT filled in), through bin/etl. The restored cluster holds the point's rows (every managed table's count as
	 * recorded; the table made after it absent), runs on PORT with its socket in DIR, archive_mode on with an
	 * empty archive_command also after a stop and start (postgresql.auto.conf, not pg_ctl's command line): nothing
	 * archived, its new timeline's history file and segments kept ready; once step 3's archive_command is set and
	 * reloaded (here into a directory of the test's, never the stack's repository), they are archived. The output names the point reached and the switch-over steps, the old cluster stopped first.
	 */
	@Test
	void theOperationsDocsPointInTimeRestoreStepsRunAsWritten() throws Exception {
		Path dir = this.base.resolve("restored");
		int port = freePort();
		List<String> steps = docsSteps();
		assertThat(steps).anyMatch(step -> step.startsWith("bin/etl backup restore --to POINT --data-dir DIR --port PORT"));
		EtlProcess.Result restore = null;
		for (String step : steps) {
			String line = step.replace("POINT", this.point).replace("DIR", dir.toString())
				.replace("PORT", Integer.toString(port));
			EtlProcess.Result result;
			if (line.startsWith("bin/etl ")) {
				String[] words = line.split(" +");
				result = EtlProcess.start(Map.of(), List.of(words).subList(1, words.length).toArray(String[]::new)).await();
			}
			else {
				result = shell(line);
			}
			assertThat(result.exitCode()).as(step + ": " + result.stdout() + result.stderr()).isZero();
			if (step.startsWith("bin/etl backup restore")) {
				restore = result;
			}
			else if (step.startsWith("psql ")) {
				assertThat(result.stdout()).as(step).contains(this.point);
			}
		}
		assertThat(restore).isNotNull();

		List<String> lines = restore.stdout().lines().toList();
		assertThat(lines.get(0)).startsWith("restored set ").contains(" into " + dir + " ", "127.0.0.1:" + port);
		assertThat(lines.get(1)).startsWith("point reached: restore point " + this.point + " (made ")
			.containsPattern("timeline [2-9]\\d* begins at [0-9A-F]+/[0-9A-F]+ \\(at restore point \"" + this.point + "\"\\)");
		assertThat(restore.stdout()).contains("WAL archiving WAITS in the restored cluster", "its pg_wal grows until the switch-over");
		// the switch-over: the old cluster down first, then pgBackRest's configuration, archiving (a reload), the
		// restored cluster's own settings reset, restart, check, full
		List<String> order = List.of("1. stop the old cluster (data directory " + LIVE_DATA, "2. in pgBackRest's configuration",
				"pg1-path=" + dir + "; leave pg1-port and pg1-socket-path at the old cluster's", "3. in the restored cluster",
				"ALTER SYSTEM SET archive_command = '", "archive-push %p'; SELECT pg_reload_conf();",
				// every setting the restore wrote but the archive ones, in the order written
				"ALTER SYSTEM RESET recovery_end_command; ALTER SYSTEM RESET synchronous_standby_names;"
						+ " ALTER SYSTEM RESET primary_conninfo; ALTER SYSTEM RESET primary_slot_name;"
						+ " ALTER SYSTEM RESET max_logical_replication_workers; ALTER SYSTEM RESET logging_collector;"
						+ " ALTER SYSTEM RESET shared_preload_libraries; ALTER SYSTEM RESET shared_buffers;"
						+ " ALTER SYSTEM RESET huge_pages; ALTER SYSTEM RESET wal_buffers; ALTER SYSTEM RESET work_mem;"
						+ " ALTER SYSTEM RESET maintenance_work_mem; ALTER SYSTEM RESET autovacuum_work_mem;"
						+ " ALTER SYSTEM RESET min_dynamic_shared_memory; ALTER SYSTEM RESET external_pid_file;"
						+ " ALTER SYSTEM RESET port; ALTER SYSTEM RESET listen_addresses;"
						+ " ALTER SYSTEM RESET unix_socket_directories;\n",
				"4. restart it", "5. " + PGBACKREST, "check: it must pass", "6. take a full backup");
		int at = -1;
		for (String step : order) {
			int next = restore.stdout().indexOf(step);
			assertThat(next).as(step).isGreaterThan(at);
			at = next;
		}

		Map<String, Long> recorded = new LinkedHashMap<>();
		try (Connection live = TestDatabase.connect(); Statement statement = live.createStatement();
				ResultSet rs = statement.executeQuery(
						"SELECT table_name, row_count FROM etl.restore_point_count WHERE point = '" + this.point + "'")) {
			while (rs.next()) {
				recorded.put(rs.getString(1), rs.getLong(2));
			}
		}
		assertThat(recorded).isNotEmpty();
		try (Connection restored = restored(port); Statement statement = restored.createStatement()) {
			assertThat(RestorePoints.counts(statement, RestorePoints.managedTables(statement))).isEqualTo(recorded);
			assertThat(string(statement, "SELECT to_regclass('public.made_after_the_point')::text")).isNull();
			assertThat(string(statement, "SHOW archive_mode")).isEqualTo("on");
		}
		assertThat(dir.resolve(".s.PGSQL." + port)).exists();
		String history = Files.list(dir.resolve("pg_wal"))
			.map(file -> file.getFileName().toString())
			.filter(name -> name.endsWith(".history"))
			.max(String::compareTo)
			.orElseThrow();
		assertThat(dir.resolve("pg_wal/archive_status/" + history + ".ready")).exists();

		// stopped and started as a service manager would, with none of the first start's options (pg_ctl restart
		// would reuse them): still apart, still archiving nothing, its new timeline's segments kept ready
		asPostgres(PG_BIN + "pg_ctl", "-D", dir.toString(), "-m", "fast", "-w", "stop");
		asPostgres(PG_BIN + "pg_ctl", "-D", dir.toString(), "-l", dir.resolve("restore.log").toString(), "-w", "start");
		try (Connection restored = restored(port); Statement statement = restored.createStatement()) {
			assertThat(string(statement, "SHOW archive_mode")).isEqualTo("on");
			assertThat(string(statement, "SHOW port")).isEqualTo(Integer.toString(port));
			assertThat(string(statement, "SHOW max_logical_replication_workers")).isEqualTo("0");
			assertThat(string(statement, "SHOW synchronous_standby_names")).isEmpty();
			assertThat(string(statement, "SHOW shared_buffers")).isEqualTo("128MB");
			assertThat(string(statement, "SHOW huge_pages")).isEqualTo("off");
		}
		assertThat(dir.resolve(".s.PGSQL." + port)).exists();

		assertThat(asPostgres(psql(dir, port, "SHOW archive_command"))).isEmpty();
		assertThat(asPostgres(psql(dir, port, "SHOW shared_preload_libraries"))).isEmpty();
		String segment = asPostgres(psql(dir, port, "CREATE TABLE public.on_the_new_timeline (id int)",
				"SELECT pg_walfile_name(pg_current_wal_lsn())", "SELECT pg_switch_wal()", "CHECKPOINT")).lines().findFirst().orElseThrow();
		assertThat(segment).startsWith(history.substring(0, 8));
		assertThat(dir.resolve("pg_wal/archive_status/" + segment + ".ready")).exists();
		assertThat(dir.resolve("pg_wal/archive_status/" + history + ".ready")).exists();

		// step 3's archive_command set and reloaded, no restart (into a directory of this test's, never the stack's
		// repository): the history file and the kept segment are archived
		Path archive = Files.createDirectory(this.base.resolve("archive"));
		Files.setOwner(archive, archive.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres"));
		asPostgres(psql(dir, port, "ALTER SYSTEM SET archive_command = 'cp %p " + archive + "/%f'", "SELECT pg_reload_conf()"));
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		while (!(Files.exists(archive.resolve(history)) && Files.exists(archive.resolve(segment)))
				&& System.nanoTime() < deadline) {
			Thread.sleep(200);
		}
		assertThat(archive.resolve(history)).exists();
		assertThat(archive.resolve(segment)).exists();
		asPostgres(PG_BIN + "pg_ctl", "-D", dir.toString(), "-m", "fast", "-w", "stop");
		// and the live cluster's repository got nothing of the restored cluster's timeline
		String timeline = history.substring(0, 8);
		assertThat(asPostgres(PGBACKREST, "--config=" + System.getenv("ETL_PGBACKREST_CONFIG"), "--stanza="
				+ System.getenv().getOrDefault("ETL_PGBACKREST_STANZA", "pgbatch"), "repo-ls", "--recurse", "archive").lines())
			.isNotEmpty()
			.noneMatch(file -> file.endsWith("/" + history) || file.contains("/" + timeline + "0000"));
	}

	/**
	 * pgBackRest's configuration may carry restore options of its own (here a copy of the stack's with them): a
	 * tablespace-map entry, delta, archive-async with a spool path, and force, target-exclusive and target-timeline
	 * (command-line only in pgBackRest, ignored in a file). The restore sets them aside: the tablespaces go into
	 * DIR-tablespaces, never the map's path, and the restored cluster's restore_command is a synchronous archive-get
	 * (an asynchronous one shares the spool path with the live cluster's archive-push): nothing spooled.
	 * <p>
	 * And the live cluster's configuration lives outside its data directory (Debian's /etc/postgresql: a stand-in
	 * pgbackrest removes the restored postgresql.conf, pg_hba.conf and pg_ident.conf), while its max_connections is
	 * above PostgreSQL's default (the stack's): the restored cluster gets the live cluster's pg_control settings
	 * (else its replay stops: "insufficient parameter settings"), lets the runner in from 127.0.0.1 with its password
	 * (the runbook's psql), and the printed switch-over resets those settings too.
	 */
	@Test
	void restoreOptionsOfPgBackRestsConfigurationAreSetAsideAndAConfigurationOutsideTheDataDirectoryIsReplaced()
			throws Exception {
		Path dir = this.base.resolve("options-set-aside");
		Path mapped = this.base.resolve("mapped-hot");
		Path spool = Files.createDirectory(this.base.resolve("spool"));
		Files.setOwner(spool, spool.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres"));
		Path stackConfig = Path.of(System.getenv("ETL_PGBACKREST_CONFIG"));
		String text = Files.readString(stackConfig)
			.replaceFirst("(?m)^spool-path=.*$", "spool-path=" + spool)
			.replaceFirst("(?m)^\\[global\\]$", "[global]\narchive-async=y")
				+ "\n[global:restore]\ntablespace-map=etl_hot=" + mapped + "\ndelta=y\nforce=y\ntarget-exclusive=y\n"
				+ "target-timeline=1\n";
		Path config = this.base.resolve("pgbackrest-with-restore-options.conf");
		Files.writeString(config, text);
		Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
		Files.setOwner(config, Files.getOwner(stackConfig));
		int port = freePort();
		Path debianLayout = this.base.resolve("pgbackrest-debian-layout");
		Files.writeString(debianLayout, "#!/bin/sh\n" + PGBACKREST + " \"$@\"; rc=$?\ncase \" $* \" in *\" restore \") rm -f "
				+ dir + "/postgresql.conf " + dir + "/pg_hba.conf " + dir + "/pg_ident.conf;; esac\nexit $rc\n");
		Files.setPosixFilePermissions(debianLayout, PosixFilePermissions.fromString("rwxr-xr-x"));
		String liveConnections;
		try (Connection live = TestDatabase.connect(); Statement statement = live.createStatement()) {
			liveConnections = string(statement, "SHOW max_connections");
		}
		assertThat(Integer.parseInt(liveConnections)).as("the stack's max_connections, above the default").isGreaterThan(100);

		EtlProcess.Result restore = EtlInProcess.run(Map.of("ETL_PGBACKREST_CONFIG", config.toString(),
				"ETL_PGBACKREST_BIN", debianLayout.toString()), "backup", "restore", "--to", this.point, "--data-dir",
				dir.toString(), "--port", Integer.toString(port));

		assertThat(restore.exitCode()).as(restore.stdout() + restore.stderr()).isZero();
		try (Connection restored = restored(port); Statement statement = restored.createStatement()) {
			assertThat(string(statement, "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'etl_hot'"))
				.startsWith(dir + "-tablespaces/");
			assertThat(string(statement, "SELECT to_regclass('public.made_after_the_point')::text")).isNull();
			assertThat(string(statement, "SHOW max_connections")).isEqualTo(liveConnections);
		}
		assertThat(restore.stdout()).contains(dir + "/postgresql.conf: none was restored", dir + "/pg_hba.conf: none was"
				+ " restored", "ALTER SYSTEM RESET max_connections; ALTER SYSTEM RESET max_worker_processes;"
						+ " ALTER SYSTEM RESET max_wal_senders; ALTER SYSTEM RESET max_prepared_transactions;"
						+ " ALTER SYSTEM RESET max_locks_per_transaction; ALTER SYSTEM RESET port;",
				"then, before step 4 (the live cluster's configuration files were not restored with its data directory: the ones in " + dir + " are placeholders): put"
						+ " the old cluster's pg_hba.conf and pg_ident.conf in place");
		// the placeholder lets the runner's role in by TCP, no other (the restored roles and secrets are the target's)
		assertThat(Files.readString(dir.resolve("pg_hba.conf")).lines().filter(line -> !line.startsWith("#")))
			.containsExactly("local all \"postgres\" peer", "host all \"" + TestDatabase.user() + "\" 127.0.0.1/32 scram-sha-256");
		assertThat(mapped).doesNotExist();
		assertThat(Files.readAllLines(dir.resolve("postgresql.auto.conf"))).filteredOn(line -> line.startsWith("restore_command"))
			.singleElement()
			.asString()
			.contains(" --config=" + config + " ", " --pg1-path=" + dir + " ", " --no-archive-async archive-get %f ");
		try (Stream<Path> spooled = Files.list(spool)) {
			assertThat(spooled).isEmpty();
		}
		asPostgres(PG_BIN + "pg_ctl", "-D", dir.toString(), "-m", "fast", "-w", "stop");
	}

	/** psql as postgres into the restored cluster, one statement per -c (ALTER SYSTEM runs outside a transaction). */
	private static String[] psql(Path dir, int port, String... statements) {
		List<String> line = new ArrayList<>(List.of(PG_BIN + "psql", "-X", "-q", "-A", "-t", "-h", dir.toString(), "-p",
				Integer.toString(port), "-U", "postgres", "-d", "postgres"));
		for (String statement : statements) {
			line.addAll(List.of("-c", statement));
		}
		return line.toArray(String[]::new);
	}

	/**
	 * The refusals (--to the class's point, or --to-time the time given): exit 2, one line naming the problem, and
	 * nothing written (the directories as they were).
	 */
	Stream<Arguments> refusals() throws Exception {
		Path fixtures = Files.createDirectories(this.base.resolve("refusals"));
		Path nonEmpty = Files.createDirectories(fixtures.resolve("non-empty"));
		Files.writeString(nonEmpty.resolve("keep.txt"), "the operator's");
		Path link = fixtures.resolve("a-link");
		Files.createSymbolicLink(link, Files.createDirectories(fixtures.resolve("link-target")));
		Path intoLive = fixtures.resolve("into-live");
		Files.createSymbolicLink(intoLive, LIVE_DATA.resolve("base"));
		Path busyTablespaces = Files.createDirectories(fixtures.resolve("busy-tablespaces"));
		Files.writeString(busyTablespaces.resolve("keep.txt"), "the operator's");
		Path openTablespaces = fixtures.resolve("open-tablespaces");
		Files.createDirectories(openTablespaces);
		Files.setPosixFilePermissions(openTablespaces, PosixFilePermissions.fromString("rwxrwxrwx"));
		// another user could swap a directory in it for a link between the check and the restore
		Path openParent = Files.createDirectories(fixtures.resolve("open-parent"));
		Files.setPosixFilePermissions(openParent, PosixFilePermissions.fromString("rwxrwxrwx"));
		return Stream.of(Arguments.of("--to", nonEmpty, "is not empty"),
				// its socket's path would be over 107 bytes: postgres would stop at its start, after the whole restore
				Arguments.of("--to", fixtures.resolve("d".repeat(80)), "over the 107 postgres can create"),
				Arguments.of("--to", openParent.resolve("restored"),
						"the directory above it, " + openParent + ", belongs to root or may be written by its group or other"),
				Arguments.of("--to", LIVE_DATA, "the live cluster's data directory"),
				Arguments.of("--to", LIVE_DATA.resolve("restored"), "the live cluster's data directory"),
				Arguments.of("--to", LIVE_DATA.resolve("pg_wal/restored"), "the live cluster's"),
				Arguments.of("--to", link, "is a link"),
				Arguments.of("--to", intoLive.resolve("restored"), "the live cluster's data directory"),
				Arguments.of("--to", fixtures.resolve("it's"), "a directory's path of letters"),
				Arguments.of("--to", fixtures.resolve("busy"), "busy-tablespaces is not empty"),
				Arguments.of("--to", fixtures.resolve("open"), "open-tablespaces may be written by its group or other"),
				Arguments.of("--to", Path.of("/var/tmp/pgbatch-drills/restored"), "ETL_PGBACKREST_DRILL_DIR"),
				Arguments.of("--to", LIVE_DATA.resolveSibling("tablespaces/hot/restored"), "the live cluster's tablespace etl_hot"),
				Arguments.of("--to", LIVE_DATA.resolveSibling("run/restored"), "the live cluster's socket directory"),
				Arguments.of("--to", STACK.resolve("pgbackrest/lock/restored"), "pgBackRest's lock-path"),
				// where files are not kept: a restored cluster may become production
				Arguments.of("--to", Path.of("/var/tmp/pgbatch-restored-" + System.nanoTime()), " is in /var/tmp: "),
				Arguments.of("--to", Path.of("/tmp/pgbatch-restored-" + System.nanoTime()), " is in /tmp: "),
				Arguments.of("--to", Path.of("/dev/shm/pgbatch-restored-" + System.nanoTime()), " is in /dev/shm: "),
				Arguments.of("2099-01-01T00:00:00Z", fixtures.resolve("later"), "is after the newest restorable time"),
				Arguments.of("2000-01-01T00:00:00Z", fixtures.resolve("earlier"), "no backup set of stanza "));
	}

	@ParameterizedTest
	@MethodSource("refusals")
	void aDirectoryNearTheLiveClusterOrNotNewAndEmptyOrATimeToComeOrBeforeAnySetIsRefusedWithNothingWritten(String form,
			Path dir,
			String problem) throws Exception {
		Map<Path, String> before = listing(this.base.resolve("refusals"));
		boolean existed = Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
		boolean tablespacesExisted = Files.exists(Path.of(dir + "-tablespaces"), LinkOption.NOFOLLOW_LINKS);
		List<String> arguments = new ArrayList<>(List.of("backup", "restore"));
		arguments.addAll(form.equals("--to") ? List.of("--to", this.point) : List.of("--to-time", form));
		arguments.addAll(List.of("--data-dir", dir.toString(), "--port", Integer.toString(freePort())));

		EtlProcess.Result refused = EtlInProcess.run(arguments.toArray(String[]::new));

		assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(2);
		assertThat(refused.stderr().strip()).startsWith("etl: ").contains(problem).doesNotContain("\n");
		assertThat(refused.stdout()).isEmpty();
		assertThat(listing(this.base.resolve("refusals"))).isEqualTo(before);
		assertThat(Files.exists(dir, LinkOption.NOFOLLOW_LINKS)).isEqualTo(existed);
		assertThat(Files.exists(Path.of(dir + "-tablespaces"), LinkOption.NOFOLLOW_LINKS)).isEqualTo(tablespacesExisted);
	}

	/** --port the live cluster's: refused (exit 2, nothing written), whatever address the live cluster listens on. */
	@Test
	void theLiveClustersPortIsRefused() throws Exception {
		Path dir = this.base.resolve("on-the-live-port");
		String live = System.getenv().getOrDefault("ETL_STACK_PG_PORT", "55432");
		EtlProcess.Result refused = EtlInProcess.run("backup", "restore", "--to", this.point, "--data-dir", dir.toString(),
				"--port", live);

		assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(2);
		assertThat(refused.stderr().strip()).doesNotContain("\n").contains("port " + live + " is the live cluster's");
		assertThat(dir).doesNotExist();
	}

	/**
	 * A restore whose replay fails (a point recorded in etl.restore_point that is in no WAL: recovery ends before it)
	 * into an empty directory of the operator's: no process is left running, the tablespaces' directory it made is
	 * removed, the operator's directory is kept and named with what to do.
	 */
	@Test
	void aRestoreThatFailsStopsItsClusterRemovesWhatItMadeAndNamesWhatItLeft() throws Exception {
		String never = "pitr-never-" + System.nanoTime();
		execute("INSERT INTO etl.restore_point (name, lsn, created_at) VALUES ('" + never + "', '0/0', now())");
		Path dir = Files.createDirectory(this.base.resolve("operators"));
		Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));

		EtlProcess.Result failed = EtlInProcess.run("backup", "restore", "--to", never, "--data-dir", dir.toString(),
				"--port", Integer.toString(freePort()));

		assertThat(failed.exitCode()).as(failed.stdout() + failed.stderr()).isEqualTo(1);
		assertThat(failed.stderr().strip()).doesNotContain("\n")
			.contains("the restore into " + dir + " failed: ")
			.contains("no process is left running")
			.contains(dir + "-tablespaces, made by the restore, is removed")
			.contains(dir + " (given empty) holds what the restore wrote: empty it (find " + dir + " -mindepth 1 -delete)");
		assertThat(Path.of(dir + "-tablespaces")).doesNotExist();
		assertThat(dir).isDirectory();
		assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
			.noneMatch(line -> line.contains(dir.toString()));
		// what it holds goes as the message says
		assertThat(new ProcessBuilder("find", dir.toString(), "-mindepth", "1", "-delete").inheritIO().start().waitFor())
			.isZero();
	}

	/**
	 * A start that fails after pgBackRest's restore succeeded, before any replay: the port, free when the restore
	 * began, taken by then (a stand-in pgbackrest runs the real one, then waits while the test takes the port), or a
	 * setting postgres refuses (the stand-in appends one). DIR and DIR-tablespaces are kept, no process is left, and
	 * the one line says how to start it; started so once the cause is gone, it replays to the point and is promoted.
	 */
	@ParameterizedTest
	@ValueSource(strings = { "port", "setting" })
	void aStartThatFailsAfterTheRestoreKeepsItAndSaysHowToStartIt(String cause) throws Exception {
		Path dir = this.base.resolve("kept-" + cause);
		int port = freePort();
		Path restored = this.base.resolve("restored-" + cause);
		Path go = this.base.resolve("go-" + cause);
		String after = cause.equals("port") ? "touch " + restored + "; while [ ! -e " + go + " ]; do sleep 0.1; done"
				: "echo \"pgbatch_refused_here = on\" >> " + dir + "/postgresql.conf";
		Path standIn = this.base.resolve("pgbackrest-then-" + cause);
		Files.writeString(standIn, "#!/bin/sh\n" + PGBACKREST + " \"$@\"; rc=$?\n"
				+ "case \" $* \" in *\" restore \") " + after + ";; esac\nexit $rc\n");
		Files.setPosixFilePermissions(standIn, PosixFilePermissions.fromString("rwxr-xr-x"));

		// pgBackRest's configuration from PGBACKREST_CONFIG, not ETL_PGBACKREST_CONFIG: the replay's restore_command,
		// which postgres runs without this environment, names it (no log file of root's in postgres's log directory)
		EtlProcess restore = EtlProcess.start(Map.of("ETL_PGBACKREST_BIN", standIn.toString(), "ETL_PGBACKREST_CONFIG", "",
				"PGBACKREST_CONFIG", System.getenv("ETL_PGBACKREST_CONFIG"), "PGBACKREST_LOG_LEVEL_FILE", "off"), "backup",
				"restore", "--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(port));
		EtlProcess.Result failed;
		if (cause.equals("port")) {
			awaitFile(restored);
			try (ServerSocket taken = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
				Files.createFile(go);
				failed = restore.await();
			}
		}
		else {
			failed = restore.await();
		}

		assertThat(failed.exitCode()).as(failed.stdout() + failed.stderr()).isEqualTo(1);
		String line = failed.stderr().strip();
		assertThat(line).doesNotContain("\n")
			.contains("the restore into " + dir + " failed: ",
					cause.equals("port") ? "port " + port + " on 127.0.0.1, free when the restore began, is in use now (port "
							: "the restored cluster's start failed: ",
					"no process is left running", dir + " and " + dir + "-tablespaces hold set ", "(postgres began no replay): kept")
			.doesNotContain("removed");
		assertThat(dir.resolve("PG_VERSION")).exists();
		assertThat(Path.of(dir + "-tablespaces")).isDirectory();
		assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
			.noneMatch(command -> command.contains(dir.toString()));

		// as the line says, the cause gone
		if (cause.equals("setting")) {
			Files.writeString(dir.resolve("postgresql.conf"),
					Files.readString(dir.resolve("postgresql.conf")).replace("pgbatch_refused_here = on\n", ""));
		}
		assertThat(line).contains("-t 43200 start): it replays", "(Point-in-time restore at 3 a.m., step 4 on)");
		startedAsSaid(line.substring(line.indexOf("start it (") + "start it (".length(), line.indexOf("): it replays")),
				dir, port);
	}

	/**
	 * A kept restore holds its set from retention (etl.kept_restore): kept (a setting postgres refuses, appended by a
	 * stand-in pgbackrest after the real restore), it is listed as held; a full backup whose retention counts one full
	 * fewer than those newer than that set (which alone would expire it) keeps it, says so, and pgBackRest keeps the
	 * WAL from it on: started as its line says, the kept restore replays to the point and is promoted. Released by
	 * hand (exit 0, once; then exit 2 and one line), a dry run of that retention would expire it (unless a passed
	 * drill of this class covered it; the other kept restores of the class are released once started). In a turn: no drill
	 * or restore of another class reads a set while this one's retention expires older ones.
	 */
	@Test
	void aKeptRestoreHoldsItsSetFromRetentionUntilReleased() throws Exception {
		Path dir = this.base.resolve("held");
		int port = freePort();
		Path standIn = this.base.resolve("pgbackrest-then-held");
		Files.writeString(standIn, "#!/bin/sh\n" + PGBACKREST + " \"$@\"; rc=$?\ncase \" $* \" in *\" restore \") echo"
				+ " \"pgbatch_refused_here = on\" >> " + dir + "/postgresql.conf;; esac\nexit $rc\n");
		Files.setPosixFilePermissions(standIn, PosixFilePermissions.fromString("rwxr-xr-x"));
		try (RestoreTurns.Turn turn = RestoreTurns.take()) {
			EtlProcess.Result kept = EtlInProcess.run(Map.of("ETL_PGBACKREST_BIN", standIn.toString()), "backup", "restore",
					"--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(port));
			assertThat(kept.exitCode()).as(kept.stdout() + kept.stderr()).isEqualTo(1);
			String line = kept.stderr().strip();
			java.util.regex.Matcher held = java.util.regex.Pattern.compile("hold set (\\S+) as pgBackRest").matcher(line);
			assertThat(held.find()).as(line).isTrue();
			String set = held.group(1);
			String full = set.replaceFirst("_.*", "");
			assertThat(line).endsWith("; " + PointInTimeRestores.HELD.formatted(set, dir));
			assertThat(EtlInProcess.run("backup", "list", "--physical").stdout()).contains("held: full backup " + full
					+ " (and the WAL from it on) held for the kept restore of set " + set + " into " + dir + " on "
					+ KeptRestores.host() + ", to restore point " + this.point + ", since ");

			assertThat(EtlInProcess.run("run", "backup", "type=full").exitCode()).isZero();
			String newer = Integer.toString(fullsNewerThan(full));
			EtlProcess.Result retained = EtlInProcess.run(Map.of("ETL_PGBACKREST_RETENTION_FULL", newer), "run", "backup",
					"type=incr", "--json");
			assertThat(retained.exitCode()).as(retained.stdout() + retained.stderr()).isZero();
			assertThat(retained.stdout()).contains("held for the kept restore of set " + set + " into " + dir);
			assertThat(EtlInProcess.run("backup", "list", "--physical").stdout()).contains(full + " ");

			Files.writeString(dir.resolve("postgresql.conf"),
					Files.readString(dir.resolve("postgresql.conf")).replace("pgbatch_refused_here = on\n", ""));
			String released = startedAsSaid(
					line.substring(line.indexOf("start it (") + "start it (".length(), line.indexOf("): it replays")), dir, port);
			assertThat(released).startsWith("released the hold of set " + set + " (stanza ")
				.endsWith(" for the kept restore into " + dir + " on " + KeptRestores.host() + ", to restore point "
						+ this.point + ": retention may expire it now");
			EtlProcess.Result again = EtlInProcess.run("backup", "restore", "--release", dir.toString());
			assertThat(again.exitCode()).isEqualTo(2);
			assertThat(again.stderr().strip()).isEqualTo("etl: " + KeptRestores.NOT_HELD.formatted(dir, KeptRestores.host()));
			EtlProcess.Result dry = EtlInProcess.run(Map.of("ETL_PGBACKREST_RETENTION_FULL", newer), "run", "backup",
					"type=incr", "dry-run=true", "--json");
			assertThat(dry.exitCode()).as(dry.stdout() + dry.stderr()).isZero();
			// expired, unless a passed drill of this class covered it (the newest covered full is kept)
			assertThat(dry.stdout()).doesNotContain(" into " + dir + " on ")
				.containsPattern("would expire \\d+ physical backup sets \\([^)]*" + full + "|full backup " + full
						+ " is the newest a passed");
		}
	}

	/** How many full sets the repository lists after {@code full}, as backup list --physical shows them. */
	private static int fullsNewerThan(String full) {
		List<String> fulls = EtlInProcess.run("backup", "list", "--physical")
			.stdout()
			.lines()
			.filter(row -> row.matches("\\d{8}-\\d{6}F +full .*"))
			.map(row -> row.substring(0, row.indexOf(' ')))
			.toList();
		return fulls.size() - 1 - fulls.indexOf(full);
	}

	/**
	 * A tool found missing after pgBackRest's restore, before the restored cluster is configured (a stand-in pgbackrest
	 * restores, then makes DIR's PG_VERSION say 14, whose tools are not here, and removes its postgresql.conf, as when
	 * the configuration lives in /etc: pg_controldata 14 is looked for): DIR and DIR-tablespaces are kept, not to be
	 * started, and set apart all the same (review 15, restore #1). Started anyway with the live cluster's
	 * postgresql.conf put back (its include, pgbatch.conf, was restored), it would take the restore's port, not the
	 * live one, and archive nothing into the live repository: postgres -C reads the configuration as a start would.
	 * A recovery_target_action = 'shutdown' there gives way to the restore's promote.
	 */
	@Test
	void aRestoreKeptBeforeItIsConfiguredIsSetApartAllTheSame() throws Exception {
		Path dir = this.base.resolve("not-configured");
		int port = freePort();
		Path standIn = this.base.resolve("pgbackrest-then-fourteen");
		Files.writeString(standIn, "#!/bin/sh\n" + PGBACKREST + " \"$@\"; rc=$?\ncase \" $* \" in *\" restore \") echo 14 > "
				+ dir + "/PG_VERSION; rm " + dir + "/postgresql.conf;; esac\nexit $rc\n");
		Files.setPosixFilePermissions(standIn, PosixFilePermissions.fromString("rwxr-xr-x"));

		EtlProcess.Result kept = EtlInProcess.run(Map.of("ETL_PGBACKREST_BIN", standIn.toString()), "backup", "restore",
				"--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(port));

		assertThat(kept.exitCode()).as(kept.stdout() + kept.stderr()).isEqualTo(1);
		assertThat(kept.stderr().strip()).doesNotContain("\n")
			.contains("pg_controldata of PostgreSQL 14 is not here", dir + " and " + dir + "-tablespaces hold set ",
					", set apart from the live cluster only (archiving off and port " + port + " in " + dir
							+ "/postgresql.auto.conf), not configured further: kept, never to be started as it is");
		// with a recovery_target_action of its own, which the restore's promote follows (review 15, restore #4)
		Files.writeString(dir.resolve("postgresql.conf"), Files.readString(LIVE_DATA.resolve("postgresql.conf"))
				+ "\nrecovery_target_action = 'shutdown'\n");
		Files.setOwner(dir.resolve("postgresql.conf"), Files.getOwner(dir.resolve("pgbatch.conf")));
		assertThat(Files.readString(dir.resolve("pgbatch.conf"))).contains("port = " + System.getenv("ETL_STACK_PG_PORT"));
		assertThat(asPostgres(PG_BIN + "postgres", "-D", dir.toString(), "-C", "port")).isEqualTo(Integer.toString(port));
		assertThat(asPostgres(PG_BIN + "postgres", "-D", dir.toString(), "-C", "archive_mode")).isEqualTo("off");
		assertThat(asPostgres(PG_BIN + "postgres", "-D", dir.toString(), "-C", "archive_command")).isEmpty();
		assertThat(asPostgres(PG_BIN + "postgres", "-D", dir.toString(), "-C", "unix_socket_directories"))
			.isEqualTo(dir.toString());
		assertThat(asPostgres(PG_BIN + "postgres", "-D", dir.toString(), "-C", "recovery_target_action"))
			.isEqualTo("promote");
	}

	/**
	 * The start command a kept restore's line gives, run from a shell without pgBackRest's environment (a new login,
	 * a service manager: runuser would hand PGBACKREST_CONFIG on to postgres and its restore_command): the cluster
	 * replays to the point and is promoted (the table made after it absent); then stopped, and its hold of the set
	 * released as its line says: what the release printed.
	 */
	private static String startedAsSaid(String start, Path dir, int port) throws Exception {
		EtlProcess.Result started = shell("env -u PGBACKREST_CONFIG -u PGBACKREST_STANZA " + start);
		assertThat(started.exitCode()).as(start + ": " + started.stdout() + started.stderr()).isZero();
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
		boolean promoted = false;
		while (!promoted && System.nanoTime() < deadline) {
			try (Connection connection = restored(port); Statement statement = connection.createStatement()) {
				promoted = string(statement, "SELECT pg_is_in_recovery()::text").equals("false");
				if (promoted) {
					assertThat(string(statement, "SELECT to_regclass('public.made_after_the_point')::text")).isNull();
				}
			}
			catch (java.sql.SQLException ex) {
				// not accepting connections yet
			}
			Thread.sleep(promoted ? 0 : 200);
		}
		assertThat(promoted).as("promoted within 60 s").isTrue();
		asPostgres(PG_BIN + "pg_ctl", "-D", dir.toString(), "-m", "fast", "-w", "stop");
		EtlProcess.Result released = EtlInProcess.run("backup", "restore", "--release", dir.toString());
		assertThat(released.exitCode()).as(released.stdout() + released.stderr()).isZero();
		return released.stdout().strip();
	}

	/**
	 * SIGTERM to bin/etl backup restore while pgBackRest restores (a stand-in pgbackrest holds the restore): the
	 * shutdown hook stops it and removes DIR and DIR-tablespaces, which the restore made, and says so; no process of
	 * DIR is left.
	 */
	@Test
	void aSigtermDuringPgBackRestsRestoreStopsItAndRemovesWhatItMade() throws Exception {
		Path dir = this.base.resolve("terminated-restoring");
		Path restoring = this.base.resolve("markers/restoring");
		EtlProcess restore = EtlProcess.start(Map.of("ETL_PGBACKREST_BIN",
				slowStandIn(restoring, "*\" restore \")").toString()), "backup", "restore", "--to", this.point, "--data-dir",
				dir.toString(), "--port", Integer.toString(freePort()));
		awaitFile(restoring);

		EtlProcess.Result terminated = restore.terminate();

		assertThat(terminated.exitCode()).as(terminated.stdout() + terminated.stderr()).isEqualTo(143);
		// said at once, before the clean-up's seconds or minutes
		assertThat(terminated.stderr()).contains("etl: " + CleanUpOnExit.CLEANING_UP.formatted("backup restore",
				PointInTimeRestores.REMOVING.formatted(dir, dir)) + "\n");
		assertThat(terminated.stderr()).contains("etl: backup restore stopped by a signal: no process is left running; "
				+ dir + ", made by the restore, is removed; " + dir + "-tablespaces, made by the restore, is removed");
		// its hold of the set released by the shutdown hook too
		assertThat(terminated.stderr()).doesNotContain("could not be released");
		assertThat(EtlInProcess.run("backup", "restore", "--release", dir.toString()).exitCode()).isEqualTo(2);
		assertThat(dir).doesNotExist();
		assertThat(Path.of(dir + "-tablespaces")).doesNotExist();
		assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
			.noneMatch(command -> command.contains(dir.toString()));
	}

	/**
	 * SIGTERM to bin/etl backup restore, or Ctrl-C, during the replay (a stand-in pgbackrest holds the replay's first
	 * archive-get), pgBackRest's restore done: the replay did not fail, and hours of restore are not thrown away. The
	 * shutdown hook stops the restored cluster and keeps DIR and DIR-tablespaces, no process of DIR is left, and the
	 * line says how to start it again; started so, it resumes the replay and is promoted at the point.
	 */
	@ParameterizedTest
	@ValueSource(strings = { "TERM", "INT" })
	void aSigtermDuringTheReplayOfARestoreStopsItsClusterAndKeepsItToResume(String signal) throws Exception {
		Path dir = this.base.resolve("terminated-" + signal);
		Path replaying = this.base.resolve("markers/restore-replaying-" + signal);
		int port = freePort();
		EtlProcess restore = EtlProcess.start(Map.of("ETL_PGBACKREST_BIN", slowArchiveGet(replaying).toString()), "backup",
				"restore", "--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(port));
		awaitFile(replaying);

		// SIGTERM to the JVM only (a service manager, kill), or Ctrl-C: SIGINT to it and its children, pg_ctl too
		EtlProcess.Result terminated = signal.equals("TERM") ? restore.terminate() : restore.interruptFromTheTerminal();

		// Ctrl-C reaches pg_ctl start too, and the main thread may report pg_ctl's end (exit 1) before the hook does:
		// a start that began no replay (stopped before the replay wrote pg_control) or a replay stopped by the
		// signal; DIR is kept either way
		boolean startStopped = signal.equals("INT") && terminated.exitCode() == 1;
		assertThat(terminated.exitCode()).as(terminated.stdout() + terminated.stderr())
			.isIn(signal.equals("TERM") ? List.of(143) : List.of(130, 1));
		String line = terminated.stderr()
			.lines()
			.filter(said -> said.startsWith(startStopped ? "etl: error: the restore into " + dir + " failed: "
					: "etl: backup restore stopped by a signal: "))
			.findFirst()
			.orElseThrow();
		assertThat(line).contains("no process is left running; " + dir + " and " + dir + "-tablespaces hold set ", ": kept; ")
			.doesNotContain("removed");
		// Ctrl-C may come before the replay has written pg_control (then it is the KEPT of a start that began none)
		if (signal.equals("TERM") || !line.contains("(postgres began no replay)")) {
			assertThat(line).contains("its replay to restore point " + this.point + " stopped by the signal",
					"the replay resumes");
		}
		if (!startStopped && (signal.equals("TERM") || !line.contains("(postgres began no replay)"))) {
			assertThat(terminated.stderr()).contains("etl: " + CleanUpOnExit.CLEANING_UP.formatted("backup restore",
					PointInTimeRestores.STOPPING.formatted(dir)) + "\n");
		}
		assertThat(dir.resolve("PG_VERSION")).exists();
		assertThat(Path.of(dir + "-tablespaces")).isDirectory();
		assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
			.noneMatch(command -> command.contains(dir.toString()));

		String from = line.contains("start it again (") ? "start it again (" : "start it (";
		startedAsSaid(line.substring(line.indexOf(from) + from.length(), line.indexOf("): ", line.indexOf(from))), dir, port);
	}

	/**
	 * The restored cluster stopped by someone else during its replay (pg_ctl stop as its owner, as a service manager
	 * stops it) while bin/etl backup restore waits for it: a stand-in pgbackrest holds the replay's first archive-get
	 * once its log says the copy is consistent (pg_ctl start has returned then, and the restore polls pg_control; at
	 * the promotion, which probes for a newer timeline's history file: the point's segment is read ahead before), or
	 * its first one (pg_ctl start still waits). A fast stop is a clean one, which the replay resumes from (pg_control:
	 * shut down in recovery): exit 1, one line saying the restore was stopped during its replay, DIR and
	 * DIR-tablespaces kept and how to start it again; started so, it is promoted at the point. An immediate stop is a
	 * crash (pg_control still in archive recovery): a failed restore, what it made removed, as before.
	 */
	@ParameterizedTest
	@ValueSource(strings = { "fast", "fast-before-consistent", "immediate" })
	void aReplayStoppedBySomeoneElseIsKeptWhenStoppedCleanlyAndRemovedAfterACrash(String how) throws Exception {
		Path dir = this.base.resolve("stopped-" + how);
		Path replaying = this.base.resolve("markers/stopped-" + how);
		int port = freePort();
		Path standIn = how.equals("fast-before-consistent") ? slowArchiveGet(replaying)
				: slowStandIn(replaying, "*restore_command=*) ;; *\" archive-get \"*) ! grep -q 'consistent recovery"
						+ " state reached' " + dir.resolve(PointInTimeRestores.LOG) + " ||");
		CompletableFuture<EtlProcess.Result> restore = inBackground(Map.of("ETL_PGBACKREST_BIN", standIn.toString()),
				"backup", "restore", "--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(port));
		awaitFile(replaying);
		if (!how.equals("fast-before-consistent")) {
			Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
				try (Connection connection = restored(port); Statement statement = connection.createStatement()) {
					return string(statement, "SELECT pg_is_in_recovery()::text").equals("true");
				}
			});
		}

		asPostgres(PG_BIN + "pg_ctl", "-D", dir.toString(), "-m", how.startsWith("fast") ? "fast" : "immediate", "-w",
				"stop");
		EtlProcess.Result stopped = restore.get(5, TimeUnit.MINUTES);

		assertThat(stopped.exitCode()).as(stopped.stdout() + stopped.stderr()).isEqualTo(1);
		String line = stopped.stderr().strip();
		assertThat(line).doesNotContain("\n");
		assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
			.noneMatch(command -> command.contains(dir.toString()));
		if (how.equals("immediate")) {
			assertThat(line).startsWith("etl: error: the restore into " + dir + " failed: ")
				.contains("no process is left running; " + dir + ", made by the restore, is removed");
			assertThat(dir).doesNotExist();
			assertThat(Path.of(dir + "-tablespaces")).doesNotExist();
			return;
		}
		assertThat(line).startsWith("etl: error: the restore into " + dir + " was stopped during its replay: its postgres"
				+ " was shut down during the replay, not by this command (pg_ctl stop, a service manager: its pg_control"
				+ " says shut down in recovery); no process is left running; " + dir + " and " + dir
				+ "-tablespaces hold set ")
			.contains("its replay to restore point " + this.point + " stopped by that shutdown: kept; start it again (")
			.doesNotContain("removed");
		assertThat(dir.resolve("PG_VERSION")).exists();
		assertThat(Path.of(dir + "-tablespaces")).isDirectory();
		String from = "start it again (";
		startedAsSaid(line.substring(line.indexOf(from) + from.length(), line.indexOf("): ", line.indexOf(from))), dir, port);
	}

	/**
	 * pg_ctl and pg_controldata gone during the replay (DIR's PG_VERSION made to say 14, whose tools are not here, once
	 * the copy is consistent and the restore watches pg_control; a stand-in pgbackrest holds the replay there): the
	 * restore keeps DIR, and its postgres, which pg_ctl cannot stop now, is stopped by SIGINT to its postmaster,
	 * verified first (review 15, restore #2): no process is left, and started again (with PG_VERSION back), the
	 * replay resumes and is promoted at the point.
	 */
	@Test
	void aReplayWhoseToolsAreGoneIsStoppedBySignalAndKept() throws Exception {
		Path dir = this.base.resolve("tools-gone");
		Path replaying = this.base.resolve("markers/tools-gone");
		int port = freePort();
		Path standIn = slowStandIn(replaying, "*restore_command=*) ;; *\" archive-get \"*) ! grep -q 'consistent recovery"
				+ " state reached' " + dir.resolve(PointInTimeRestores.LOG) + " ||");
		CompletableFuture<EtlProcess.Result> restore = inBackground(Map.of("ETL_PGBACKREST_BIN", standIn.toString()),
				"backup", "restore", "--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(port));
		awaitFile(replaying);
		Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
			try (Connection connection = restored(port); Statement statement = connection.createStatement()) {
				return string(statement, "SELECT pg_is_in_recovery()::text").equals("true");
			}
		});

		Files.writeString(dir.resolve("PG_VERSION"), "14\n");
		EtlProcess.Result kept = restore.get(5, TimeUnit.MINUTES);

		assertThat(kept.exitCode()).as(kept.stdout() + kept.stderr()).isEqualTo(1);
		assertThat(kept.stderr().strip()).doesNotContain("\n")
			.contains("of PostgreSQL 14 is not here", "no process is left running; " + dir + " and " + dir
					+ "-tablespaces hold set ", "stopped as it could no longer be watched (postgres stopped, fast): kept")
			.doesNotContain("removed", "could not be stopped");
		assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
			.noneMatch(command -> command.contains(dir.toString()));
		assertThat(asPostgres(PG_BIN + "pg_controldata", dir.toString())).contains("shut down in recovery");
		Files.writeString(dir.resolve("PG_VERSION"), "15\n");
		startedAsSaid("runuser -u postgres -- " + PG_BIN + "pg_ctl -D " + dir + " -l " + dir.resolve(PointInTimeRestores.LOG)
				+ " -t 43200 start", dir, port);
	}

	/**
	 * A restore to a set of a PostgreSQL major version whose tools are not here (a stand-in pgbackrest lists the
	 * stack's sets as PostgreSQL 14's, as a restore to before a pg_upgradecluster 14 15 sees them once 14's packages
	 * are removed), ETL_PG_BIN at the 15 tools: refused up front, exit 2, one line naming the set, its version and
	 * where each tool was looked for; the empty DIR given is as it was, no DIR-tablespaces is made, and pgBackRest
	 * neither checked (a WAL switch) nor restored anything.
	 */
	@Test
	void aSetOfAMajorVersionWhoseToolsAreMissingIsRefusedUpFrontWithNothingWritten() throws Exception {
		Path dir = Files.createDirectory(this.base.resolve("of-fourteen"));
		Path ran = this.base.resolve("of-fourteen-ran");
		Path standIn = this.base.resolve("pgbackrest-of-fourteen");
		Files.writeString(standIn, "#!/bin/sh\necho \"$*\" >> " + ran + "\ncase \" $* \" in *\" info \"*) " + PGBACKREST
				+ " \"$@\" | sed 's/\"version\":\"15\"/\"version\":\"14\"/g'; exit;; esac\nexec " + PGBACKREST + " \"$@\"\n");
		Files.setPosixFilePermissions(standIn, PosixFilePermissions.fromString("rwxr-xr-x"));

		EtlProcess.Result refused = EtlInProcess.run(Map.of("ETL_PGBACKREST_BIN", standIn.toString(), "ETL_PG_BIN", PG_BIN),
				"backup", "restore", "--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(freePort()));

		assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(2);
		assertThat(refused.stderr().strip()).doesNotContain("\n")
			.matches("etl: backup set \\S+ is of PostgreSQL 14, and pg_controldata of PostgreSQL 14 is not here \\("
					+ PG_BIN + "pg_controldata is 15, /usr/lib/postgresql/14/bin/pg_controldata cannot be run.*\\): install"
					+ " PostgreSQL 14's server programs .*\\(nothing was restored\\)");
		try (Stream<Path> files = Files.list(dir)) {
			assertThat(files).isEmpty();
		}
		assertThat(Path.of(dir + "-tablespaces")).doesNotExist();
		assertThat(Files.readAllLines(ran)).isNotEmpty()
			.noneMatch(line -> line.matches("(--\\S+ )*(check|restore)( .*)?") || line.contains(dir.toString()));
	}

	/**
	 * pgBackRest's options given in the environment reach the restore but not the replay's archive-get, which postgres
	 * runs without it (review 15 M6): here the repository's cipher passphrase, taken out of a copy of the stack's
	 * configuration and given as PGBACKREST_REPO1_CIPHER_PASS (the restore would decrypt, the replay could not).
	 * Refused up front: exit 2, one line naming the variable, never its value, and the file to set it in; nothing
	 * written. backup check and a physical backup, which work so, warn of it.
	 */
	@Test
	void pgBackRestsOptionsInTheEnvironmentThatTheReplayWouldNotSeeAreRefusedUpFront() throws Exception {
		List<String> lines = Files.readAllLines(Path.of(System.getenv("ETL_PGBACKREST_CONFIG")));
		String option = "repo1-cipher-pass=";
		String pass = lines.stream().filter(line -> line.startsWith(option)).findFirst().orElseThrow()
			.substring(option.length());
		Path config = this.base.resolve("pgbackrest-without-its-passphrase.conf");
		Files.write(config, lines.stream().filter(line -> !line.startsWith(option)).toList());
		Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
		Files.setOwner(config, config.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres"));
		Path dir = this.base.resolve("passphrase-in-the-environment");

		EtlProcess.Result refused = EtlProcess.start(Map.of("ETL_PGBACKREST_CONFIG", config.toString(),
				"PGBACKREST_REPO1_CIPHER_PASS", pass), "backup", "restore", "--to", this.point, "--data-dir", dir.toString(),
				"--port", Integer.toString(freePort()))
			.await();

		assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(2);
		assertThat(refused.stderr().strip()).isEqualTo("etl: " + ClusterRestore.NOT_FOR_THE_REPLAY
			.formatted("PGBACKREST_REPO1_CIPHER_PASS", config));
		assertThat(refused.stdout() + refused.stderr()).doesNotContain(pass);
		assertThat(dir).doesNotExist();
		assertThat(Path.of(dir + "-tablespaces")).doesNotExist();

		// said ahead, by the physical backup and backup check, which work so (review 15, restore #3)
		String warning = ClusterRestore.REFUSED_BY_RESTORES.formatted("PGBACKREST_REPO1_CIPHER_PASS", config);
		for (String[] command : List.of(new String[] { "backup", "check" }, new String[] { "run", "backup", "type=incr" })) {
			EtlProcess.Result warned = EtlProcess.start(Map.of("ETL_PGBACKREST_CONFIG", config.toString(),
					"PGBACKREST_REPO1_CIPHER_PASS", pass), command).await();
			assertThat(warned.exitCode()).as(warned.stdout() + warned.stderr()).isZero();
			assertThat(warned.stdout() + warned.stderr()).contains(warning).doesNotContain(pass);
		}
	}

	/**
	 * SIGTERM to bin/etl backup drill during the replay: its scratch cluster is stopped and its directory removed by
	 * the shutdown hook; nothing is left in the drills' directory (one of the test's: short, for the scratch
	 * cluster's socket path), no process runs from it. Before that, its lock's session (in the maintenance database)
	 * is ended, as a restart of the server ends it: the drill says at once that its lock is lost (review 12 #6).
	 */
	@Test
	void aSigtermDuringTheReplayOfADrillStopsItsClusterAndRemovesItsDirectory() throws Exception {
		Path drills = STACK.resolve("drills");
		Path replaying = this.base.resolve("markers/drill-replaying");
		try {
			EtlProcess drill = EtlProcess.start(Map.of("ETL_PGBACKREST_BIN", slowArchiveGet(replaying).toString(),
					"ETL_PGBACKREST_DRILL_DIR", drills.toString(), "ETL_LOCK_CHECK_INTERVAL", "200ms"), "backup", "drill",
					"--to", this.point);
			awaitFile(replaying);
			try (Connection maintenance = TestDatabase.connect(ServerDatabases.MAINTENANCE);
					ResultSet ended = maintenance.createStatement().executeQuery("SELECT pg_terminate_backend(pid)"
							+ " FROM pg_stat_activity WHERE datname = current_database()"
							+ " AND application_name LIKE 'pgbatch " + RestoreDrills.HOLDER + ", pid %'")) {
				assertThat(ended.next() && ended.getBoolean(1)).isTrue();
			}
			Awaitility.await().atMost(Duration.ofSeconds(30))
				.until(() -> drill.stderrSoFar().contains(RestoreLock.lost(RestoreDrills.HOLDER)));

			EtlProcess.Result terminated = drill.terminate();

			assertThat(terminated.exitCode()).as(terminated.stdout() + terminated.stderr()).isEqualTo(143);
			assertThat(terminated.stderr()).containsPattern("etl: backup drill is stopping \\(a signal\\): stopping its"
					+ " scratch cluster and removing " + drills + "/drill-\\S+; this may take minutes: do not kill -9");
			assertThat(terminated.stderr()).contains("etl: backup drill stopped by a signal: nothing is left");
			try (Stream<Path> left = Files.list(drills)) {
				assertThat(left).isEmpty();
			}
			assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
				.noneMatch(command -> command.contains(drills.toString()));
		}
		finally {
			if (Files.exists(drills)) {
				new ProcessBuilder("rm", "-rf", drills.toString()).start().waitFor();
			}
		}
	}

	/**
	 * A stand-in pgbackrest: the real one, but the first archive-get (the restored cluster's replay, as its owner;
	 * not pgbackrest restore, whose restore_command option names archive-get too) makes {@code marker} and waits two
	 * minutes (a replay started again goes on at once).
	 */
	private Path slowArchiveGet(Path marker) throws Exception {
		return slowStandIn(marker, "*restore_command=*) ;; *\" archive-get \"*)");
	}

	/** A stand-in pgbackrest: the real one, but the first run that matches {@code when} makes {@code marker} and waits. */
	private Path slowStandIn(Path marker, String when) throws Exception {
		Path markers = marker.getParent();
		if (!Files.exists(markers)) {
			Files.createDirectory(markers);
			Files.setOwner(markers, markers.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres"));
		}
		Path standIn = this.base.resolve("pgbackrest-slow-" + marker.getFileName());
		Files.writeString(standIn, "#!/bin/sh\ncase \" $* \" in " + when + " [ -e " + marker + " ] || { touch " + marker
				+ "; sleep 120; };; esac\nexec " + PGBACKREST + " \"$@\"\n");
		Files.setPosixFilePermissions(standIn, PosixFilePermissions.fromString("rwxr-xr-x"));
		return standIn;
	}

	/**
	 * A command run in this JVM on another thread, for a test that acts on what it started while it runs (in-process
	 * commands run one at a time: nothing else of the test goes through EtlInProcess meanwhile).
	 */
	private static CompletableFuture<EtlProcess.Result> inBackground(Map<String, String> settings, String... arguments) {
		return CompletableFuture.supplyAsync(() -> EtlInProcess.run(settings, arguments));
	}

	private static void awaitFile(Path file) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
		while (!Files.exists(file) && System.nanoTime() < deadline) {
			Thread.sleep(100);
		}
		assertThat(file).as("within 4 minutes").exists();
	}

	/**
	 * A drill and a point-in-time restore take the same lock, one per server: while it is held (here by a session of
	 * the test's in the maintenance database, as a running restore or drill holds it, whatever database its runner is
	 * configured with: review 12 #6), both are refused naming its holder, where and since when (review 12 #7), and
	 * the restore writes nothing.
	 */
	@Test
	void aDrillAndARestoreAreRefusedWhileEitherRuns() throws Exception {
		Path dir = this.base.resolve("while-locked");
		// in a turn (RestoreTurns): another class's drill is not to meet the lock held here
		try (RestoreTurns.Turn turn = RestoreTurns.take();
				Connection holder = TestDatabase.connect(ServerDatabases.MAINTENANCE);
				java.sql.PreparedStatement lock = holder.prepareStatement("SELECT set_config('application_name',"
						+ " 'a restore of the test', false), pg_try_advisory_lock(hashtext('pgbatch.job'), hashtext(?))")) {
			lock.setString(1, ClusterRestore.LOCK);
			// another class's physical backup holds it for the seconds of each expire of its retention
			await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
				try (ResultSet taken = lock.executeQuery()) {
					return taken.next() && taken.getBoolean(2);
				}
			});

			EtlProcess.Result drill = EtlInProcess.run("backup", "drill", "--to", this.point);
			EtlProcess.Result restore = EtlInProcess.run("backup", "restore", "--to", this.point, "--data-dir",
					dir.toString(), "--port", Integer.toString(freePort()));

			for (EtlProcess.Result refused : List.of(drill, restore)) {
				assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(1);
				assertThat(refused.stderr().strip()).matches("etl: job " + ClusterRestore.LOCK + " is already running"
						+ " \\(a restore of the test; connected from \\S+ since \\S+Z, server pid \\d+\\); a second run is refused");
			}
			assertThat(dir).doesNotExist();
		}
	}

	/**
	 * pgBackRest's configuration named by a path restore_command cannot hold (here with a .. component, which the
	 * setting accepts): the restore and the drill are refused up front (exit 2, one line), before pgbackrest check
	 * on the live cluster and before any directory is made; the drill records nothing.
	 */
	@Test
	void aPgBackRestPathRestoreCommandCannotHoldIsRefusedBeforeAnythingIsDone() throws Exception {
		Path stackConfig = Path.of(System.getenv("ETL_PGBACKREST_CONFIG"));
		String roundabout = stackConfig.getParent() + "/../" + stackConfig.getParent().getFileName() + "/"
				+ stackConfig.getFileName();
		Path dir = this.base.resolve("unquotable-config");
		long drills;
		try (Connection live = TestDatabase.connect(); Statement statement = live.createStatement()) {
			drills = Long.parseLong(string(statement, "SELECT count(*) FROM etl.restore_drill"));
		}

		EtlProcess.Result restore = EtlInProcess.run(Map.of("ETL_PGBACKREST_CONFIG", roundabout), "backup", "restore",
				"--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(freePort()));
		EtlProcess.Result drill = EtlInProcess.run(Map.of("ETL_PGBACKREST_CONFIG", roundabout), "backup", "drill", "--to",
				this.point);

		for (EtlProcess.Result refused : List.of(restore, drill)) {
			assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(2);
			assertThat(refused.stderr().strip()).isEqualTo("etl: " + ClusterRestore.UNQUOTABLE.formatted(roundabout));
		}
		assertThat(dir).doesNotExist();
		assertThat(Path.of(dir + "-tablespaces")).doesNotExist();
		try (Connection live = TestDatabase.connect(); Statement statement = live.createStatement()) {
			assertThat(Long.parseLong(string(statement, "SELECT count(*) FROM etl.restore_drill"))).isEqualTo(drills);
		}
	}

	/**
	 * A second repository of pgBackRest's configuration on this host (posix), which pgbackrest help does not name: a
	 * directory inside it is refused like one inside the first (exit 2, one line, nothing written).
	 */
	@Test
	void aDirectoryInAnotherRepositoryOfPgBackRestsConfigurationIsRefused() throws Exception {
		Path stackConfig = Path.of(System.getenv("ETL_PGBACKREST_CONFIG"));
		Path repository = this.base.resolve("repo2");
		Path config = this.base.resolve("pgbackrest-with-repo2.conf");
		Files.writeString(config, Files.readString(stackConfig)
			.replaceFirst("(?m)^\\[global\\]$", "[global]\nrepo2-type=posix\nrepo2-path=" + repository));
		Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
		Files.setOwner(config, Files.getOwner(stackConfig));
		Path dir = repository.resolve("restored");

		EtlProcess.Result refused = EtlInProcess.run(Map.of("ETL_PGBACKREST_CONFIG", config.toString()), "backup",
				"restore", "--to", this.point, "--data-dir", dir.toString(), "--port", Integer.toString(freePort()));

		assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(2);
		assertThat(refused.stderr().strip()).doesNotContain("\n").contains("(pgBackRest's repository repo2)");
		assertThat(repository).doesNotExist();
	}

	/** backup drill --to-time: restored to a time and checked by pg_amcheck only (no counts were recorded at a time). */
	@Test
	void aDrillToATimeChecksWithPgAmcheckOnlyAndSaysSo() throws Exception {
		Instant time;
		try (Connection live = TestDatabase.connect(); Statement statement = live.createStatement();
				ResultSet rs = statement.executeQuery("SELECT clock_timestamp()")) {
			rs.next();
			time = rs.getTimestamp(1).toInstant();
		}

		EtlProcess.Result drill = EtlInProcess.run("backup", "drill", "--to-time", time.toString());

		assertThat(drill.exitCode()).as(drill.stdout() + drill.stderr()).isZero();
		assertThat(drill.stdout()).contains("drill ", " to " + time + " from set ", ": passed",
				"a time has no recorded row counts: pg_amcheck only checked the restored cluster");
		// recorded as what it was: passed, its set, no counts compared
		try (Connection live = TestDatabase.connect(); Statement statement = live.createStatement()) {
			assertThat(string(statement, "SELECT passed::text || ' ' || counted::text || ' ' || (backup_label IS NOT NULL)::text"
					+ " FROM etl.restore_drill WHERE target = '" + time + "' ORDER BY id DESC LIMIT 1")).isEqualTo("true false true");
		}
	}

	/** A command line run by bash in the checkout, with the stack's environment, in the test class's database. */
	private static EtlProcess.Result shell(String line) throws Exception {
		ProcessBuilder builder = new ProcessBuilder("bash", "-c", line).directory(ROOT.toFile());
		builder.environment().putAll(TestDatabase.processEnvironment());
		builder.environment().put("PGDATABASE", TestDatabase.name());
		Process process = builder.start();
		process.getOutputStream().close();
		String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
		return new EtlProcess.Result(process.exitValue(), stdout, stderr);
	}

	/** The bin/etl and psql command lines of the runbook's section, as written (its placeholders in capitals). */
	private static List<String> docsSteps() throws Exception {
		String doc = Files.readString(ROOT.resolve("docs/operations.md"));
		int start = doc.indexOf("## Point-in-time restore at 3 a.m.");
		assertThat(start).isNotNegative();
		int end = doc.indexOf("\n## ", start + 1);
		return doc.substring(start, end < 0 ? doc.length() : end)
			.lines()
			.map(String::strip)
			.filter(line -> line.startsWith("bin/etl ") || line.startsWith("psql "))
			.map(line -> line.replaceFirst("\\s+#.*", ""))
			.toList();
	}

	private static Connection restored(int port) throws Exception {
		return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestDatabase.name(),
				TestDatabase.user(), TestDatabase.password());
	}

	/** Every path under the directory with what it is (its target for a link), to see that nothing changed. */
	private static Map<Path, String> listing(Path directory) throws Exception {
		Map<Path, String> listing = new HashMap<>();
		try (Stream<Path> files = Files.walk(directory)) {
			for (Path file : files.toList()) {
				listing.put(file, Files.isSymbolicLink(file) ? "-> " + Files.readSymbolicLink(file)
						: Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS) ? "dir "
								+ PosixFilePermissions.toString(Files.getPosixFilePermissions(file)) : Files.readString(file));
			}
		}
		return listing;
	}

	private static String string(Statement statement, String query) throws Exception {
		try (ResultSet rs = statement.executeQuery(query)) {
			rs.next();
			return rs.getString(1);
		}
	}

	private static void execute(String sql) throws Exception {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

	private static String asPostgres(String... command) throws Exception {
		List<String> line = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
		line.addAll(List.of(command));
		Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(String.join(" ", line) + ": " + output).isZero();
		return output.strip();
	}

	/** As the restore chooses one: outside the ephemeral range, where the restore's own connections would take it. */
	private static int freePort() {
		return ClusterRestore.freePort(ClusterRestore.EPHEMERAL_PORTS, Set.of());
	}

}
