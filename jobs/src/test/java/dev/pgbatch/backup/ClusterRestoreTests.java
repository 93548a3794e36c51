package dev.pgbatch.backup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.pgbatch.core.UsageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/** What a restored data directory's configuration files get before its first start. */
class ClusterRestoreTests {

	/**
	 * A cluster whose configuration lives outside its data directory (Debian's /etc/postgresql) has no
	 * postgresql.conf, pg_hba.conf or pg_ident.conf restored: an empty one, a placeholder hba letting only the owner
	 * in through the socket and the runner's role from 127.0.0.1 with its password (the runbook's psql -h 127.0.0.1
	 * -U pgbatch, a drill's counts as the runner; no other restored role, superusers included), and an empty one are
	 * written, and said so; the isolation and the given settings go last into postgresql.auto.conf.
	 */
	@Test
	void aDataDirectoryWithoutItsConfigurationGetsAnEmptyOneANarrowHbaAndTheIsolationLast(@TempDir Path data)
			throws Exception {
		Files.writeString(data.resolve("postgresql.auto.conf"), "archive_mode = 'on'\nport = '5432'\n");

		List<String> wrote = ClusterRestore.configure(data, Map.of("port", "56999"), "postgres", "pgbatch");

		assertThat(wrote).hasSize(3);
		assertThat(wrote.get(0)).contains("postgresql.conf: none was restored").contains("max_connections");
		assertThat(wrote.get(1)).contains("pg_hba.conf: none was restored")
			.contains("a placeholder that lets postgres in through the socket and pgbatch from 127.0.0.1 with its"
					+ " password, no other role");
		assertThat(wrote.get(2)).contains("pg_ident.conf: none was restored");
		assertThat(Files.readString(data.resolve("pg_hba.conf")).lines().filter(line -> !line.startsWith("#")))
			.containsExactly("local all \"postgres\" peer", "host all \"pgbatch\" 127.0.0.1/32 scram-sha-256");
		assertThat(Files.readString(data.resolve("pg_ident.conf")).lines()).allMatch(line -> line.startsWith("#"));
		assertThat(Files.readString(data.resolve("postgresql.conf")).strip())
			.endsWith("data_directory = '" + data + "'");
		List<String> auto = Files.readAllLines(data.resolve("postgresql.auto.conf"));
		// the last of a name counts
		assertThat(auto.subList(auto.lastIndexOf("archive_mode = 'on'") + 1, auto.size())).contains("archive_mode = 'off'",
				"archive_command = ''", "max_logical_replication_workers = '0'", "primary_conninfo = ''",
				"synchronous_standby_names = ''", "recovery_end_command = ''", "shared_preload_libraries = ''", "port = '56999'",
				"external_pid_file = '" + data.resolve("external.pid") + "'");
	}

	/**
	 * A restored data directory is set apart the moment pgBackRest's restore returns, before anything that can fail
	 * (review 15, restore #1): archiving off with an empty archive_command and the restore's own port, sockets and pid
	 * file go last into postgresql.auto.conf, over the live cluster's, its archive settings left for later (a
	 * point-in-time restore's archive_mode = on); configure restates the same values after it, and only then are its
	 * archive settings written.
	 */
	@Test
	void aRestoredDataDirectoryIsSetApartBeforeItIsConfigured(@TempDir Path data) throws Exception {
		Files.writeString(data.resolve("postgresql.auto.conf"), "archive_mode = 'on'\narchive_command = 'pgbackrest"
				+ " --stanza=live archive-push %p'\nport = '5432'\n");
		Map<String, String> settings = new java.util.LinkedHashMap<>();
		settings.put("port", "56999");
		settings.put("unix_socket_directories", data.toString());
		settings.put("archive_mode", "on");
		settings.put("archive_command", "");

		ClusterRestore.setApart(data, settings);

		Map<String, String> apart = lastOfEach(data.resolve("postgresql.auto.conf"));
		assertThat(apart).containsEntry("archive_mode", "'off'").containsEntry("archive_command", "''")
			.containsEntry("port", "'56999'").containsEntry("unix_socket_directories", "'" + data + "'")
			.containsEntry("external_pid_file", "'" + data.resolve("external.pid") + "'")
			.containsEntry("shared_preload_libraries", "''");

		ClusterRestore.configure(data, settings, "postgres", "pgbatch");

		Map<String, String> configured = lastOfEach(data.resolve("postgresql.auto.conf"));
		assertThat(configured).containsEntry("archive_mode", "'on'").containsEntry("archive_command", "''");
		configured.keySet().removeIf(name -> name.startsWith("archive_"));
		apart.keySet().removeIf(name -> name.startsWith("archive_"));
		assertThat(configured).isEqualTo(apart);
	}

	/** The last value of each setting of a configuration file, as postgres reads it. */
	private static Map<String, String> lastOfEach(Path file) throws Exception {
		Map<String, String> settings = new java.util.LinkedHashMap<>();
		for (String line : Files.readAllLines(file)) {
			if (!line.isBlank() && !line.startsWith("#")) {
				settings.put(line.substring(0, line.indexOf('=')).strip(), line.substring(line.indexOf('=') + 1).strip());
			}
		}
		return settings;
	}

	/**
	 * pg_ctl gone after the restore (PG_VERSION says 14, whose tools are not here): the cluster is stopped by the
	 * mode's signal to its postmaster (review 15, restore #2: fast, SIGINT), once postmaster.pid's process is verified
	 * as the postmaster of that directory: a program named postgres (here a copy of sleep, which SIGINT ends) working
	 * there, the pid file's second line naming it too, and waited for. Any other process is left running, and the
	 * line says why.
	 */
	@Test
	void withoutPgCtlOnlyAVerifiedPostmasterIsStoppedByItsSignal(@TempDir Path base) throws Exception {
		Path data = Files.createDirectory(base.resolve("data")).toRealPath();
		Files.writeString(data.resolve("PG_VERSION"), "14\n");
		Path postgres = Files.copy(Path.of("/bin/sleep"), base.resolve("postgres"));
		ClusterRestore cluster = new ClusterRestore(null, null, new PostgresTools("jdbc:postgresql://localhost/pgbatch",
				"pgbatch", "", new BackupProperties("backup", base.toString(), Duration.ofHours(24), "",
						Duration.ofSeconds(10))), null);
		assumeThat(Path.of("/usr/lib/postgresql/14/bin/pg_ctl")).as("no PostgreSQL 14 here").doesNotExist();
		Process sleep = new ProcessBuilder("sleep", "60").directory(data.toFile()).start();
		// SIGINT's default action back (a job started in the background by a shell inherits it ignored, and sleep
		// keeps it so; a real postmaster installs its own handler): env execs the stand-in in its own process
		Process postmaster = new ProcessBuilder("env", "--default-signal=INT", postgres.toString(), "60")
			.directory(data.toFile()).start();
		await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(Path.of("/proc/" + postmaster.pid() + "/cmdline"))
			.startsWith(postgres.toString()));
		try {
			Files.writeString(data.resolve("postmaster.pid"), sleep.pid() + "\n" + data + "\n");
			assertThat(cluster.stop(data, "fast"))
				.isEqualTo(ClusterRestore.NOT_A_POSTMASTER.formatted(sleep.pid(), data, "it runs sleep"));

			Files.writeString(data.resolve("postmaster.pid"), postmaster.pid() + "\n" + base + "\n");
			assertThat(cluster.stop(data, "fast"))
				.isEqualTo(ClusterRestore.NOT_A_POSTMASTER.formatted(postmaster.pid(), data, "the pid file names " + base));
			assertThat(sleep.isAlive()).isTrue();
			assertThat(postmaster.isAlive()).isTrue();

			Files.writeString(data.resolve("postmaster.pid"), postmaster.pid() + "\n" + data + "\n");
			assertThat(cluster.stop(data, "fast")).isNull();
			assertThat(postmaster.isAlive()).isFalse();
			assertThat(postmaster.exitValue()).isEqualTo(128 + 2);
			assertThat(sleep.isAlive()).isTrue();
		}
		finally {
			sleep.destroyForcibly();
			postmaster.destroyForcibly();
		}
	}

	/**
	 * A restored cluster found down while its promotion is awaited: shut down cleanly before the target (its replay
	 * resumes at its next start), or just after its promotion, between two looks at pg_control (review 15, restore
	 * #5: it starts promoted), it is kept, saying which; a crash, an immediate stop or a failed replay (still in
	 * archive recovery) is not.
	 */
	@Test
	void aClusterShutDownCleanlyBeforeOrJustAfterItsPromotionIsKept() {
		assertThat(ClusterRestore.shutDownBySomeoneElse("shut down in recovery"))
			.hasMessage(ClusterRestore.SHUT_DOWN.formatted("shut down in recovery"))
			.satisfies(shutDown -> assertThat(shutDown.promoted()).isFalse());
		assertThat(ClusterRestore.shutDownBySomeoneElse("shut down"))
			.hasMessage("its postgres was shut down after its promotion (the target reached), not by this command (pg_ctl"
					+ " stop, a service manager: its pg_control says shut down)")
			.satisfies(shutDown -> assertThat(shutDown.promoted()).isTrue());
		assertThat(ClusterRestore.shutDownBySomeoneElse("in archive recovery")).isNull();
		assertThat(ClusterRestore.shutDownBySomeoneElse("in crash recovery")).isNull();
		assertThat(ClusterRestore.shutDownBySomeoneElse("")).isNull();
	}

	/**
	 * The live cluster's memory settings (restored with its data directory) give way to PostgreSQL's defaults in every
	 * restored cluster, drill or point in time: it runs beside the live one.
	 */
	@Test
	void aRestoredClusterTakesTheDefaultMemoryNotTheLiveClusters(@TempDir Path data) throws Exception {
		Files.writeString(data.resolve("postgresql.conf"), "shared_buffers = '16GB'\nhuge_pages = 'on'\n");
		Files.writeString(data.resolve("postgresql.auto.conf"), "work_mem = '1GB'\nmaintenance_work_mem = '8GB'\n");

		ClusterRestore.configure(data, Map.of("port", "56999"), "postgres", "pgbatch");

		List<String> auto = Files.readAllLines(data.resolve("postgresql.auto.conf"));
		// min_dynamic_shared_memory: set aside at the start, often on huge pages, a second time beside the live one
		assertThat(auto.subList(auto.indexOf("maintenance_work_mem = '8GB'") + 1, auto.size())).contains(
				"shared_buffers = '128MB'", "huge_pages = 'off'", "wal_buffers = '-1'", "work_mem = '4MB'",
				"maintenance_work_mem = '64MB'", "autovacuum_work_mem = '-1'", "min_dynamic_shared_memory = '0'");
	}

	/**
	 * The settings hot standby's replay needs at least as high as the live cluster had them, read from the restored
	 * pg_control (pg_controldata's output, here a cluster with them raised): all five, by their setting names; an
	 * output without them is a failure, not a start with PostgreSQL's defaults.
	 */
	@Test
	void theSettingsTheReplayNeedsAreReadFromPgControlData() {
		String output = """
				pg_control version number:            1300
				Database cluster state:               in archive recovery
				wal_level setting:                    replica
				max_connections setting:              300
				max_worker_processes setting:         16
				max_wal_senders setting:              12
				max_prepared_xacts setting:           5
				max_locks_per_xact setting:           128
				track_commit_timestamp setting:       off
				""";

		assertThat(ClusterRestore.controlled(output)).containsExactly(Map.entry("max_connections", "300"),
				Map.entry("max_worker_processes", "16"), Map.entry("max_wal_senders", "12"),
				Map.entry("max_prepared_transactions", "5"), Map.entry("max_locks_per_transaction", "128"));
		assertThatIllegalStateException().isThrownBy(() -> ClusterRestore.controlled("pg_controldata: fatal: no file"))
			.withMessageContaining("pg_controldata failed");
	}

	/**
	 * Output pg_controldata gave in another language (its labels translated) is a failure that names the settings
	 * not read, and never copies the output, which holds the cluster's mock authentication nonce.
	 */
	@Test
	void anOutputWithoutTheLabelsNamesWhatIsMissingNotTheOutput() {
		String translated = """
				Mock authentication nonce:            3f1ce0c2a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f
				max_connections setting:              300
				max_worker_processes-Einstellung:     16
				""";

		assertThatIllegalStateException().isThrownBy(() -> ClusterRestore.controlled(translated))
			.withMessage("pg_controldata failed: no max_worker_processes, max_wal_senders, max_prepared_transactions,"
					+ " max_locks_per_transaction in its output");
	}

	/**
	 * The restored cluster's programs run in the C locale whatever this JVM's: their output (pg_controldata's labels,
	 * "in production") is read in English.
	 */
	@Test
	void theOwnersProgramsRunInTheCLocale(@TempDir Path directory) throws Exception {
		Path config = Files.writeString(directory.resolve("pgbackrest.conf"), "");
		if (System.getProperty("user.name").equals("root")) {
			Files.setOwner(config, config.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
		}

		ClusterRestore.Ran ran = clusterWith(config).asOwner(Duration.ofSeconds(30), "/bin/sh", "-c",
				"echo \"$LC_ALL $LANG $LC_MESSAGES\"");

		assertThat(ran.output().strip()).isEqualTo("C C");
	}

	/**
	 * The configuration the replay's restore_command reads (postgres runs it without this JVM's environment) is the
	 * one the restore read: the options that chose it are passed as the runner had them, ETL_PGBACKREST_CONFIG's
	 * --config, else PGBACKREST_CONFIG's, and PGBACKREST_CONFIG_PATH's and _INCLUDE_PATH's; none when none was set
	 * (a --config alone would make pgBackRest skip its include files, conf.d). The main file, whose owner runs the
	 * restored cluster: the same, else pgbackrest.conf in the config path, else the default
	 * (/etc/pgbackrest/pgbackrest.conf, or Debian's /etc/pgbackrest.conf when that does not exist).
	 */
	@Test
	void theReplayReadsTheConfigurationTheRestoreRead(@TempDir Path etc) throws Exception {
		Map<String, String> environment = Map.of("PGBACKREST_CONFIG", "/srv/environment.conf", "PGBACKREST_CONFIG_PATH",
				"/srv/pgbackrest", "PGBACKREST_CONFIG_INCLUDE_PATH", "/srv/conf.d");
		assertThat(ClusterRestore.configOptions("", Map.of())).isEmpty();
		assertThat(ClusterRestore.configOptions("", Map.of("PGBACKREST_CONFIG", "/srv/environment.conf")))
			.containsExactly("--config=/srv/environment.conf");
		assertThat(ClusterRestore.configOptions("/srv/given.conf", environment)).containsExactly("--config=/srv/given.conf",
				"--config-path=/srv/pgbackrest", "--config-include-path=/srv/conf.d");
		assertThat(ClusterRestore.configOptions("", Map.of("PGBACKREST_CONFIG_INCLUDE_PATH", "/srv/conf.d")))
			.containsExactly("--config-include-path=/srv/conf.d");

		assertThat(ClusterRestore.config("/srv/given.conf", environment, etc)).isEqualTo("/srv/given.conf");
		assertThat(ClusterRestore.config("", environment, etc)).isEqualTo("/srv/environment.conf");
		assertThat(ClusterRestore.config("", Map.of("PGBACKREST_CONFIG_PATH", "/srv/pgbackrest"), etc))
			.isEqualTo("/srv/pgbackrest/pgbackrest.conf");
		assertThat(ClusterRestore.config("", Map.of(), etc)).isEqualTo(etc.resolve("pgbackrest.conf").toString());
		Files.createDirectory(etc.resolve("pgbackrest"));
		Files.writeString(etc.resolve("pgbackrest/pgbackrest.conf"), "");
		assertThat(ClusterRestore.config("", Map.of(), etc)).isEqualTo(etc.resolve("pgbackrest/pgbackrest.conf").toString());
	}

	/**
	 * The repository's settings only in an include file (conf.d), the runner's pgbackrest choosing its configuration
	 * through the environment: pgbackrest run as restore_command runs it (no environment, the options of
	 * {@link ClusterRestore#configOptions(String, Map)}) reads the include file, and without the include path's
	 * option it would not (a --config alone skips conf.d).
	 */
	@Test
	void theReplaysPgBackRestReadsTheIncludeFilesTheRestoreRead(@TempDir Path directory) throws Exception {
		assumeThat(Path.of("/usr/bin/pgbackrest")).as("pgBackRest installed").exists();
		Path main = Files.writeString(directory.resolve("pgbackrest.conf"), "[global]\nlog-level-console=warn\n");
		Path include = Files.createDirectory(directory.resolve("conf.d"));
		Files.writeString(include.resolve("repo.conf"), "[global]\nrepo1-path=/srv/only-in-conf.d\n");
		Map<String, String> environment = Map.of("PGBACKREST_CONFIG", main.toString(), "PGBACKREST_CONFIG_INCLUDE_PATH",
				include.toString());

		assertThat(repositoryPath(ClusterRestore.configOptions("", environment))).isEqualTo("/srv/only-in-conf.d");
		assertThat(repositoryPath(List.of("--config=" + main))).isNotEqualTo("/srv/only-in-conf.d");
	}

	/** What pgbackrest, run with these options and no environment (as postgres runs restore_command), takes for repo1-path. */
	private static String repositoryPath(List<String> options) throws Exception {
		List<String> line = new java.util.ArrayList<>(List.of("/usr/bin/pgbackrest"));
		line.addAll(options);
		line.addAll(List.of("help", "archive-get", "repo1-path"));
		ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true);
		builder.environment().clear();
		Process process = builder.start();
		String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
		assertThat(process.waitFor()).as(output).isZero();
		return output.lines().filter(text -> text.startsWith("current: ") || text.startsWith("default: ")).findFirst()
			.orElseThrow().replaceFirst("^(current|default): ", "").strip();
	}

	/**
	 * The restore_command: the runner's pgbackrest program, the configuration options it ran with (none with its
	 * defaults, include files and all: see configOptions' own test; the shell's PGBACKREST_CONFIG under bin/stack env),
	 * the stanza and the restored data directory, synchronous.
	 */
	@Test
	void theRestoreCommandIsTheRunnersPgBackRestWithItsConfigurationOptionsStanzaAndDirectory() {
		ClusterRestore cluster = new ClusterRestore(new PgBackRest(new PgBackRestProperties("/usr/bin/pgbackrest", "",
				"pgbatch", 4, Duration.ofHours(1), "/var/lib/pgbatch-drills")), null, null, null);
		String options = cluster.configOptions().stream().map(option -> " " + option).collect(Collectors.joining());

		assertThat(cluster.restoreCommand(Path.of("/var/lib/restored"))).isEqualTo("/usr/bin/pgbackrest" + options
				+ " --stanza=pgbatch --pg1-path=/var/lib/restored --no-archive-async archive-get %f \"%p\"");
	}

	/**
	 * Role and user names go into the generated pg_hba.conf in double quotes (all, +group, @file are then a role's
	 * name only); one it cannot hold is refused (exit 2).
	 */
	@Test
	void aNameGoesIntoPgHbaQuotedOrIsRefused() {
		assertThat(ClusterRestore.hbaName("pgbatch")).isEqualTo("\"pgbatch\"");
		assertThat(ClusterRestore.hbaName("all")).isEqualTo("\"all\"");
		assertThat(ClusterRestore.hbaName("+admins")).isEqualTo("\"+admins\"");
		for (String bad : List.of("", "a\"b", "a\nb", "r".repeat(64))) {
			assertThatExceptionOfType(UsageException.class).isThrownBy(() -> ClusterRestore.hbaName(bad))
				.withMessageContaining("a role or user name pg_hba.conf cannot hold");
		}
	}

	/**
	 * The printed commands run as the owner through runuser only when this runs as someone else (root): runuser
	 * refuses other users, and the owner needs none.
	 */
	@Test
	void printedCommandsGoThroughRunuserOnlyForAnotherUser(@TempDir Path directory) throws Exception {
		Path config = Files.writeString(directory.resolve("pgbackrest.conf"), "");
		if (System.getProperty("user.name").equals("root")) {
			// (root's own configuration is refused: postgres does not run as root)
			Files.setOwner(config, config.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
			assertThat(clusterWith(config).ownersCommand()).isEqualTo("runuser -u nobody -- ");
		}
		else {
			assertThat(clusterWith(config).ownersCommand()).isEmpty();
		}
	}

	private static ClusterRestore clusterWith(Path config) {
		return new ClusterRestore(new PgBackRest(new PgBackRestProperties("/usr/bin/pgbackrest", config.toString(),
				"pgbatch", 4, Duration.ofHours(1), "/var/lib/pgbatch-drills")), null, null, null);
	}

	/**
	 * A tool found once and removed since (its package removed during a restore of hours) is looked for again: a
	 * MissingTool, which keeps the restore, not a path that fails to run, which would remove it (review 15 M7).
	 */
	@Test
	void aToolRemovedSinceItWasFoundIsMissing(@TempDir Path bin) throws Exception {
		Path tool = bin.resolve("pg_ctl");
		Files.writeString(tool, "#!/bin/sh\necho 'pg_ctl (PostgreSQL) 98.1'\n");
		Files.setPosixFilePermissions(tool, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
		ClusterRestore cluster = new ClusterRestore(null, null, new PostgresTools("jdbc:postgresql://localhost/pgbatch",
				"pgbatch", "", new BackupProperties("backup", bin.toString(), Duration.ofHours(24), "",
						Duration.ofSeconds(10))), null);
		assertThat(cluster.tool("pg_ctl", 98)).isEqualTo(tool.toString());

		Files.delete(tool);

		assertThatExceptionOfType(PostgresTools.MissingTool.class).isThrownBy(() -> cluster.tool("pg_ctl", 98))
			.withMessageStartingWith("pg_ctl of PostgreSQL 98 is not here (" + tool + " cannot be run");
	}

	/**
	 * pgBackRest's options given as PGBACKREST_ variables that the replay's archive-get, run by postgres without this
	 * environment, would not see (review 15 M6): all but the configuration's choice (carried as options), what the
	 * restore_command sets itself, and the log's.
	 */
	@Test
	void pgBackRestsVariablesTheReplayWouldNotSeeAreNamed() {
		Map<String, String> environment = Map.of("PGBACKREST_CONFIG", "/etc/pgbackrest/pgbackrest.conf",
				"PGBACKREST_CONFIG_INCLUDE_PATH", "/etc/pgbackrest/conf.d", "PGBACKREST_STANZA", "main",
				"PGBACKREST_LOG_LEVEL_FILE", "off", "PGBACKREST_REPO1_CIPHER_PASS", "secret", "PGBACKREST_REPO1_PATH",
				"/srv/repository", "PGBACKREST_ARCHIVE_ASYNC", "y", "PATH", "/usr/bin");

		assertThat(ClusterRestore.unseenByTheReplay(environment)).containsExactly("PGBACKREST_REPO1_CIPHER_PASS",
				"PGBACKREST_REPO1_PATH");
		assertThat(ClusterRestore.unseenByTheReplay(Map.of("PGBACKREST_CONFIG_PATH", "/etc/pgbackrest"))).isEmpty();
	}

	/**
	 * The variables a restore or drill refuses are warned of ahead, by the physical backup and backup check (review 15,
	 * restore #3): one line naming them, never their values, and the configuration file to set them in; nothing
	 * when there are none.
	 */
	@Test
	void pgBackRestsVariablesARestoreWouldRefuseAreWarnedOfByName() {
		Map<String, String> environment = Map.of("PGBACKREST_REPO1_CIPHER_PASS", "secret", "PGBACKREST_REPO1_PATH",
				"/srv/repository", "PGBACKREST_STANZA", "main");

		assertThat(ClusterRestore.unseenByTheReplay(ClusterRestore.REFUSED_BY_RESTORES, "/etc/pgbackrest/main.conf",
				environment)).contains("PGBACKREST_REPO1_CIPHER_PASS, PGBACKREST_REPO1_PATH: given in this environment,"
						+ " pgBackRest reads it here, but a point-in-time restore or drill refuses it (its replay runs"
						+ " pgbackrest archive-get without this environment): set it in pgBackRest's configuration file"
						+ " (/etc/pgbackrest/main.conf) instead, and unset it");
		assertThat(ClusterRestore.unseenByTheReplay(ClusterRestore.REFUSED_BY_RESTORES, "", Map.of("PGBACKREST_STANZA",
				"main", "PGBACKREST_LOG_LEVEL_FILE", "off"))).isEmpty();
	}

	/**
	 * A tool is found by name and major version, and is of that version by its --version: a scheduler running for
	 * months whose server was upgraded (15 to 16) under it must not run the old pg_ctl on the new cluster, nor a
	 * restore of a 15 set the 16 one. ETL_PG_BIN's counts when it is of that version; none of it (the PATH's pg_ctl is
	 * 15's here): a MissingTool naming each tried, never a tool of another version.
	 */
	@Test
	void aToolIsFoundForAMajorVersionOnlyOfThatVersion(@TempDir Path bin) throws Exception {
		assumeThat(Path.of("/usr/lib/postgresql/15/bin/pg_ctl")).as("PostgreSQL 15's tools installed").isExecutable();
		Path sixteen = bin.resolve("pg_ctl");
		Files.writeString(sixteen, "#!/bin/sh\necho 'pg_ctl (PostgreSQL) 16.4'\n");
		Files.setPosixFilePermissions(sixteen, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
		PostgresTools tools = new PostgresTools("jdbc:postgresql://localhost/pgbatch", "pgbatch", "",
				new BackupProperties("backup", bin.toString(), Duration.ofHours(24), "", Duration.ofSeconds(10)));
		ClusterRestore cluster = new ClusterRestore(null, null, tools, null);

		assertThat(cluster.tool("pg_ctl", 16)).isEqualTo(sixteen.toString());
		assertThat(cluster.tool("pg_ctl", 15)).isEqualTo("/usr/lib/postgresql/15/bin/pg_ctl");
		assertThatExceptionOfType(PostgresTools.MissingTool.class).isThrownBy(() -> cluster.tool("pg_ctl", 14))
			.withMessageStartingWith("pg_ctl of PostgreSQL 14 is not here (" + sixteen + " is 16,"
					+ " /usr/lib/postgresql/14/bin/pg_ctl cannot be run")
			.withMessageContaining("install PostgreSQL 14's server programs (Debian's postgresql-14, in"
					+ " /usr/lib/postgresql/14/bin), or set ETL_PG_BIN to a directory of them");
	}

	/**
	 * pgbackrest help names the first repository's and cluster's paths only: the others of its configuration (and
	 * includes) are read from the sections that apply to the stanza's restores; a repository elsewhere (s3, a
	 * repository host) and a cluster on another host are not here.
	 */
	@Test
	void everyRepositoryAndClusterOfTheStanzaOnThisHostIsALivePlace() {
		List<String> lines = List.of("[global]", "repo1-path=/var/lib/pgbackrest", "repo2-type=cifs", "repo2-path=/mnt/cifs",
				"repo3-type=s3", "repo3-path=/in-the-bucket", "repo4-path=/srv/remote", "repo4-host=backup.example",
				"[global:archive-push]", "repo5-path=/srv/not-for-restores", "[pgbatch]", "pg1-path=/var/lib/postgresql/15/main",
				"pg2-path=/srv/standby", "pg3-path=/srv/elsewhere", "pg3-host=db2", "[other]", "pg1-path=/srv/other",
				"[pgbatch:restore]", "repo6-path = /srv/repo6", "# repo7-path=/srv/commented");

		assertThat(ClusterRestore.configuredPlaces(lines, "pgbatch")).containsOnlyKeys("/var/lib/pgbackrest", "/mnt/cifs",
				"/var/lib/postgresql/15/main", "/srv/standby", "/srv/repo6")
			.containsEntry("/mnt/cifs", "pgBackRest's repository repo2")
			.containsEntry("/srv/standby", "the data directory of the stanza's cluster pg2");
	}

	/**
	 * An automatically chosen port is outside the kernel's ephemeral range (pgBackRest's connections to the
	 * repository during the restore take theirs from it), free, and from 1024 on, never the live cluster's.
	 */
	@Test
	void aChosenPortIsOutsideTheEphemeralRange(@TempDir Path proc) throws Exception {
		Path range = proc.resolve("ip_local_port_range");
		Files.writeString(range, "1024\t65000\n");
		for (int i = 0; i < 20; i++) {
			assertThat(ClusterRestore.freePort(range, Set.of())).isBetween(65001, 65535);
		}
		Files.writeString(range, "2000 65535\n");
		assertThat(ClusterRestore.freePort(range, Set.of())).isBetween(1024, 1999);
		int port = ClusterRestore.freePort(ClusterRestore.EPHEMERAL_PORTS, Set.of());
		String[] kernel = Files.readAllLines(ClusterRestore.EPHEMERAL_PORTS).get(0).strip().split("\\s+");
		assertThat(port < Integer.parseInt(kernel[0]) || port > Integer.parseInt(kernel[1])).as("port " + port).isTrue();
		assertThat(ClusterRestore.portFree(port)).isTrue();
		// the live cluster's ports are passed over: only 1029 is left below 1030
		Files.writeString(range, "1030 65535\n");
		assertThat(ClusterRestore.freePort(range, Set.of(1024, 1025, 1026, 1027, 1028))).isEqualTo(1029);
	}

	/**
	 * An ephemeral range widened to 1024-65535 (a common tuning) leaves no port outside it: one the system gives is
	 * taken, as before the range was minded (else every drill fails), never the live cluster's nor PostgreSQL's usual
	 * 5432-5439 (a cluster of the host that restarts, or listens on another address, takes them).
	 */
	@Test
	void aRangeLeavingNoPortOutsideItOrOnlyPostgresUsualOnesFallsBackToOneTheSystemGives(@TempDir Path proc)
			throws Exception {
		Path range = proc.resolve("ip_local_port_range");
		Files.writeString(range, "1024 65535\n");
		for (int i = 0; i < 10; i++) {
			int port = ClusterRestore.freePort(range, Set.of());
			assertThat(port).isBetween(1024, 65535);
			assertThat(port < 5432 || port > 5439).as("port " + port).isTrue();
		}
		// below 5440 only PostgreSQL's usual ports are outside the range, and everything else is the live cluster's
		Files.writeString(range, "5440 65535\n");
		Set<Integer> live = IntStream.range(1024, 5432).boxed().collect(Collectors.toSet());
		for (int i = 0; i < 10; i++) {
			assertThat(ClusterRestore.freePort(range, live)).isGreaterThan(5439);
		}
	}

	@Test
	void aRestoredPgHbaIsKeptAndAValueWithAQuoteIsNeverWritten(@TempDir Path data) throws Exception {
		Files.writeString(data.resolve("pg_hba.conf"), "local all all trust\n");
		Files.writeString(data.resolve("pg_ident.conf"), "");
		Files.writeString(data.resolve("postgresql.conf"), "include = 'pgbatch.conf'\n");

		assertThat(ClusterRestore.configure(data, Map.of(), "postgres", "pgbatch")).isEmpty();
		assertThat(Files.readString(data.resolve("pg_hba.conf"))).isEqualTo("local all all trust\n");
		assertThat(Files.readString(data.resolve("postgresql.conf"))).startsWith("include = 'pgbatch.conf'\n");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> ClusterRestore.configure(data, Map.of("unix_socket_directories", "/tmp/it's"), "postgres", "pgbatch"));
		assertThat(Files.readString(data.resolve("postgresql.auto.conf"))).doesNotContain("it's");
	}

	/**
	 * A live server that reads its pg_hba.conf from outside its data directory, which still holds initdb's (trust on
	 * 127.0.0.1): the restored stale copy is set aside and the placeholder written in its place; the files it reads
	 * from its data directory are kept.
	 */
	@Test
	void aRestoredConfigurationFileTheLiveClusterDoesNotReadIsSetAside(@TempDir Path data) throws Exception {
		Set<String> elsewhere = ClusterRestore.elsewhere(Map.of("data_directory", "/var/lib/postgresql/15/main",
				"config_file", "/var/lib/postgresql/15/main/postgresql.conf", "hba_file", "/etc/postgresql/15/main/pg_hba.conf",
				"ident_file", "/var/lib/postgresql/15/main/pg_ident.conf"));
		assertThat(elsewhere).containsExactly("pg_hba.conf");
		assertThat(ClusterRestore.elsewhere(Map.of("config_file", "/etc/postgresql/15/main/postgresql.conf")))
			.as("where its data directory is cannot be read").isEmpty();
		Files.writeString(data.resolve("postgresql.conf"), "");
		Files.writeString(data.resolve("pg_ident.conf"), "");
		Files.writeString(data.resolve("pg_hba.conf"), "host all all 127.0.0.1/32 trust\n");

		List<String> notes = ClusterRestore.setAside(data, elsewhere);
		notes.addAll(ClusterRestore.configure(data, Map.of(), "postgres", "pgbatch"));

		assertThat(notes).hasSize(2);
		assertThat(notes.get(0)).contains("pg_hba.conf: restored, but the live cluster reads its pg_hba.conf from outside");
		assertThat(Files.readString(data.resolve("pg_hba.conf"))).doesNotContain("trust");
		assertThat(Files.readString(data.resolve("pg_hba.conf.not-the-live-clusters"))).contains("trust");
	}

	/**
	 * The restored cluster runs as the owner of pgBackRest's configuration: a root-owned one (postgres refuses root),
	 * or another user's when this runner is not root (runuser and giving files away take root), is refused before
	 * anything is done (exit 2), not after the restore of hours.
	 */
	@Test
	void aConfigurationOwnerTheRestoredClusterCannotRunAsIsRefusedUpFront(@TempDir Path directory) throws Exception {
		assertThat(ClusterRestore.unrunnable("/etc/pgbackrest.conf", "root", "root"))
			.isEqualTo(ClusterRestore.ROOT_OWNER.formatted("/etc/pgbackrest.conf"));
		// anyone else runs it as itself, as before: Debian's postgres:postgres 0640 file read by a runner in the group
		assertThat(ClusterRestore.unrunnable("/etc/pgbackrest.conf", "postgres", "etl")).isNull();
		assertThat(ClusterRestore.unrunnable("/etc/pgbackrest.conf", "root", "postgres")).isNull();
		assertThat(ClusterRestore.unrunnable("/etc/pgbackrest.conf", "postgres", "root")).isNull();
		assertThat(ClusterRestore.unrunnable("/etc/pgbackrest.conf", "postgres", "postgres")).isNull();

		assumeThat(System.getProperty("user.name")).isEqualTo("root");
		Path config = Files.writeString(directory.resolve("pgbackrest.conf"), "");
		assertThatExceptionOfType(UsageException.class).isThrownBy(() -> clusterWith(config).preflight())
			.withMessage(ClusterRestore.ROOT_OWNER.formatted(config));
	}

	/**
	 * The port of a kept restore taken meanwhile, the live cluster down (its ports cannot be read for a free one to
	 * suggest): still a start that began no replay (the restore is kept), its message without a suggestion.
	 */
	@Test
	void aPortTakenWhileTheLiveClusterIsDownIsStillAKeptRestore(@TempDir Path data) throws Exception {
		ClusterRestore cluster = new ClusterRestore(new PgBackRest(new PgBackRestProperties("/usr/bin/pgbackrest", "",
				"pgbatch", 4, Duration.ofHours(1), "/var/lib/pgbatch-drills")), null, null, liveClusterDown());
		try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			assertThatExceptionOfType(ClusterRestore.NotStarted.class)
				.isThrownBy(() -> cluster.start(data, data.resolve("restore.log"), taken.getLocalPort()))
				.withMessage(ClusterRestore.PORT_TAKEN_NO_SUGGESTION.formatted(taken.getLocalPort(), data));
		}
	}

	/**
	 * A restored cluster's tools are of its own major version (PG_VERSION in its data directory: a restore to before
	 * a pg_upgradecluster), found without the live server, which may be down by the restore's end; with no cluster
	 * there yet, the server's, which cannot be asked here.
	 */
	@Test
	void aRestoredClustersToolsAreOfItsPgVersionWithoutTheLiveServer(@TempDir Path data) throws Exception {
		PostgresTools tools = new PostgresTools("jdbc:postgresql://localhost/pgbatch", "pgbatch", "",
				new BackupProperties("backup", "", Duration.ofHours(24), "", Duration.ofSeconds(10)));
		assumeThat(Path.of("/usr/lib/postgresql/15/bin/pg_ctl")).as("PostgreSQL 15's tools installed").isExecutable();
		ClusterRestore cluster = new ClusterRestore(null, null, tools, liveClusterDown());
		assertThatIllegalStateException().isThrownBy(() -> cluster.tool("pg_ctl", data))
			.withMessageStartingWith("cannot read the server's version");

		// digits only go into a tool's path (review 15, restore #4)
		Files.writeString(data.resolve("PG_VERSION"), "15/../../../../usr/local\n");
		assertThatIllegalStateException().isThrownBy(() -> cluster.tool("pg_ctl", data))
			.withMessageStartingWith("cannot read the server's version");

		Files.writeString(data.resolve("PG_VERSION"), "15\n");

		assertThat(cluster.tool("pg_ctl", data)).isEqualTo("/usr/lib/postgresql/15/bin/pg_ctl");
	}

	/** A live cluster that is down: nothing listens on its port. */
	private static javax.sql.DataSource liveClusterDown() throws Exception {
		org.postgresql.ds.PGSimpleDataSource dataSource = new org.postgresql.ds.PGSimpleDataSource();
		int port;
		try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			port = free.getLocalPort();
		}
		dataSource.setURL("jdbc:postgresql://127.0.0.1:" + port + "/pgbatch?connectTimeout=5");
		return dataSource;
	}

	/**
	 * A restored data directory swapped for a link during the restore (to the live cluster's, whose postmaster runs
	 * there): the clean-up neither stops that process nor removes anything, and says why.
	 */
	@Test
	void theCleanUpRefusesADirectorySwappedForALink(@TempDir Path base) throws Exception {
		Path live = Files.createDirectory(base.resolve("live")).toRealPath();
		Path restored = base.toRealPath().resolve("restored");
		Files.createSymbolicLink(restored, live);
		Process postmaster = new ProcessBuilder("sleep", "60").directory(live.toFile()).start();
		try {
			Files.writeString(live.resolve("postmaster.pid"), postmaster.pid() + "\n" + live + "\n");
			ClusterRestore cluster = new ClusterRestore(null, null, null, null);

			assertThat(cluster.stop(restored)).contains(restored + " is now a link");
			assertThat(cluster.remove(restored, restored)).contains(restored + " is now a link");
			assertThat(cluster.remove(restored.resolve("pg_wal"), restored)).contains("is now a link");

			assertThat(postmaster.isAlive()).isTrue();
			assertThat(Files.isSymbolicLink(restored)).isTrue();
			assertThat(live.resolve("postmaster.pid")).exists();
		}
		finally {
			postmaster.destroyForcibly();
		}
	}

}
