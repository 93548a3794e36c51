package dev.pgbatch.backup;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.sql.DataSource;

import dev.pgbatch.Settings;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.BackgroundThreads;
import dev.pgbatch.core.UsageException;

import org.springframework.stereotype.Component;

/**
 * A cluster restored from the stanza's pgBackRest repository to a point in time, into a data directory of its own
 * (its tablespaces into a directory beside it, never onto the live cluster's), with archiving off: it must never push
 * into the repository the live cluster archives into. Its postgres runs as the owner of pgBackRest's configuration
 * (runuser when this runs as root: postgres refuses to run as root), with a clean environment. Shared by backup drill
 * (a scratch cluster, removed after) and backup restore --to (the operator's).
 */
@Component
class ClusterRestore {

	/**
	 * The lock backup drill and backup restore --to both take: one restored cluster at a time (each needs a copy's
	 * disk and memory beside the live cluster, and chooses its port without regard to another's); a second is
	 * refused naming the first.
	 */
	static final String LOCK = "backup drill or restore --data-dir";

	static final String NO_SET = "no backup set of stanza %s ended before %s: take a physical backup"
			+ " (bin/etl run backup type=full) before the point in time to restore to";

	static final String STEP_FAILED = "%s failed: %s";

	static final String NOT_REMOVED = "the restored cluster %s could not be removed: %s";

	static final String ROOT_OWNER = "pgBackRest's configuration %s belongs to root: run as root, a restore runs its"
			+ " cluster as that file's owner, and postgres refuses to run as root; give the file to the user who runs"
			+ " postgres";

	static final String BAD_PATH = "%s: a directory's path of letters, digits and / . _ - + @ only, without . or .."
			+ " components (it goes into the restored cluster's configuration files and pg_ctl's shell command line)";

	static final String NO_PARENT = "%s: its parent directory does not exist (it is made there, never with its parents)";

	static final String LIVE_PLACE = "%s is, holds or lies inside %s (%s): a restore writes nowhere near the live"
			+ " cluster or pgBackRest's own files; name a new directory elsewhere";

	static final String NOT_OURS = "%s is a link, not a directory, or belongs to %s, not to %s or %s who run restores:"
			+ " name a new directory, or an empty one of theirs";

	static final String NOT_EMPTY = "%s is not empty: a restore goes into a new or empty directory only (nothing in it is"
			+ " removed or overwritten)";

	static final String WRITABLE = "%s may be written by its group or other users: chmod go-w it, or name another";

	static final String OPEN_PARENT = "%s: the directory above it, %s, belongs to %s or may be written by its group or"
			+ " other users without the sticky bit: a restore goes only under directories that root, %s or %s alone may"
			+ " change (another user could put a link in its place); name a directory elsewhere";

	static final String MOVED = "%s is now a link, or no longer at that real path (something replaced it during the"
			+ " restore): not stopped or removed; look at it by hand";

	static final String UNQUOTABLE = "%s: pgBackRest's program or configuration file named by a path of letters, digits"
			+ " and / . _ - + @ only goes into the restored cluster's restore_command";

	static final String HBA_NAME = "%s: a role or user name pg_hba.conf cannot hold (a double quote, a control character,"
			+ " empty or over 63 bytes): a restored cluster's generated pg_hba.conf names it; run as another";

	static final String PORT_TAKEN = "port %d on 127.0.0.1, free when the restore began, is in use now (port %d is free"
			+ " now: port = '%2$d' in %s/postgresql.auto.conf)";

	/** {@link #PORT_TAKEN} when no free port could be found to suggest (the live cluster down: its ports unknown). */
	static final String PORT_TAKEN_NO_SUGGESTION = "port %d on 127.0.0.1, free when the restore began, is in use now (set a"
			+ " free one, not the live cluster's: port = '...' in %s/postgresql.auto.conf)";

	static final String NO_PORT = "no loopback port is free outside the ephemeral range %d-%d (%s), nor one the system"
			+ " gives that is not the live cluster's (%s) or PostgreSQL's usual 5432-5439";

	static final String SHUT_DOWN = "its postgres was shut down during the replay, not by this command (pg_ctl stop,"
			+ " a service manager: its pg_control says %s)";

	/** pg_control's state after a clean stop (smart or fast) before recovery ended. */
	static final String SHUT_DOWN_IN_RECOVERY = "shut down in recovery";

	static final String SHUT_DOWN_PROMOTED = "its postgres was shut down after its promotion (the target reached), not by"
			+ " this command (pg_ctl stop, a service manager: its pg_control says %s)";

	/** pg_control's state after a clean stop once recovery has ended: after the promotion. */
	static final String SHUT_DOWN_IN_PRODUCTION = "shut down";

	static final String NO_TOOLS = "backup set %s is of PostgreSQL %d, and %s (nothing was restored)";

	static final String NOT_FOR_THE_REPLAY = "%s: given in this environment, pgBackRest's restore would read it, but not"
			+ " the restored cluster's replay (postgres runs its restore_command, pgbackrest archive-get, without this"
			+ " environment, and a secret goes on no command line): set it in pgBackRest's configuration file (%s)"
			+ " instead, and unset it";

	/** {@link #NOT_FOR_THE_REPLAY} said ahead, by the physical backup and backup check, which go on. */
	static final String REFUSED_BY_RESTORES = "%s: given in this environment, pgBackRest reads it here, but a"
			+ " point-in-time restore or drill refuses it (its replay runs pgbackrest archive-get without this"
			+ " environment): set it in pgBackRest's configuration file (%s) instead, and unset it";

	static final String TIME_AHEAD = "--to-time %s is after the newest restorable time, %s (the server's clock: a"
			+ " restore's pgbackrest check archives the WAL up to then first): recovery would end short of it";

	/**
	 * Where pgBackRest looks for its configuration when none is named: its default (pgbackrest help restore config),
	 * and the older place it falls back to when that does not exist (Debian's).
	 */
	private static final List<String> DEFAULT_CONFIGS = List.of("pgbackrest/pgbackrest.conf", "pgbackrest.conf");

	/** Characters a path given for a restored cluster may hold: safe in a configuration file's quotes and in pg_ctl's shell line. */
	private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9/._+@-]*");

	/** Restore and replay of a large database take hours; this bounds only one that hangs. */
	private static final Duration STEP_TIMEOUT = Duration.ofHours(12);

	private static final Duration STOP_TIMEOUT = Duration.ofMinutes(2);

	/** A program's exit code when SIGHUP, SIGINT or SIGTERM ended it. */
	private static final Set<Integer> STOPPED_BY = Set.of(128 + 1, 128 + 2, 128 + 15);

	/**
	 * The kernel's ephemeral port range: the ports it hands to outgoing connections, pgBackRest's to the repository
	 * during a restore of hours among them.
	 */
	static final Path EPHEMERAL_PORTS = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

	/** PostgreSQL's usual ports: a cluster of the host that restarts, or listens on another address only, takes them. */
	private static final int POSTGRES_PORTS_FROM = 5432;

	private static final int POSTGRES_PORTS_TO = 5439;

	/** How many ports the system gives are tried when none is left outside the ephemeral range. */
	private static final int SYSTEM_PORT_TRIES = 20;

	/** Linux's ephemeral range, when the file cannot be read. */
	private static final int[] DEFAULT_EPHEMERAL_PORTS = { 32768, 60999 };

	/**
	 * The memory a restored cluster takes beside the live one, drill and point-in-time restore alike: PostgreSQL's
	 * defaults, not the live cluster's (its configuration comes with the data directory). A second 16 GB of shared
	 * buffers on the host puts the live cluster's backends in the OOM killer's way (a crash restart of the live
	 * cluster), and huge_pages = on fails the start, after the whole restore, when the live cluster holds the pages.
	 */
	private static final Map<String, String> BESIDE_THE_LIVE = besideTheLive();

	private static Map<String, String> besideTheLive() {
		Map<String, String> settings = new LinkedHashMap<>();
		settings.put("shared_buffers", "128MB");
		settings.put("huge_pages", "off");
		settings.put("wal_buffers", "-1");
		settings.put("work_mem", "4MB");
		settings.put("maintenance_work_mem", "64MB");
		settings.put("autovacuum_work_mem", "-1");
		// set aside at the start, often on huge pages: the live cluster's 8 GB would be taken a second time
		settings.put("min_dynamic_shared_memory", "0");
		return settings;
	}

	/**
	 * What a restored cluster runs with whatever the live cluster's configuration (copied with its data directory)
	 * says, written into its postgresql.auto.conf (read last, and kept across restarts): no WAL archiving (never into
	 * the live cluster's repository), no logical replication workers (its subscriptions would move the publishers'
	 * slots on), no commands run at the end of recovery, no wait for synchronous standbys and no upstream that are
	 * the live cluster's, no log collector writing where the live cluster's does, no preloaded libraries (their
	 * background workers, pg_cron's, would act on the live cluster), PostgreSQL's defaults for the memory it takes
	 * ({@link #BESIDE_THE_LIVE}) (and, in {@link #configure}, a pid file of its own).
	 */
	private static final Map<String, String> ISOLATED = isolated();

	private static Map<String, String> isolated() {
		Map<String, String> settings = new LinkedHashMap<>();
		settings.put("archive_mode", "off");
		for (String empty : List.of("archive_command", "archive_library", "recovery_end_command", "archive_cleanup_command",
				"synchronous_standby_names", "primary_conninfo", "primary_slot_name")) {
			settings.put(empty, "");
		}
		settings.put("max_logical_replication_workers", "0");
		settings.put("logging_collector", "off");
		// their workers act on the live cluster's behalf: pg_cron runs its jobs against the live database, pglogical
		// takes the providers' slots, pg_net sends again
		settings.put("shared_preload_libraries", "");
		settings.putAll(BESIDE_THE_LIVE);
		return settings;
	}

	/** pgBackRest's --target for a time: what recovery_target_time takes. */
	private static final DateTimeFormatter TARGET_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx")
		.withZone(ZoneOffset.UTC);

	/** Where to stop replaying: a restore point's name, or a time; {@code before}: a set must have ended before it. */
	record Target(String name, Instant time, Instant before) {

		static Target point(String name, Instant createdAt) {
			return new Target(name, null, createdAt);
		}

		static Target time(Instant time) {
			return new Target(null, time, time);
		}

		@Override
		public String toString() {
			return this.name != null ? "restore point " + this.name : this.time.toString();
		}

	}

	/** What a command printed (stdout and stderr together), and its exit code (-1: it did not end in time). */
	record Ran(int exitCode, String output) {
	}

	private final PgBackRest pgBackRest;

	private final PhysicalBackups physical;

	private final PostgresTools tools;

	private final DataSource dataSource;

	/** {@link #tool}'s paths by name and the server's major version ("pg_ctl 15"). */
	private final Map<String, String> found = new ConcurrentHashMap<>();

	/** {@link #tool}'s path last found by name: what a clean-up on exit uses when the server cannot be asked. */
	private final Map<String, String> lastFound = new ConcurrentHashMap<>();

	ClusterRestore(PgBackRest pgBackRest, PhysicalBackups physical, PostgresTools tools, DataSource dataSource) {
		this.pgBackRest = pgBackRest;
		this.physical = physical;
		this.tools = tools;
		this.dataSource = dataSource;
	}

	/**
	 * A transaction of its own, with an id and no data, committed on the live cluster now, after {@code time}: recovery
	 * to a time stops before the first commit after it, and with none in the WAL ends at its end and fails ("recovery
	 * ended before configured recovery target was reached") on a cluster that wrote nothing since.
	 */
	private void commitAfter(Instant time) {
		try (Connection connection = this.dataSource.getConnection();
				ResultSet rs = connection.createStatement().executeQuery("SELECT txid_current()")) {
			rs.next();
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot commit a transaction after " + time + ": " + ex.getMessage(), ex);
		}
	}

	/** The tools a restored cluster needs: to read its pg_control, to start and stop it. */
	static final List<String> RESTORE_TOOLS = List.of("pg_controldata", "pg_ctl");

	/**
	 * Refuses a target no backup set ended before, and a set whose major version has none of {@code tools} here
	 * ({@link #refuseWithoutTools}) (exit 2), from what pgbackrest info lists: read only, before the check (a WAL
	 * switch) and anything else is done.
	 */
	void refuseWithoutSet(Target target, List<String> tools) throws IOException, InterruptedException {
		refuseWithoutTools(newestBefore(target).orElseThrow(
				() -> new UsageException(NO_SET.formatted(this.pgBackRest.stanza(), target))), tools);
	}

	/**
	 * Makes sure the WAL up to now is in the repository (pgBackRest's check switches to a new segment and waits for
	 * the old one to arrive), then chooses the newest set that ended before the target, refused (exit 2) when
	 * {@code tools} of its major version are not here.
	 */
	String setFor(Target target, List<String> tools) throws IOException, InterruptedException {
		if (target.time() != null) {
			commitAfter(target.time());
		}
		PgBackRest.Result check = this.pgBackRest.run(STEP_TIMEOUT, "check");
		if (check.exitCode() != 0) {
			throw new IllegalStateException(STEP_FAILED.formatted("pgbackrest check", errors(check)));
		}
		PhysicalBackups.BackupSet set = newestBefore(target)
			.orElseThrow(() -> new IllegalStateException(NO_SET.formatted(this.pgBackRest.stanza(), target)));
		refuseWithoutTools(set, tools);
		return set.label();
	}

	private Optional<PhysicalBackups.BackupSet> newestBefore(Target target) throws IOException, InterruptedException {
		return this.physical.info().stream().filter(set -> set.stopped().isBefore(target.before())).reduce((older, newer) -> newer);
	}

	/**
	 * Refuses (exit 2) a set of a major version whose {@code tools} are not here (its old tools gone after a major
	 * upgrade): found after the restore of hours, its cluster could only be kept, never started.
	 */
	private void refuseWithoutTools(PhysicalBackups.BackupSet set, List<String> tools) {
		if (set.major() == 0) {
			// not listed by pgbackrest info: its PG_VERSION chooses the tools after the restore
			return;
		}
		for (String name : tools) {
			try {
				tool(name, set.major());
			}
			catch (PostgresTools.MissingTool ex) {
				throw new UsageException(NO_TOOLS.formatted(set.label(), set.major(), ex.getMessage()));
			}
		}
	}

	/**
	 * What a restore wrote beyond pgBackRest's files: {@code notes}, one line each, and {@code settings}, every setting
	 * written into postgresql.auto.conf in the order written.
	 */
	record Configured(List<String> notes, Map<String, String> settings) {
	}

	/**
	 * pgBackRest restores the set into {@code data} (an empty directory) and the tablespaces into {@code tablespaces},
	 * with the target as recovery target, promoted when reached; at once set apart ({@link #setApart}: archiving off,
	 * its own port), the files go to the configuration's owner, and the restored configuration then gets
	 * {@link #ISOLATED}, {@code settings} (its port, sockets, a point-in-time restore's archiving...) and, when the live
	 * cluster's configuration lives outside its data directory (none restored), the settings its WAL requires
	 * ({@link #CONTROLLED}).
	 */
	Configured restore(Path data, Path tablespaces, String set, Target target, Map<String, String> settings)
			throws IOException, InterruptedException {
		// what pgBackRest's configuration may say for restores is set aside: links restored as directories (a link
		// would point at the live cluster's pg_wal or configuration), every database, every tablespace into
		// tablespaces (a tablespace-map entry would win over --tablespace-map-all), no delta (nothing in data is
		// pgBackRest's to compare and keep), no recovery options of its own (the command line's replaces them all).
		// force, target-exclusive and target-timeline are command-line only in pgBackRest: ignored in a file.
		List<String> options = new ArrayList<>(List.of("--pg1-path=" + data, "--set=" + set,
				"--tablespace-map-all=" + tablespaces, "--reset-tablespace-map", "--no-delta", "--no-link-all",
				"--reset-link-map", "--reset-db-include", "--recovery-option=restore_command=" + restoreCommand(data),
				"--target-action=promote", "--archive-mode=off", "--log-level-console=error", "--log-level-stderr=off"));
		if (target.name() != null) {
			options.addAll(List.of("--type=name", "--target=" + target.name()));
		}
		else {
			options.addAll(List.of("--type=time", "--target=" + TARGET_TIME.format(target.time())));
		}
		// read before the restore of hours: the live cluster may be down by its end
		String role = role();
		Set<String> elsewhere = liveElsewhere();
		PgBackRest.Result restored = this.pgBackRest.run(STEP_TIMEOUT, "restore", options.toArray(String[]::new));
		if (restored.exitCode() != 0) {
			throw new IllegalStateException(STEP_FAILED.formatted("pgbackrest restore", errors(restored)));
		}
		setApart(data, settings);
		for (Path top : List.of(data, tablespaces)) {
			if (Files.exists(top)) {
				try (Stream<Path> files = Files.walk(top)) {
					toOwner(files.toArray(Path[]::new));
				}
			}
		}
		List<String> notes = new ArrayList<>(setAside(data, elsewhere));
		Map<String, String> all = new LinkedHashMap<>();
		if (!Files.exists(data.resolve(CONF), LinkOption.NOFOLLOW_LINKS)) {
			// the live cluster's values, which its postgresql.conf in /etc gave: PostgreSQL's defaults below them stop
			// the replay ("insufficient parameter settings")
			Ran control = asOwner(STOP_TIMEOUT, tool("pg_controldata", data), data.toString());
			if (control.exitCode() != 0) {
				throw new IllegalStateException(STEP_FAILED.formatted("pg_controldata", OneLine.of(control.output())));
			}
			all.putAll(controlled(control.output()));
		}
		all.putAll(settings);
		notes.addAll(configure(data, all, owner(), role));
		toOwner(CONFIGURATION.stream().map(data::resolve).toArray(Path[]::new));
		return new Configured(notes, written(data, all));
	}

	/**
	 * The settings hot standby's replay requires at least as high as the primary's (pg_control records those), as
	 * pg_controldata names them, by name.
	 */
	private static final Map<String, String> CONTROLLED = controlledLabels();

	private static Map<String, String> controlledLabels() {
		Map<String, String> labels = new LinkedHashMap<>();
		labels.put("max_connections setting:", "max_connections");
		labels.put("max_worker_processes setting:", "max_worker_processes");
		labels.put("max_wal_senders setting:", "max_wal_senders");
		labels.put("max_prepared_xacts setting:", "max_prepared_transactions");
		labels.put("max_locks_per_xact setting:", "max_locks_per_transaction");
		return labels;
	}

	/** {@link #CONTROLLED}'s settings with the values pg_controldata's {@code output} gives, in its order. */
	static Map<String, String> controlled(String output) {
		Map<String, String> settings = new LinkedHashMap<>();
		output.lines().forEach(line -> CONTROLLED.forEach((label, name) -> {
			if (line.startsWith(label) && line.substring(label.length()).strip().matches("[0-9]{1,9}")) {
				settings.put(name, line.substring(label.length()).strip());
			}
		}));
		if (settings.size() != CONTROLLED.size()) {
			// named only: the output holds the cluster's mock authentication nonce, not for logs or a drill's problems
			List<String> missing = CONTROLLED.values().stream().filter(name -> !settings.containsKey(name)).toList();
			throw new IllegalStateException(STEP_FAILED.formatted("pg_controldata", "no " + String.join(", ", missing)
					+ " in its output"));
		}
		return settings;
	}

	/**
	 * Refuses (exit 2) pgBackRest's program or configuration paths named by a path that cannot go into the restored
	 * cluster's restore_command ({@link #restoreCommand}), a configuration whose owner this runner cannot run the
	 * restored cluster as ({@link #unrunnable}), pgBackRest's settings in this environment that the replay would not
	 * see ({@link #unseenByTheReplay}), and a runner's role the generated pg_hba.conf cannot name ({@link #hbaName}): checked before the live cluster is touched or anything is made, not found out after
	 * pgbackrest check, the directories or the restore of hours.
	 */
	void preflight() {
		refuseUnquotablePaths();
		String config = config();
		unseenByTheReplay(NOT_FOR_THE_REPLAY, this.pgBackRest.config(), Settings.inherited()).ifPresent(refused -> {
			throw new UsageException(refused);
		});
		try {
			String problem = unrunnable(config, Files.getOwner(Path.of(config)).getName(),
					System.getProperty("user.name"));
			if (problem != null) {
				throw new UsageException(problem);
			}
		}
		catch (IOException ex) {
			// not there or not readable: the restored cluster runs as this user ({@link #owner})
		}
		hbaName(role());
	}

	/**
	 * Why a runner {@code me} cannot run a restored cluster, pgBackRest's configuration {@code config} belonging to
	 * {@code owner}, or null. Run as root, a restore runs its cluster as that file's owner (runuser), and postgres
	 * refuses root; any other runner runs it as itself (only root may give files away), whoever owns the file.
	 */
	static String unrunnable(String config, String owner, String me) {
		return me.equals("root") && owner.equals("root") ? ROOT_OWNER.formatted(config) : null;
	}

	private void refuseUnquotablePaths() {
		List<String> paths = new ArrayList<>(List.of(this.pgBackRest.bin(), config()));
		configOptions().forEach(option -> paths.add(option.substring(option.indexOf('=') + 1)));
		for (String path : paths) {
			if (badPath(Path.of(path))) {
				throw new UsageException(UNQUOTABLE.formatted(OneLine.of(path)));
			}
		}
	}

	/**
	 * pgBackRest's options that choose the configuration it reads, each with the environment variable that gives it
	 * the same way (pgBackRest counts them alike: a --config or PGBACKREST_CONFIG without a config path or include
	 * path skips the include files, conf.d).
	 */
	private static final Map<String, String> CONFIG_OPTIONS = Map.of("config", "PGBACKREST_CONFIG", "config-path",
			"PGBACKREST_CONFIG_PATH", "config-include-path", "PGBACKREST_CONFIG_INCLUDE_PATH");

	/** pgBackRest's variables for what the restore_command sets itself on its command line, which wins over them. */
	private static final Set<String> SET_BY_THE_RESTORE = Set.of("PGBACKREST_STANZA", "PGBACKREST_PG1_PATH",
			"PGBACKREST_ARCHIVE_ASYNC");

	/**
	 * The PGBACKREST_ variables of {@code environment} (pgbackrest reads them as options) that the restored cluster's
	 * replay would not see, postgres running its restore_command without this environment: all but those that choose
	 * the configuration (carried: {@link #configOptions}), those the restore_command sets itself
	 * ({@link #SET_BY_THE_RESTORE}) and the log's (where and how much pgBackRest logs, not what it reads). None is
	 * carried onto the command line: a secret (repo1-cipher-pass, an S3 key) would be in postgresql.auto.conf and the
	 * process list, and pgBackRest refuses those there.
	 */
	static List<String> unseenByTheReplay(Map<String, String> environment) {
		return environment.keySet()
			.stream()
			.filter(name -> name.startsWith("PGBACKREST_") && !name.startsWith("PGBACKREST_LOG_"))
			.filter(name -> !CONFIG_OPTIONS.containsValue(name) && !SET_BY_THE_RESTORE.contains(name))
			.sorted()
			.toList();
	}

	/**
	 * {@code message} ({@link #NOT_FOR_THE_REPLAY}, {@link #REFUSED_BY_RESTORES}) naming the variables of
	 * {@code environment} that {@link #unseenByTheReplay(Map)} lists, never their values, and the configuration file
	 * to set them in ({@link #config(String, Map, Path)} of {@code configured}); none when there are none.
	 */
	static Optional<String> unseenByTheReplay(String message, String configured, Map<String, String> environment) {
		List<String> unseen = unseenByTheReplay(environment);
		return unseen.isEmpty() ? Optional.empty()
				: Optional.of(message.formatted(OneLine.of(String.join(", ", unseen)),
						config(configured, environment, Path.of("/etc"))));
	}

	/**
	 * The options the runner's pgbackrest ran with that choose its configuration ({@link #configOptions(String, Map)}):
	 * the replay's restore_command and the switch-over's commands pass the same, and so read the same files.
	 */
	List<String> configOptions() {
		return configOptions(this.pgBackRest.config(), Settings.inherited());
	}

	/**
	 * The command-line options that make a pgbackrest run without this JVM's environment (postgres's restore_command
	 * and archive_command) read the configuration the runner's read: --config for {@code configured}
	 * (ETL_PGBACKREST_CONFIG, on the runner's command line), else for PGBACKREST_CONFIG of {@code environment};
	 * --config-path and --config-include-path for PGBACKREST_CONFIG_PATH and PGBACKREST_CONFIG_INCLUDE_PATH; none of
	 * them when none is set: pgbackrest then reads its default file and include path, as the runner's did.
	 */
	static List<String> configOptions(String configured, Map<String, String> environment) {
		List<String> options = new ArrayList<>();
		for (String option : List.of("config", "config-path", "config-include-path")) {
			String value = option.equals("config") && !configured.isEmpty() ? configured
					: environment.getOrDefault(CONFIG_OPTIONS.get(option), "");
			if (!value.isEmpty()) {
				options.add("--" + option + "=" + value);
			}
		}
		return options;
	}

	/**
	 * The main configuration file pgBackRest reads for this runner ({@link #config(String, Map, Path)}): its owner runs
	 * the restored cluster, and the switch-over names it.
	 */
	String config() {
		return config(this.pgBackRest.config(), Settings.inherited(), Path.of("/etc"));
	}

	/**
	 * The main configuration file pgBackRest reads: {@code configured} (ETL_PGBACKREST_CONFIG, on its command line),
	 * else PGBACKREST_CONFIG of {@code environment} (pgbackrest runs with this JVM's environment), else pgbackrest.conf
	 * in PGBACKREST_CONFIG_PATH, else its default under {@code etc}: /etc/pgbackrest/pgbackrest.conf, or
	 * /etc/pgbackrest.conf (Debian's) when that does not exist.
	 */
	static String config(String configured, Map<String, String> environment, Path etc) {
		if (!configured.isEmpty()) {
			return configured;
		}
		String variable = environment.getOrDefault("PGBACKREST_CONFIG", "");
		if (!variable.isEmpty()) {
			return variable;
		}
		String path = environment.getOrDefault("PGBACKREST_CONFIG_PATH", "");
		if (!path.isEmpty()) {
			return Path.of(path).resolve("pgbackrest.conf").toString();
		}
		Path preferred = etc.resolve(DEFAULT_CONFIGS.get(0));
		return (Files.exists(preferred) ? preferred : etc.resolve(DEFAULT_CONFIGS.get(1))).toString();
	}

	/**
	 * The restored cluster's restore_command, in place of the one pgbackrest restore would write: that one's
	 * archive-get takes archive-async from pgBackRest's configuration, and an asynchronous archive-get of a replay
	 * that lasts hours shares the spool path with the live cluster's asynchronous archive-push. Synchronous here,
	 * with this restore's configuration options ({@link #configOptions()}: postgres runs it without this JVM's
	 * environment), stanza and data directory (archive-get checks the cluster's pg_control against the repository).
	 */
	String restoreCommand(Path data) {
		refuseUnquotablePaths();
		return pgBackRestCommand() + " --pg1-path=" + data + " --no-archive-async archive-get %f \"%p\"";
	}

	/**
	 * pgbackrest with the configuration options and stanza the runner's ran with, for a command run without this
	 * JVM's environment (restore_command, the switch-over's archive_command and check).
	 */
	String pgBackRestCommand() {
		StringBuilder command = new StringBuilder(this.pgBackRest.bin());
		configOptions().forEach(option -> command.append(' ').append(option));
		return command.append(" --stanza=").append(this.pgBackRest.stanza()).toString();
	}

	/** The restored configuration files {@link #configure} writes or appends to. */
	private static final List<String> CONFIGURATION = List.of("postgresql.conf", "pg_hba.conf", "pg_ident.conf",
			"postgresql.auto.conf");

	private static final String CONF = CONFIGURATION.get(0);

	/**
	 * The restored data directory's configuration, before its first start: {@link #ISOLATED} and {@code settings}
	 * appended to postgresql.auto.conf (after pgBackRest's recovery settings: the last of a name counts), its own
	 * data_directory last in postgresql.conf (the live one's may name another, which postgresql.auto.conf cannot
	 * override), and, for a cluster whose configuration lives outside its data directory (Debian's
	 * /etc/postgresql), an empty postgresql.conf, an empty pg_ident.conf and a pg_hba.conf that lets only the owner
	 * in through the socket (peer) and {@code role}, the runner's, from 127.0.0.1 with its password (the runbook's
	 * psql, a drill's counts): the restored roles and secrets are the target's, passwords rotated since among them,
	 * and the live cluster's hba (its hardening) is not there to keep them out.
	 */
	static List<String> configure(Path data, Map<String, String> settings, String owner, String role) throws IOException {
		List<String> wrote = new ArrayList<>();
		String none = ": none was restored (the configuration lives outside the data directory): written ";
		Path conf = data.resolve(CONF);
		if (!Files.exists(conf, LinkOption.NOFOLLOW_LINKS)) {
			Files.writeString(conf, "");
			wrote.add(conf + none + "empty; the live cluster's " + String.join(", ", CONTROLLED.values())
					+ " (its pg_control's) into postgresql.auto.conf");
		}
		Files.writeString(conf, "\n# bin/etl backup restore: this data directory, whatever the lines above say\n"
				+ "data_directory = " + quoted(data.toString()) + "\n", java.nio.file.StandardOpenOption.APPEND);
		Path hba = data.resolve("pg_hba.conf");
		if (!Files.exists(hba, LinkOption.NOFOLLOW_LINKS)) {
			Files.writeString(hba, "# bin/etl backup restore: none was restored; a placeholder: " + owner
					+ " through the socket, " + role + " from 127.0.0.1 with its password; put the live cluster's in place"
					+ " before a switch-over\n" + "local all " + hbaName(owner) + " peer\n" + "host all " + hbaName(role)
					+ " 127.0.0.1/32 scram-sha-256\n");
			wrote.add(hba + none + "a placeholder that lets " + owner + " in through the socket and " + role
					+ " from 127.0.0.1 with its password, no other role");
		}
		Path ident = data.resolve("pg_ident.conf");
		if (!Files.exists(ident, LinkOption.NOFOLLOW_LINKS)) {
			Files.writeString(ident, "# bin/etl backup restore: none was restored; no user name maps\n");
			wrote.add(ident + none + "without user name maps");
		}
		appendAuto(data, "this cluster's own, apart from the live one", written(data, settings));
		return wrote;
	}

	/**
	 * Sets a restored data directory apart from the live cluster the moment pgBackRest's restore has returned,
	 * before any tool is looked for or anything else that can fail: {@link #written} without {@code settings}' archive
	 * ones (archive_mode off, an empty archive_command) appended to its postgresql.auto.conf, so that a restore kept
	 * or left before {@link #configure} (a tool found missing; a directory given, which is not removed) never
	 * archives into the live cluster's repository nor takes its port, its sockets or its pid file, whoever starts it.
	 * {@link #configure} restates the same values after it (a point-in-time restore's archiving among them).
	 */
	static void setApart(Path data, Map<String, String> settings) throws IOException {
		Map<String, String> apart = new LinkedHashMap<>(settings);
		apart.keySet().removeIf(name -> name.startsWith("archive_"));
		appendAuto(data, "set apart from the live cluster as soon as pgBackRest's restore returned",
				written(data, apart));
	}

	/** Appends {@code settings} under a comment saying {@code what} they are to postgresql.auto.conf (read last). */
	private static void appendAuto(Path data, String what, Map<String, String> settings) throws IOException {
		StringBuilder auto = new StringBuilder("\n# bin/etl backup restore: " + what + "\n");
		settings.forEach((name, value) -> auto.append(name).append(" = ").append(quoted(value)).append('\n'));
		Files.writeString(data.resolve("postgresql.auto.conf"), auto.toString(), java.nio.file.StandardOpenOption.CREATE,
				java.nio.file.StandardOpenOption.APPEND);
	}

	/** The live server's settings that say where it reads each configuration file, by file. */
	private static final Map<String, String> CONFIGURATION_SETTINGS = Map.of("config_file", "postgresql.conf", "hba_file",
			"pg_hba.conf", "ident_file", "pg_ident.conf");

	/**
	 * The configuration files the live server reads from outside its data directory ({@link #elsewhere}); none known
	 * when the runner's role may not read those settings (a superuser's or pg_read_all_settings').
	 */
	Set<String> liveElsewhere() {
		Map<String, String> settings = new LinkedHashMap<>();
		try (Connection connection = this.dataSource.getConnection();
				ResultSet rs = connection.createStatement().executeQuery("SELECT name, setting FROM pg_settings WHERE name"
						+ " IN ('data_directory', 'config_file', 'hba_file', 'ident_file')")) {
			while (rs.next()) {
				settings.put(rs.getString(1), rs.getString(2));
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the live cluster's settings: " + ex.getMessage(), ex);
		}
		return elsewhere(settings);
	}

	/**
	 * The configuration files ({@link #CONFIGURATION_SETTINGS}) that the live server's {@code settings} (from
	 * pg_settings) say it reads from outside its data_directory: a copy of one in its data directory (initdb's,
	 * left there; its pg_hba.conf trusts 127.0.0.1) is restored with it but is not what the live cluster runs with.
	 */
	static Set<String> elsewhere(Map<String, String> settings) {
		String data = settings.get("data_directory");
		Set<String> files = new java.util.TreeSet<>();
		if (data != null) {
			CONFIGURATION_SETTINGS.forEach((setting, file) -> {
				String read = settings.get(setting);
				if (read != null && !Path.of(read).equals(Path.of(data, file))) {
					files.add(file);
				}
			});
		}
		return files;
	}

	/**
	 * Renames the restored copies of the {@code files} the live cluster does not read ({@link #elsewhere}) to
	 * FILE.not-the-live-clusters, so that {@link #configure} writes its own in their place; what it did, one line each.
	 */
	static List<String> setAside(Path data, Set<String> files) throws IOException {
		List<String> notes = new ArrayList<>();
		for (String file : files) {
			Path restored = data.resolve(file);
			if (Files.exists(restored, LinkOption.NOFOLLOW_LINKS)) {
				Path aside = data.resolve(file + ".not-the-live-clusters");
				Files.move(restored, aside, LinkOption.NOFOLLOW_LINKS);
				notes.add(restored + ": restored, but the live cluster reads its " + file + " from outside its data"
						+ " directory: this stale copy is kept as " + aside + ", not used");
			}
		}
		return notes;
	}

	/**
	 * A role or user name as pg_hba.conf takes it: in double quotes (a name like all, replication, +group or @file is
	 * then that role only), or a UsageException for one it cannot hold (pg_hba.conf has no escape for a quote).
	 */
	static String hbaName(String name) {
		if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > 63 || name.contains("\"")
				|| name.chars().anyMatch(Character::isISOControl)) {
			throw new UsageException(HBA_NAME.formatted(OneLine.of(name)));
		}
		return "\"" + name + "\"";
	}

	/** The runner's role on the live cluster: the one a restored cluster's generated pg_hba.conf lets in by TCP. */
	String role() {
		try (Connection connection = this.dataSource.getConnection();
				ResultSet rs = connection.createStatement().executeQuery("SELECT current_user")) {
			rs.next();
			return rs.getString(1);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the runner's role: " + ex.getMessage(), ex);
		}
	}

	/** What {@link #configure} writes into postgresql.auto.conf: {@link #ISOLATED}, then {@code settings} over it. */
	static Map<String, String> written(Path data, Map<String, String> settings) {
		Map<String, String> all = new LinkedHashMap<>(ISOLATED);
		// not the live cluster's (a service manager reads it); empty, postgres would complain at each start
		all.put("external_pid_file", data.resolve("external.pid").toString());
		all.putAll(settings);
		return all;
	}

	/** A configuration file's quoted value; what goes in has been checked to hold no quote or line end. */
	private static String quoted(String value) {
		if (value.contains("'") || value.contains("\\") || value.contains("\n") || value.contains("\r")) {
			throw new IllegalArgumentException("not a configuration value: " + OneLine.of(value));
		}
		return "'" + value + "'";
	}

	/**
	 * Starts the restored cluster (its settings in its postgresql.auto.conf, none on pg_ctl's command line, which a
	 * shell reads) with its log in {@code log}, and waits until it has replayed to the target and been promoted
	 * (pg_control says "in production"), or ended.
	 */
	void start(Path data, Path log, int port) throws IOException, InterruptedException {
		// free at the restore's start, hours ago: postgres would stop at once on a port taken since
		if (!portFree(port)) {
			throw new NotStarted(portTaken(port, data));
		}
		String pgCtl;
		try {
			pgCtl = tool("pg_ctl", data);
			tool("pg_controldata", data);
		}
		catch (PostgresTools.MissingTool ex) {
			// gone during the restore: what pgBackRest restored is kept for when they are back
			throw new NotStarted(ex.getMessage());
		}
		Path control = data.resolve("global/pg_control");
		byte[] restored = Files.readAllBytes(control);
		Ran started = asOwner(STEP_TIMEOUT, pgCtl, "-D", data.toString(), "-l", log.toString(), "-w", "-t",
				Long.toString(STEP_TIMEOUT.toSeconds()), "start");
		if (started.exitCode() != 0) {
			if (STOPPED_BY.contains(started.exitCode()) && !unchanged(control, restored)) {
				// Ctrl-C reaches pg_ctl too (the terminal signals the whole group), not postgres (pg_ctl's setsid)
				throw new ReplayStopped(STEP_FAILED.formatted("the restored cluster's start",
						"pg_ctl stopped by signal " + (started.exitCode() - 128) + " during the replay"));
			}
			String failed = STEP_FAILED.formatted("the restored cluster's start", lastLines(log));
			// pg_control as pgBackRest restored it: postgres began no replay (it refused its port, settings or memory)
			if (unchanged(control, restored)) {
				throw new NotStarted(failed);
			}
			// pg_ctl -w waits until the copy is consistent: a stop before then ends its wait
			refuseIfShutDownInReplay(data);
			throw new IllegalStateException(failed);
		}
		long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
		while (!state(data).equals("in production")) {
			if (!Files.exists(data.resolve("postmaster.pid"))) {
				refuseIfShutDownInReplay(data);
				throw new IllegalStateException(STEP_FAILED.formatted("the replay to the target", lastLines(log)));
			}
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException(STEP_FAILED.formatted("the replay to the target",
						"not promoted within " + STEP_TIMEOUT.toHours() + " h"));
			}
			Thread.sleep(200);
		}
	}

	/**
	 * The state pg_control of the cluster in {@code data} gives, as pg_controldata words it ("in archive recovery", "in
	 * production"...).
	 */
	String state(Path data) throws IOException, InterruptedException {
		String label = "Database cluster state:";
		return asOwner(STOP_TIMEOUT, tool("pg_controldata", data), data.toString()).output()
			.lines()
			.filter(line -> line.startsWith(label))
			.map(line -> line.substring(label.length()).strip())
			.findFirst()
			.orElse("");
	}

	/**
	 * A ShutDownInReplay when the cluster in {@code data}, found down while its promotion was awaited, was shut down
	 * cleanly ({@link #shutDownBySomeoneElse}) and not by this JVM's clean-up on a signal. Only the cluster's owner or
	 * root can ask postgres to stop: no client of it can make this so.
	 */
	private void refuseIfShutDownInReplay(Path data) throws IOException, InterruptedException {
		String state = state(data);
		// read after the state: a hook that stopped it had said so before it stopped it
		ShutDownInReplay shutDown = shutDownBySomeoneElse(state);
		if (shutDown != null && !CleanUpOnExit.closing()) {
			throw shutDown;
		}
	}

	/**
	 * What pg_control's {@code state} says of a restored cluster found down while its promotion was awaited: shut down
	 * cleanly (smart or fast) before the target ({@link #SHUT_DOWN_IN_RECOVERY}, which only a stop request writes; a
	 * crash, an immediate stop or a failed replay leave "in archive recovery": null), so that the replay resumes at
	 * its next start; or after its promotion, between two looks at pg_control ({@link #SHUT_DOWN_IN_PRODUCTION}:
	 * the replay ended at the target), so that it starts promoted. Either is kept, never removed. The promotion is
	 * pgBackRest's recovery_target_action = 'promote', in postgresql.auto.conf after any the restored configuration
	 * gives (read first, postgresql.conf and its includes, then postgresql.auto.conf, the last of a name counting),
	 * and no setting this restore writes after it names one: a 'shutdown' there, which would write "shut down in
	 * recovery" at the target too, can come from a command line only (postgres -c).
	 */
	static ShutDownInReplay shutDownBySomeoneElse(String state) {
		return state.equals(SHUT_DOWN_IN_RECOVERY) ? new ShutDownInReplay(SHUT_DOWN.formatted(state), false)
				: state.equals(SHUT_DOWN_IN_PRODUCTION) ? new ShutDownInReplay(SHUT_DOWN_PROMOTED.formatted(state), true)
						: null;
	}

	/**
	 * Why a kept restore did not start, its port taken: with a free one to set when one can be found (the live
	 * cluster's ports are read for it); never a failure of its own, which would remove hours of restore.
	 */
	String portTaken(int port, Path data) {
		try {
			return PORT_TAKEN.formatted(port, freePort(), data);
		}
		catch (IOException | RuntimeException ex) {
			return PORT_TAKEN_NO_SUGGESTION.formatted(port, data);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return PORT_TAKEN_NO_SUGGESTION.formatted(port, data);
		}
	}

	/**
	 * A restored cluster that did not start, and began no replay: its data directory is as pgBackRest restored it,
	 * and a start once the cause is fixed replays from the beginning.
	 */
	static final class NotStarted extends IllegalStateException {

		NotStarted(String message) {
			super(message);
		}

	}

	/**
	 * A replay whose pg_ctl start was stopped by a signal (SIGHUP, SIGINT, SIGTERM): postgres replays on, nothing
	 * failed; stopped, it resumes at its next start.
	 */
	static final class ReplayStopped extends IllegalStateException {

		ReplayStopped(String message) {
			super(message);
		}

	}

	/**
	 * A replay whose postgres someone else shut down cleanly (pg_ctl stop, a service manager) before the target, or
	 * just after its promotion ({@code promoted}): nothing failed; started again, it resumes, or runs promoted.
	 */
	static final class ShutDownInReplay extends IllegalStateException {

		private final boolean promoted;

		ShutDownInReplay(String message, boolean promoted) {
			super(message);
			this.promoted = promoted;
		}

		boolean promoted() {
			return this.promoted;
		}

	}

	private static boolean unchanged(Path file, byte[] before) {
		try {
			return Arrays.equals(Files.readAllBytes(file), before);
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Stops the cluster when it runs (immediate: it is thrown away) and removes the directory; what could not be done,
	 * or null.
	 */
	String remove(Path directory, Path data) {
		if (moved(directory)) {
			return NOT_REMOVED.formatted(directory, MOVED.formatted(directory));
		}
		String notStopped = stop(data);
		if (notStopped != null) {
			return NOT_REMOVED.formatted(directory, notStopped);
		}
		try {
			if (Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
				// not following links: a tablespace's is a link, its target inside the directory too
				try (Stream<Path> files = Files.walk(directory)) {
					for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
						Files.delete(file);
					}
				}
			}
			return null;
		}
		catch (IOException | RuntimeException ex) {
			return NOT_REMOVED.formatted(directory, OneLine.of(String.valueOf(ex.getMessage())));
		}
	}

	/**
	 * Stops the cluster of {@code data} (the real path recorded when the restore made or took it) when it runs
	 * (immediate); why it could not be, or null. Never when {@code data} is now a link or elsewhere ({@link #moved}).
	 * Its postmaster.pid is believed only when that process runs in this very directory: after a reboot the number
	 * may be another process's, the live cluster's postmaster among them. Without pg_ctl (its package removed during
	 * the restore), the postmaster is signalled itself ({@link #signalled}).
	 */
	String stop(Path data) {
		return stop(data, "immediate");
	}

	/** {@link #stop(Path)} in that shutdown mode: fast for a cluster that is kept (its replay resumes from a restartpoint). */
	String stop(Path data, String mode) {
		if (moved(data)) {
			return MOVED.formatted(data);
		}
		try {
			if (postmasterRunsIn(data)) {
				String pgCtl;
				try {
					pgCtl = tool("pg_ctl", data);
				}
				catch (PostgresTools.MissingTool ex) {
					// gone during the restore (its package removed): the postmaster is asked itself, as pg_ctl would
					return signalled(data, mode);
				}
				Ran stopped = asOwner(STOP_TIMEOUT, pgCtl, "-D", data.toString(), "-m", mode, "-w", "stop");
				// one that ended by itself meanwhile (its pid file gone: "Is server running?") is stopped
				if (stopped.exitCode() != 0 && postmasterRunsIn(data)) {
					return "pg_ctl stop: " + OneLine.of(stopped.output().strip());
				}
			}
			return null;
		}
		catch (IOException | RuntimeException ex) {
			return OneLine.of(String.valueOf(ex.getMessage()));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return "interrupted";
		}
	}

	/** The signal pg_ctl stop sends the postmaster for each shutdown mode. */
	private static final Map<String, String> SHUTDOWN_SIGNALS = Map.of("smart", "TERM", "fast", "INT", "immediate", "QUIT");

	static final String NOT_A_POSTMASTER = "pg_ctl is missing, and process %s of %s/postmaster.pid is not the postmaster"
			+ " of that directory (%s): not signalled";

	static final String NOT_ENDED = "pg_ctl is missing, and the postmaster %d of %s did not end within %d s of SIG%s";

	/**
	 * Stops the cluster of {@code data} without pg_ctl: the mode's signal ({@link #SHUTDOWN_SIGNALS}) to the process its
	 * postmaster.pid names, once {@link #postmasterOf} has verified it, then waits for it to end; why it could not be,
	 * or null.
	 */
	static String signalled(Path data, String mode) throws IOException, InterruptedException {
		List<String> pidFile = Files.readAllLines(data.resolve("postmaster.pid"));
		String pid = pidFile.isEmpty() ? "" : pidFile.get(0).strip();
		String problem = postmasterOf(data, pidFile);
		if (problem != null) {
			return NOT_A_POSTMASTER.formatted(OneLine.of(pid), data, problem);
		}
		Optional<ProcessHandle> postmaster = ProcessHandle.of(Long.parseLong(pid));
		if (postmaster.isEmpty()) {
			// ended since
			return null;
		}
		// from this JVM, as root or as the owner, who may both signal the owner's postmaster
		String signal = SHUTDOWN_SIGNALS.get(mode);
		Ran sent = run(STOP_TIMEOUT, List.of("/bin/kill", "-s", signal, pid));
		try {
			postmaster.get().onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
			return null;
		}
		catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex) {
			return sent.exitCode() != 0 ? "kill: " + OneLine.of(sent.output().strip())
					: NOT_ENDED.formatted(postmaster.get().pid(), data, STOP_TIMEOUT.toSeconds(), signal);
		}
	}

	/**
	 * Why the process that {@code pidFile} (postmaster.pid's lines) names is not the postmaster of {@code data}, or
	 * null: its /proc entry must show a program named postgres (its command line's first word),
	 * run with {@code data} as its working directory, and the pid file's second line must be {@code data} too.
	 * A pid file outlives a crash or a reboot, and its number may be another process's by then, the live cluster's
	 * postmaster among them: nothing unverified is signalled.
	 */
	static String postmasterOf(Path data, List<String> pidFile) {
		if (pidFile.size() < 2 || !pidFile.get(0).strip().matches("[0-9]{1,10}")) {
			return "not a pid file";
		}
		if (!pidFile.get(1).strip().equals(data.toString())) {
			return "the pid file names " + OneLine.of(pidFile.get(1).strip());
		}
		String pid = pidFile.get(0).strip();
		String program;
		try {
			// (not readString: of a /proc file, whose size says 0, Java 17's gives the first byte only)
			String commandLine = new String(Files.readAllBytes(Path.of("/proc", pid, "cmdline")), StandardCharsets.UTF_8);
			program = commandLine.split("\0", 2)[0];
		}
		catch (IOException ex) {
			return "no such process";
		}
		if (!program.equals("postgres") && !program.endsWith("/postgres")) {
			return "it runs " + OneLine.of(program);
		}
		return runsIn(pid, data) ? null : "it runs elsewhere";
	}

	/**
	 * Whether {@code recorded} (a real path) is now a link, or reached through one: a planted link would turn the
	 * stop or the removal against whatever it names, the live cluster included. A directory that is gone has not
	 * moved.
	 */
	static boolean moved(Path recorded) {
		if (!Files.exists(recorded, LinkOption.NOFOLLOW_LINKS)) {
			return !real(recorded).equals(recorded);
		}
		try {
			return Files.isSymbolicLink(recorded) || !recorded.toRealPath().equals(recorded);
		}
		catch (IOException ex) {
			return true;
		}
	}

	/** What a directory given to a restore is for, and so what it must be. */
	enum Use {

		/** A restored cluster's data directory: empty; made 0700 when it is more open (its owner's, checked). */
		DATA(true, false),
		/** The directory a restored cluster's tablespaces go into: empty, writable by its owner only. */
		TABLESPACES(true, true),
		/** ETL_PGBACKREST_DRILL_DIR: the drills' scratch clusters, removed by later drills; writable by its owner only. */
		DRILLS(false, true);

		private final boolean empty;

		private final boolean ownerWritesOnly;

		Use(boolean empty, boolean ownerWritesOnly) {
			this.empty = empty;
			this.ownerWritesOnly = ownerWritesOnly;
		}

	}

	/**
	 * Why a restore may not write into {@code dir}, or null. Its path must be plain ({@link #SAFE_PATH}, no . or ..)
	 * and its parent must exist, every directory above its real path root's, this user's or the configuration owner's,
	 * not writable by group or others unless sticky (/tmp). Its real path (its parents' links resolved) must be apart
	 * from each of
	 * {@code live} ({@link #livePlaces()}): not one of them, above one or inside one. If it exists it must be a
	 * directory, not a link, of pgBackRest's configuration's owner (who runs the restored postgres) or of this user,
	 * not writable by others when {@code use} says so, and empty when {@code use} says so: a restore never removes or
	 * overwrites what it did not write.
	 */
	String unsafe(Path dir, Use use, Map<Path, String> live) throws IOException {
		if (badPath(dir)) {
			return BAD_PATH.formatted(OneLine.of(dir.toString()));
		}
		Path real = real(dir);
		if (!SAFE_PATH.matcher(real.toString()).matches()) {
			return BAD_PATH.formatted(OneLine.of(real.toString()));
		}
		for (Map.Entry<Path, String> place : live.entrySet()) {
			if (real.startsWith(place.getKey()) || place.getKey().startsWith(real)) {
				return LIVE_PLACE.formatted(dir, place.getKey(), place.getValue());
			}
		}
		if (dir.getParent() == null || !Files.isDirectory(dir.getParent())) {
			return NO_PARENT.formatted(dir);
		}
		String me = System.getProperty("user.name");
		// as sudo's secure path: nobody else can swap a directory on the way for a link between this check and its use
		for (Path above = real.getParent(); above != null; above = above.getParent()) {
			String owner = Files.getOwner(above).getName();
			int mode = (Integer) Files.getAttribute(above, "unix:mode");
			if (!(owner.equals("root") || owner.equals(me) || owner.equals(owner()))
					|| ((mode & 022) != 0 && (mode & 01000) == 0)) {
				return OPEN_PARENT.formatted(dir, above, owner, me, owner());
			}
		}
		if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
			return null;
		}
		String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
		if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !(owner.equals(owner()) || owner.equals(me))) {
			return NOT_OURS.formatted(dir, owner, owner(), me);
		}
		Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
		if (use.ownerWritesOnly
				&& (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE))) {
			return WRITABLE.formatted(dir);
		}
		if (use.empty) {
			try (Stream<Path> entries = Files.list(dir)) {
				if (entries.findAny().isPresent()) {
					return NOT_EMPTY.formatted(dir);
				}
			}
		}
		return null;
	}

	/** Whether the path is not plain: relative, with . or .., or a character outside {@link #SAFE_PATH}. */
	static boolean badPath(Path dir) {
		return !dir.isAbsolute() || !SAFE_PATH.matcher(dir.toString()).matches() || !dir.normalize().equals(dir);
	}

	/**
	 * Where the live cluster and pgBackRest keep their files, as real paths, with what each is: the data directory
	 * (the server's, when the runner's role may read it, and pgBackRest's pg1-path, whose check compares the two) and
	 * its pg_wal, the tablespaces, the socket directories, the directories of its configuration files and its log
	 * (when the role may read those settings), pgBackRest's repositories on this host and other clusters of the
	 * stanza here ({@link #configuredPlaces}), its spool, lock and log paths.
	 */
	Map<Path, String> livePlaces() throws IOException, InterruptedException {
		Map<String, String> named = new LinkedHashMap<>();
		List<String> data = new ArrayList<>();
		try (Connection connection = this.dataSource.getConnection(); Statement statement = connection.createStatement()) {
			// pg_settings shows these rows only to a superuser or pg_read_all_settings: else pgBackRest's say
			try (ResultSet rs = statement.executeQuery("SELECT name, setting FROM pg_settings WHERE name IN"
					+ " ('data_directory', 'unix_socket_directories', 'config_file', 'hba_file', 'ident_file',"
					+ " 'log_directory')")) {
				while (rs.next()) {
					String name = rs.getString(1);
					String setting = rs.getString(2);
					if (name.equals("data_directory")) {
						data.add(setting);
					}
					else if (name.equals("unix_socket_directories")) {
						for (String socket : setting.split(",")) {
							named.put(socket.strip().replace("\"", ""), "the live cluster's socket directory");
						}
					}
					else if (name.equals("log_directory")) {
						// a relative one is inside the data directory
						named.put(setting, "the live cluster's log directory");
					}
					else if (setting.startsWith("/")) {
						named.put(setting.substring(0, setting.lastIndexOf('/')), "the directory of the live cluster's " + name);
					}
				}
			}
			try (ResultSet rs = statement.executeQuery("SELECT spcname, pg_tablespace_location(oid) FROM pg_tablespace"
					+ " WHERE pg_tablespace_location(oid) <> ''")) {
				while (rs.next()) {
					named.put(rs.getString(2), "the live cluster's tablespace " + rs.getString(1));
				}
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the live cluster's settings: " + ex.getMessage(), ex);
		}
		this.pgBackRest.option("restore", "pg1-path").ifPresent(data::add);
		for (String directory : data) {
			named.put(directory, "the live cluster's data directory");
			named.put(directory + "/pg_wal", "the live cluster's pg_wal");
		}
		this.pgBackRest.option("check", "pg1-socket-path")
			.ifPresent(socket -> named.put(socket, "the live cluster's socket directory"));
		if (this.pgBackRest.option("restore", "repo1-type").orElse("posix").equals("posix")) {
			this.pgBackRest.option("restore", "repo1-path")
				.ifPresent(repository -> named.put(repository, "pgBackRest's repository"));
		}
		for (String path : List.of("spool-path", "lock-path", "log-path")) {
			this.pgBackRest.option("restore", path).ifPresent(directory -> named.put(directory, "pgBackRest's " + path));
		}
		// pgbackrest help names the first repository's and cluster's options only
		List<String> files = new ArrayList<>(List.of(config()));
		this.pgBackRest.option("restore", "config-include-path").ifPresent(include -> {
			try (Stream<Path> included = Files.list(Path.of(include))) {
				included.map(Path::toString).filter(file -> file.endsWith(".conf")).sorted().forEach(files::add);
			}
			catch (IOException | RuntimeException ex) {
				// none, or not this user's to read: pgBackRest reads none there either then
			}
		});
		List<String> lines = new ArrayList<>();
		for (String file : files) {
			try {
				lines.addAll(Files.readAllLines(Path.of(file)));
			}
			catch (IOException | RuntimeException ex) {
				// not readable by this user: what pgbackrest help said above stands
			}
		}
		configuredPlaces(lines, this.pgBackRest.stanza()).forEach(named::putIfAbsent);
		Map<Path, String> places = new LinkedHashMap<>();
		named.forEach((path, what) -> {
			if (path.startsWith("/")) {
				places.putIfAbsent(real(Path.of(path)), what);
			}
		});
		return places;
	}

	/** An indexed option of pgBackRest's configuration: repoN-... or pgN-... */
	private static final Pattern INDEXED = Pattern.compile("(repo|pg)([0-9]{1,3})-(path|type|host)");

	/**
	 * The places on this host that pgBackRest's configuration {@code lines} (its file and includes) give in the
	 * sections that apply to {@code stanza}'s restores: every repository's path whose type is posix or cifs (a file
	 * system here) and that has no repository host, and every cluster's (pgN-path: a standby of the stanza on this
	 * host) that has no host of its own.
	 */
	static Map<String, String> configuredPlaces(List<String> lines, String stanza) {
		// every value any section that applies gives: a place protected once too often is only a refusal more
		Map<String, List<String>> options = new LinkedHashMap<>();
		boolean applies = false;
		for (String raw : lines) {
			String line = raw.strip();
			if (line.startsWith("[") && line.endsWith("]")) {
				String section = line.substring(1, line.length() - 1).strip();
				String[] parts = section.split(":", 2);
				applies = (parts[0].equals("global") || parts[0].equals(stanza))
						&& (parts.length == 1 || parts[1].equals("restore"));
			}
			else if (applies && line.contains("=") && !line.startsWith("#")) {
				String key = line.substring(0, line.indexOf('=')).strip();
				if (INDEXED.matcher(key).matches()) {
					options.computeIfAbsent(key, values -> new ArrayList<>()).add(line.substring(line.indexOf('=') + 1).strip());
				}
			}
		}
		Map<String, String> places = new LinkedHashMap<>();
		options.forEach((key, values) -> {
			java.util.regex.Matcher indexed = INDEXED.matcher(key);
			if (indexed.matches() && indexed.group(3).equals("path")) {
				String which = indexed.group(1) + indexed.group(2);
				boolean repository = indexed.group(1).equals("repo");
				List<String> types = options.getOrDefault(which + "-type", List.of("posix"));
				if (!options.containsKey(which + "-host")
						&& (!repository || types.contains("posix") || types.contains("cifs"))) {
					values.forEach(path -> places.put(path, repository ? "pgBackRest's repository " + which
							: "the data directory of the stanza's cluster " + which));
				}
			}
		});
		return places;
	}

	/**
	 * The live cluster's ports, each with where it was read: the server's (SHOW port) and pgBackRest's pg1-port.
	 * It may listen on ::1 or another address only, where 127.0.0.1's port looks free.
	 */
	Map<Integer, String> livePorts() throws IOException, InterruptedException {
		Map<Integer, String> ports = new LinkedHashMap<>();
		try (Connection connection = this.dataSource.getConnection();
				ResultSet rs = connection.createStatement().executeQuery("SHOW port")) {
			rs.next();
			ports.put(Integer.parseInt(rs.getString(1)), "the server's port setting");
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the live cluster's port: " + ex.getMessage(), ex);
		}
		Optional<String> pgBackRest = this.pgBackRest.option("check", "pg1-port");
		if (pgBackRest.isPresent() && pgBackRest.get().matches("[0-9]{1,5}")) {
			ports.putIfAbsent(Integer.parseInt(pgBackRest.get()), "pgBackRest's pg1-port");
		}
		return ports;
	}

	/** The path as the kernel reaches it: the links of its existing part resolved. */
	static Path real(Path path) {
		Path absolute = path.toAbsolutePath().normalize();
		Path existing = absolute;
		while (existing.getParent() != null && !Files.exists(existing)) {
			existing = existing.getParent();
		}
		try {
			return existing.toRealPath().resolve(existing.relativize(absolute));
		}
		catch (IOException ex) {
			return absolute;
		}
	}

	/**
	 * Refuses a time after the server's clock (exit 2): WAL reaches no further, recovery would end short of it. Up to
	 * the clock it is restorable: the restore's pgbackrest check archives the WAL up to then first.
	 */
	void refuseFuture(Instant time) {
		try (Connection connection = this.dataSource.getConnection();
				ResultSet rs = connection.createStatement().executeQuery("SELECT clock_timestamp()")) {
			rs.next();
			Instant now = rs.getTimestamp(1).toInstant();
			if (time.isAfter(now)) {
				throw new UsageException(TIME_AHEAD.formatted(time, now));
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the server's clock: " + ex.getMessage(), ex);
		}
	}

	/** Gives these files to the owner of pgBackRest's configuration (who runs the restored postgres), not following links. */
	void toOwner(Path... files) throws IOException {
		String owner = owner();
		if (!owner.equals(System.getProperty("user.name"))) {
			UserPrincipal principal = java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService()
				.lookupPrincipalByName(owner);
			for (Path file : files) {
				Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setOwner(principal);
			}
		}
	}

	/**
	 * A loopback port free now for a restored cluster: neither the live cluster's ({@link #livePorts}) nor
	 * PostgreSQL's usual ones, outside the kernel's ephemeral range when any is left there.
	 */
	int freePort() throws IOException, InterruptedException {
		return freePort(EPHEMERAL_PORTS, livePorts().keySet());
	}

	/**
	 * A loopback port free now, not in {@code live} nor 5432-5439, from 1024 to 65535 outside the ephemeral range that
	 * {@code ephemeral} gives (its two numbers): above it first (fewer services are configured there), from a place of
	 * its own in each part, so that drills of other runners on the host do not try the same ports in turn. When none
	 * is left there (a range widened to 1024-65535, a common tuning), one the system gives, as before the range was
	 * minded: every drill would fail else; it is checked again just before the start ({@link #start}). None at all: a
	 * UsageException (exit 2, nothing written yet).
	 */
	static int freePort(Path ephemeral, Set<Integer> live) {
		int[] range = DEFAULT_EPHEMERAL_PORTS;
		try {
			// (not readString: of a /proc file, whose size says 0, Java 17's gives the first byte only)
			String[] read = Files.readAllLines(ephemeral).get(0).strip().split("\\s+");
			range = new int[] { Integer.parseInt(read[0]), Integer.parseInt(read[1]) };
		}
		catch (IOException | RuntimeException ex) {
			// not Linux's file, or not readable: Linux's default range
		}
		int low = range[0];
		int high = range[1];
		for (int[] part : List.of(new int[] { Math.max(high + 1, 1024), 65535 }, new int[] { 1024, Math.min(low - 1, 65535) })) {
			int size = part[1] - part[0] + 1;
			int from = size > 0 ? ThreadLocalRandom.current().nextInt(size) : 0;
			for (int i = 0; i < size; i++) {
				int port = part[0] + (from + i) % size;
				if (!taken(port, live) && portFree(port)) {
					return port;
				}
			}
		}
		for (int i = 0; i < SYSTEM_PORT_TRIES; i++) {
			try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
				if (!taken(socket.getLocalPort(), live)) {
					return socket.getLocalPort();
				}
			}
			catch (IOException ex) {
				break;
			}
		}
		throw new UsageException(NO_PORT.formatted(low, high, ephemeral, live));
	}

	private static boolean taken(int port, Set<Integer> live) {
		return live.contains(port) || (port >= POSTGRES_PORTS_FROM && port <= POSTGRES_PORTS_TO);
	}

	/** Whether nothing listens on 127.0.0.1:{@code port} now. */
	static boolean portFree(int port) {
		try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/** Whether the process postmaster.pid names runs with this data directory (a real path) as its working directory. */
	private static boolean postmasterRunsIn(Path data) throws IOException {
		Path pidFile = data.resolve("postmaster.pid");
		if (!Files.isRegularFile(pidFile, LinkOption.NOFOLLOW_LINKS)) {
			return false;
		}
		List<String> lines = Files.readAllLines(pidFile);
		if (lines.isEmpty() || !lines.get(0).strip().matches("[0-9]{1,10}")) {
			return false;
		}
		return runsIn(lines.get(0).strip(), data);
	}

	/** Whether process {@code pid} (digits) runs with {@code data} (a real path) as its working directory. */
	private static boolean runsIn(String pid, Path data) {
		try {
			// the postmaster's working directory is its data directory
			return Files.readSymbolicLink(Path.of("/proc", pid, "cwd")).equals(data);
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Who runs the restored cluster's postgres: run as root, the owner of pgBackRest's configuration ({@link #config()},
	 * the one archive_command's pgbackrest reads as that user), never root; run as anyone else, that user (only root
	 * may give files to another user and run postgres as that user), as when the file cannot be read.
	 */
	String owner() {
		String config = config();
		String me = System.getProperty("user.name");
		String owner;
		try {
			owner = me.equals("root") ? Files.getOwner(Path.of(config)).getName() : me;
		}
		catch (IOException ex) {
			owner = me;
		}
		if (owner.equals("root")) {
			throw new IllegalStateException(ROOT_OWNER.formatted(config));
		}
		return owner;
	}

	/**
	 * The tool of that name (pg_ctl, pg_controldata, pg_amcheck) for the cluster in {@code data}: of the major version
	 * its PG_VERSION says (a restore to before a pg_upgradecluster 15 16 is a 15 cluster; and after pgBackRest's
	 * restore nothing needs the live server, which may be down). Without a PG_VERSION there yet, the server's major
	 * now (a scheduler that runs for months may see its server upgraded under it); when the server cannot be asked
	 * either, the one last found.
	 */
	String tool(String name, Path data) {
		Optional<Integer> restored = major(data);
		if (restored.isPresent()) {
			return tool(name, restored.get());
		}
		int major;
		try (Connection connection = this.dataSource.getConnection()) {
			major = PostgresTools.serverMajor(connection);
		}
		catch (SQLException ex) {
			String last = this.lastFound.get(name);
			if (last != null) {
				return last;
			}
			throw new IllegalStateException("cannot read the server's version: " + ex.getMessage(), ex);
		}
		String path = tool(name, major);
		this.lastFound.put(name, path);
		return path;
	}

	/**
	 * The tool of that name of that major version ({@link PostgresTools#executableOf}); a MissingTool when none is
	 * here. Its --version is read once; one removed since (during a restore of hours) is looked for again, so that
	 * its absence is a MissingTool, never a failure that removes the restore.
	 */
	String tool(String name, int major) {
		String key = name + " " + major;
		String path = this.found.get(key);
		if (path == null || !Files.isExecutable(Path.of(path))) {
			path = this.tools.executableOf(name, major);
			this.found.put(key, path);
		}
		return path;
	}

	/**
	 * {@link #tool(String, Path)} for a command line printed for the operator: where Debian puts it when it is
	 * missing now (the line says to start the cluster once it is back).
	 */
	String printedTool(String name, Path data) {
		try {
			return tool(name, data);
		}
		catch (PostgresTools.MissingTool ex) {
			return "/usr/lib/postgresql/" + major(data).map(String::valueOf).orElse("MAJOR") + "/bin/" + name;
		}
	}

	/** The major version the PG_VERSION of the cluster in {@code data} says, if there is one. */
	private static Optional<Integer> major(Path data) {
		try {
			String version = Files.readString(data.resolve("PG_VERSION")).strip();
			// digits only: it goes into the tools' path (/usr/lib/postgresql/MAJOR/bin) and the printed command lines
			return version.matches("[0-9]{1,3}") ? Optional.of(Integer.parseInt(version)) : Optional.empty();
		}
		catch (IOException ex) {
			// no restored cluster there yet
			return Optional.empty();
		}
	}

	/**
	 * What runs a command as the owner: "runuser -u OWNER -- " when this runs as someone else (root; runuser refuses
	 * other users), else nothing: the command lines printed for the operator, who runs them as this user.
	 */
	String ownersCommand() {
		String owner = owner();
		return owner.equals(System.getProperty("user.name")) ? "" : "runuser -u " + owner + " -- ";
	}

	/**
	 * Runs a PostgreSQL program as the owner, through runuser when this runs as someone else (root), with none of
	 * this JVM's settings and secrets, nor the libpq variables (PGUSER...) meant for the live cluster.
	 */
	Ran asOwner(Duration timeout, String... command) throws IOException, InterruptedException {
		List<String> line = new ArrayList<>(List.of(ownersCommand().split(" ")));
		line.removeIf(String::isEmpty);
		line.addAll(List.of(command));
		return run(timeout, line);
	}

	/** Runs {@code line} as {@link #asOwner} runs a program, as this user. */
	private static Ran run(Duration timeout, List<String> line) throws IOException, InterruptedException {
		ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true);
		builder.environment().keySet().retainAll(List.of("PATH", "TZ"));
		// pg_controldata's and pg_ctl's output is read by its English labels: translated (Debian ships their .mo
		// files), the restore would fail after hours, the replay's wait never see "in production"
		builder.environment().put("LC_ALL", "C");
		builder.environment().put("LANG", "C");
		Process process = CleanUpOnExit.start(builder);
		process.getOutputStream().close();
		CompletableFuture<String> output = BackgroundThreads.start(line.get(0) + " output", () -> read(process.getInputStream()));
		if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
			process.descendants().forEach(ProcessHandle::destroyForcibly);
			process.destroyForcibly();
			return new Ran(-1, "");
		}
		return new Ran(process.exitValue(), BackgroundThreads.joined(output));
	}

	/** A log's last lines, which say why a cluster did not start or reach its target. */
	static String lastLines(Path log) {
		try {
			List<String> lines = Files.readAllLines(log);
			return OneLine.of(String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size())));
		}
		catch (IOException ex) {
			return "no log";
		}
	}

	private static String errors(PgBackRest.Result result) {
		List<String> errors = result.errors();
		return OneLine.of(errors.isEmpty() ? "exit " + result.exitCode() : String.join("; ", errors));
	}

	private static String read(InputStream stream) throws IOException {
		return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
	}

}
