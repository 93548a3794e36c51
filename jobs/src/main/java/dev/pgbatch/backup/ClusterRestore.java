package dev.pgbatch.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.sql.DataSource;

import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.OwnThreads;

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

	static final String NO_SET = "no backup set of stanza %s ended before %s: take a physical backup"
			+ " (bin/etl run backup type=full) before the point in time to restore to";

	static final String STEP_FAILED = "%s failed: %s";

	static final String NOT_REMOVED = "the restored cluster %s could not be removed: %s";

	static final String ROOT_OWNER = "pgBackRest's configuration %s belongs to root: a restored cluster runs as that"
			+ " file's owner, and postgres refuses to run as root; give the file to the user who runs postgres";

	/** Restore and replay of a large database take hours; this bounds only one that hangs. */
	private static final Duration STEP_TIMEOUT = Duration.ofHours(12);

	private static final Duration STOP_TIMEOUT = Duration.ofMinutes(2);

	/**
	 * What a restored cluster starts with whatever the live cluster's configuration (copied with its data
	 * directory) says: its own data directory, no WAL archiving (never into the live cluster's repository), no
	 * logical replication workers (its subscriptions would move the publishers' slots on), no commands run at the
	 * end of recovery, and no wait for synchronous standbys that are the live cluster's.
	 */
	private static final String ISOLATED = " -c data_directory=%s -c archive_mode=off"
			+ " -c max_logical_replication_workers=0 -c recovery_end_command= -c archive_cleanup_command="
			+ " -c synchronous_standby_names= -c primary_conninfo= -c primary_slot_name=";

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

	ClusterRestore(PgBackRest pgBackRest, PhysicalBackups physical, PostgresTools tools, DataSource dataSource) {
		this.pgBackRest = pgBackRest;
		this.physical = physical;
		this.tools = tools;
		this.dataSource = dataSource;
	}

	/**
	 * Makes sure the WAL up to now is in the repository (pgBackRest's check switches to a new segment and waits for
	 * the old one to arrive), then chooses the newest set that ended before the target.
	 */
	String setFor(Target target) throws IOException, InterruptedException {
		PgBackRest.Result check = this.pgBackRest.run(STEP_TIMEOUT, "check");
		if (check.exitCode() != 0) {
			throw new IllegalStateException(STEP_FAILED.formatted("pgbackrest check", errors(check)));
		}
		return this.physical.info()
			.stream()
			.filter(set -> set.stopped().isBefore(target.before()))
			.reduce((older, newer) -> newer)
			.orElseThrow(() -> new IllegalStateException(NO_SET.formatted(this.pgBackRest.stanza(), target)))
			.label();
	}

	/**
	 * pgBackRest restores the set into {@code data} (made here, mode 0700; its parent must exist) and the tablespaces
	 * into {@code tablespaces}, with the target as recovery target, promoted when reached, and archive_mode off; the
	 * files then go to the configuration's owner.
	 */
	void restore(Path data, Path tablespaces, String set, Target target) throws IOException, InterruptedException {
		Files.createDirectory(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
		// what pgBackRest's configuration may say for restores is set aside: links restored as directories (a link
		// would point at the live cluster's pg_wal or configuration), every database, no recovery options of its own
		List<String> options = new ArrayList<>(List.of("--pg1-path=" + data, "--set=" + set,
				"--tablespace-map-all=" + tablespaces, "--no-link-all", "--reset-link-map", "--reset-db-include",
				"--reset-recovery-option", "--target-action=promote", "--archive-mode=off", "--log-level-console=error",
				"--log-level-stderr=off"));
		if (target.name() != null) {
			options.addAll(List.of("--type=name", "--target=" + target.name()));
		}
		else {
			options.addAll(List.of("--type=time", "--target=" + TARGET_TIME.format(target.time())));
		}
		PgBackRest.Result restored = this.pgBackRest.run(STEP_TIMEOUT, "restore", options.toArray(String[]::new));
		if (restored.exitCode() != 0) {
			throw new IllegalStateException(STEP_FAILED.formatted("pgbackrest restore", errors(restored)));
		}
		// a cluster whose configuration lives outside its data directory (Debian's /etc/postgresql) has none there
		Path conf = data.resolve("postgresql.conf");
		if (!Files.exists(conf)) {
			Files.writeString(conf, "");
		}
		String owner = owner();
		if (!owner.equals(System.getProperty("user.name"))) {
			UserPrincipal principal = data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(owner);
			for (Path top : List.of(data, tablespaces)) {
				if (Files.exists(top)) {
					try (Stream<Path> files = Files.walk(top)) {
						for (Path file : (Iterable<Path>) files::iterator) {
							// the link itself, never what it points at (lchown)
							Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
								.setOwner(principal);
						}
					}
				}
			}
		}
	}

	/**
	 * Starts the restored cluster with these options (postgres's -c settings) and its log in {@code log}, and waits
	 * until it has replayed to the target and been promoted (pg_control says "in production"), or ended.
	 */
	void start(Path data, Path log, String options) throws IOException, InterruptedException {
		Ran started = asOwner(STEP_TIMEOUT, tool("pg_ctl"), "-D", data.toString(), "-l", log.toString(), "-o",
				options + ISOLATED.formatted(data), "-w", "-t", Long.toString(STEP_TIMEOUT.toSeconds()), "start");
		if (started.exitCode() != 0) {
			throw new IllegalStateException(STEP_FAILED.formatted("the restored cluster's start", lastLines(log)));
		}
		long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
		while (!asOwner(STOP_TIMEOUT, tool("pg_controldata"), data.toString()).output()
			.contains("Database cluster state:               in production")) {
			if (!Files.exists(data.resolve("postmaster.pid"))) {
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
	 * Stops the cluster when it runs (immediate: it is thrown away) and removes the directory; what could not be done,
	 * or null. Its postmaster.pid is believed only when that process runs in this data directory: after a reboot the
	 * number may be another process's, the live cluster's postmaster among them.
	 */
	String remove(Path directory, Path data) {
		try {
			if (postmasterRunsIn(data)) {
				Ran stopped = asOwner(STOP_TIMEOUT, tool("pg_ctl"), "-D", data.toString(), "-m", "immediate", "-w", "stop");
				if (stopped.exitCode() != 0) {
					return NOT_REMOVED.formatted(directory, "pg_ctl stop: " + OneLine.of(stopped.output().strip()));
				}
			}
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
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return NOT_REMOVED.formatted(directory, "interrupted");
		}
	}

	/** Whether the process postmaster.pid names runs with this data directory as its working directory. */
	private static boolean postmasterRunsIn(Path data) throws IOException {
		Path pidFile = data.resolve("postmaster.pid");
		if (!Files.isRegularFile(pidFile, LinkOption.NOFOLLOW_LINKS)) {
			return false;
		}
		List<String> lines = Files.readAllLines(pidFile);
		if (lines.isEmpty() || !lines.get(0).strip().matches("[0-9]{1,10}")) {
			return false;
		}
		try {
			// the postmaster's working directory is its data directory
			return Files.readSymbolicLink(Path.of("/proc", lines.get(0).strip(), "cwd")).equals(data.toRealPath());
		}
		catch (IOException ex) {
			return false;
		}
	}

	/** Who runs the restored cluster's postgres: the owner of pgBackRest's configuration, never root. */
	String owner() {
		String owner = this.pgBackRest.owner();
		if (owner.equals("root")) {
			throw new IllegalStateException(ROOT_OWNER.formatted(this.pgBackRest.config()));
		}
		return owner;
	}

	/** The server's tool of that name (pg_ctl, pg_amcheck...), of the server's major version. */
	String tool(String name) {
		try (Connection connection = this.dataSource.getConnection()) {
			return this.tools.executable(name, PostgresTools.serverMajor(connection));
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the server's version: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Runs a PostgreSQL program as the owner, through runuser when this runs as someone else (root), with none of
	 * this JVM's settings and secrets, nor the libpq variables (PGUSER...) meant for the live cluster.
	 */
	Ran asOwner(Duration timeout, String... command) throws IOException, InterruptedException {
		List<String> line = new ArrayList<>();
		String owner = owner();
		if (!owner.equals(System.getProperty("user.name"))) {
			line.addAll(List.of("runuser", "-u", owner, "--"));
		}
		line.addAll(List.of(command));
		ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true);
		builder.environment().keySet().retainAll(List.of("PATH", "LANG", "LC_ALL", "TZ"));
		Process process = builder.start();
		process.getOutputStream().close();
		CompletableFuture<String> output = OwnThreads.start(command[0] + " output", () -> read(process.getInputStream()));
		if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
			process.descendants().forEach(ProcessHandle::destroyForcibly);
			process.destroyForcibly();
			return new Ran(-1, "");
		}
		return new Ran(process.exitValue(), OwnThreads.joined(output));
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
