package dev.pgbatch.backup;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.sql.DataSource;

import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.OwnConnections;
import dev.pgbatch.core.OwnThreads;
import dev.pgbatch.core.UsageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.stereotype.Component;

/**
 * bin/etl backup drill: shows that a restore point can be restored. pgBackRest restores the newest set that ended
 * before the point into a scratch data directory under ETL_PGBACKREST_DRILL_DIR; a throwaway postgres starts there
 * on a free loopback port with archiving off (it must never push into the repository it came from), replays the WAL
 * up to the point and is promoted. Then every managed table's row count must equal what the point recorded, and
 * pg_amcheck must find no corruption in its tables and btree indexes. Each drill is recorded in etl.restore_drill,
 * passed or not, and its cluster is stopped and removed whatever happened; one left by a killed drill is removed by
 * the next. One drill at a time (a lock of its own).
 */
@Component
public class RestoreDrills {

	private static final Logger log = LoggerFactory.getLogger(RestoreDrills.class);

	static final String NO_POINT = "no restore point to drill to: make one with bin/etl backup point NAME (each"
			+ " physical backup and nightly makes one too)";

	static final String UNKNOWN_POINT = "restore point %s is not recorded in etl.restore_point";

	static final String NO_SET = "no backup set of stanza %s ended before restore point %s (%s): take a physical"
			+ " backup (bin/etl run backup type=full), then a point after it";

	static final String COUNT_DIFFERS = "%s: %d rows at the point, %d restored";

	static final String TABLE_MISSING = "%s: counted at the point, not in the restored cluster";

	static final String TABLE_MORE = "%s: in the restored cluster, not counted at the point";

	static final String CORRUPT = "pg_amcheck found corruption: %s";

	static final String STEP_FAILED = "%s failed: %s";

	private static final String LOCK = "backup drill";

	/**
	 * A scratch cluster's directory: drill-, the stanza, the database's oid and the drill's start in milliseconds; a
	 * drill removes the leftovers of its own stanza and database only (another runner's may be running).
	 */
	private static final String SCRATCH = "drill-%s-%d-";

	/** Restore, replay and pg_amcheck of a large database take hours; this bounds only one that hangs. */
	private static final Duration STEP_TIMEOUT = Duration.ofHours(12);

	private static final Duration STOP_TIMEOUT = Duration.ofMinutes(2);

	/** A drill: its id in etl.restore_drill, what it restored, how long each part took, and what failed. */
	public record Drill(long id, String point, String set, double restoreSeconds, double replaySeconds,
			List<String> problems) {

		public boolean passed() {
			return this.problems.isEmpty();
		}

	}

	/** The point drilled to, as recorded: when it was made, and its counts by quoted table name. */
	private record Target(String name, Instant createdAt, Map<String, Long> counts) {
	}

	/** What a command printed (stdout and stderr together), and its exit code (-1: it did not end in time). */
	private record Ran(int exitCode, String output) {
	}

	private final DataSource dataSource;

	private final DataSourceProperties database;

	private final ExecutionLock lock;

	private final PgBackRest pgBackRest;

	private final PhysicalBackups physical;

	private final PostgresTools tools;

	private final Path drills;

	/** The server's major version, whose pg_ctl and pg_amcheck run the scratch cluster (read at each drill). */
	private int major;

	RestoreDrills(DataSource dataSource, DataSourceProperties database, ExecutionLock lock, PgBackRest pgBackRest,
			PhysicalBackups physical, PostgresTools tools, PgBackRestProperties properties) {
		this.dataSource = dataSource;
		this.database = database;
		this.lock = lock;
		this.pgBackRest = pgBackRest;
		this.physical = physical;
		this.tools = tools;
		this.drills = Path.of(properties.drillDir());
	}

	/**
	 * Drills to restore point {@code pointName} (null: the newest). An unknown point is a UsageException, with nothing
	 * written; everything that fails after is one of the drill's problems.
	 */
	public Drill drill(String pointName) throws InterruptedException {
		try (ExecutionLock.Held held = this.lock.acquire(LOCK)) {
			Target target = target(pointName);
			this.major = serverMajor();
			Instant started = Instant.now();
			List<String> problems = new ArrayList<>();
			String set = null;
			double restoreSeconds = 0;
			double replaySeconds = 0;
			String prefix = SCRATCH.formatted(this.pgBackRest.stanza(), databaseOid());
			Path scratch = this.drills.resolve(prefix + started.toEpochMilli());
			try {
				removeLeftovers(prefix);
				// the point's WAL segment may not be archived yet: pgBackRest's check switches to a new one and
				// waits for the old to reach the repository
				PgBackRest.Result check = this.pgBackRest.run(STEP_TIMEOUT, "check");
				if (check.exitCode() != 0) {
					throw new IllegalStateException(STEP_FAILED.formatted("pgbackrest check", errors(check)));
				}
				set = this.physical.info()
					.stream()
					.filter(candidate -> candidate.stopped().isBefore(target.createdAt()))
					.reduce((older, newer) -> newer)
					.orElseThrow(() -> new IllegalStateException(
							NO_SET.formatted(this.pgBackRest.stanza(), target.name(), target.createdAt())))
					.label();
				long restoring = System.nanoTime();
				restore(scratch, set, target.name());
				restoreSeconds = seconds(restoring);
				int port = freePort();
				long replaying = System.nanoTime();
				start(scratch, port);
				replaySeconds = seconds(replaying);
				problems.addAll(compare(target.counts(), port));
				problems.addAll(amcheck(scratch, port));
			}
			catch (IOException | RuntimeException ex) {
				problems.add(OneLine.of(ex.getMessage()));
			}
			finally {
				remove(scratch);
			}
			long id = record(started, target.name(), set, restoreSeconds, replaySeconds, problems);
			log.info("restore drill {} to {} from {}: {}", id, target.name(), set,
					problems.isEmpty() ? "passed" : "failed: " + String.join("; ", problems));
			return new Drill(id, target.name(), set, restoreSeconds, replaySeconds, problems);
		}
	}

	private Target target(String pointName) {
		try (Connection connection = this.dataSource.getConnection();
				PreparedStatement point = connection.prepareStatement(pointName == null
						? "SELECT name, created_at FROM etl.restore_point ORDER BY created_at DESC, name LIMIT 1"
						: "SELECT name, created_at FROM etl.restore_point WHERE name = ?")) {
			if (pointName != null) {
				point.setString(1, pointName);
			}
			String name;
			Instant createdAt;
			try (ResultSet rs = point.executeQuery()) {
				if (!rs.next()) {
					throw new UsageException(pointName == null ? NO_POINT : UNKNOWN_POINT.formatted(OneLine.of(pointName)));
				}
				name = rs.getString(1);
				createdAt = rs.getTimestamp(2).toInstant();
			}
			Map<String, Long> counts = new LinkedHashMap<>();
			try (PreparedStatement count = connection.prepareStatement(
					"SELECT table_name, row_count FROM etl.restore_point_count WHERE point = ? ORDER BY table_name")) {
				count.setString(1, name);
				try (ResultSet rs = count.executeQuery()) {
					while (rs.next()) {
						counts.put(rs.getString(1), rs.getLong(2));
					}
				}
			}
			return new Target(name, createdAt, counts);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read etl.restore_point: " + ex.getMessage(), ex);
		}
	}

	/**
	 * pgBackRest restores the set into the scratch directory with a recovery target of the point, promoted when it
	 * is reached, and archive_mode off; as root, the files then go to the configuration's owner, who runs postgres.
	 */
	private void restore(Path scratch, String set, String point) throws IOException, InterruptedException {
		Files.createDirectories(this.drills);
		Files.createDirectory(scratch, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
		Files.createDirectory(scratch.resolve("data"),
				PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
		PgBackRest.Result restored = this.pgBackRest.run(STEP_TIMEOUT, "restore", "--pg1-path=" + data(scratch),
				"--set=" + set,
				// the cluster's tablespaces into the scratch directory too (beside its data directory, as they must
				// be), never onto the live cluster's own
				"--tablespace-map-all=" + scratch.resolve("tablespaces"), "--type=name", "--target=" + point,
				"--target-action=promote", "--archive-mode=off",
				"--log-level-console=error", "--log-level-stderr=off");
		if (restored.exitCode() != 0) {
			throw new IllegalStateException(STEP_FAILED.formatted("pgbackrest restore", errors(restored)));
		}
		// a cluster whose configuration lives outside its data directory (Debian's /etc/postgresql) has none there
		Path conf = data(scratch).resolve("postgresql.conf");
		if (!Files.exists(conf)) {
			Files.writeString(conf, "");
		}
		String owner = this.pgBackRest.owner();
		if (!owner.equals(System.getProperty("user.name"))) {
			UserPrincipal principal = scratch.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(owner);
			Files.setOwner(this.drills, principal);
			try (Stream<Path> files = Files.walk(scratch)) {
				for (Path file : (Iterable<Path>) files::iterator) {
					Files.setOwner(file, principal);
				}
			}
		}
	}

	/**
	 * Starts the scratch cluster on the loopback port, its socket in its own directory, archiving off, and waits until
	 * it has replayed to the point and been promoted (or ended, when the point was not reached).
	 */
	private void start(Path scratch, int port) throws IOException, InterruptedException {
		// what the live cluster's configuration (copied with its data directory) may point at the live cluster's
		// own files or memory is set for the scratch one: its pid file, its log, its shared memory
		String options = "-c port=" + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + scratch
				+ " -c archive_mode=off -c hot_standby=on -c external_pid_file=" + scratch.resolve("external.pid")
				+ " -c logging_collector=off -c shared_buffers=128MB -c huge_pages=off";
		Ran started = asOwner(STEP_TIMEOUT, this.tools.executable("pg_ctl", this.major), "-D", data(scratch).toString(), "-l",
				scratch.resolve("drill.log").toString(), "-o", options, "-w", "-t", Long.toString(STEP_TIMEOUT.toSeconds()),
				"start");
		if (started.exitCode() != 0) {
			throw new IllegalStateException(STEP_FAILED.formatted("the scratch cluster's start", lastLines(scratch)));
		}
		long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
		while (true) {
			try (Connection connection = scratchConnection(port);
					ResultSet rs = connection.createStatement().executeQuery("SELECT pg_is_in_recovery()")) {
				rs.next();
				if (!rs.getBoolean(1)) {
					return;
				}
			}
			catch (SQLException ex) {
				if (!Files.exists(data(scratch).resolve("postmaster.pid"))) {
					throw new IllegalStateException(STEP_FAILED.formatted("the replay to the point", lastLines(scratch)), ex);
				}
			}
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException(STEP_FAILED.formatted("the replay to the point", "not promoted within "
						+ STEP_TIMEOUT.toHours() + " h"));
			}
			Thread.sleep(200);
		}
	}

	/** Each managed table's rows in the scratch cluster against the point's counts. */
	private List<String> compare(Map<String, Long> recorded, int port) {
		try (Connection connection = scratchConnection(port); Statement statement = connection.createStatement()) {
			Map<String, Long> restored = RestorePoints.counts(statement, RestorePoints.managedTables(statement));
			List<String> problems = new ArrayList<>();
			for (String table : new TreeSet<>(recorded.keySet())) {
				Long rows = restored.get(table);
				if (rows == null) {
					problems.add(TABLE_MISSING.formatted(OneLine.of(table)));
				}
				else if (!rows.equals(recorded.get(table))) {
					problems.add(COUNT_DIFFERS.formatted(OneLine.of(table), recorded.get(table), rows));
				}
			}
			restored.keySet()
				.stream()
				.filter(table -> !recorded.containsKey(table))
				.sorted()
				.forEach(table -> problems.add(TABLE_MORE.formatted(OneLine.of(table))));
			return problems;
		}
		catch (SQLException ex) {
			return List.of(STEP_FAILED.formatted("counting the restored tables", OneLine.of(ex.getMessage())));
		}
	}

	/**
	 * pg_amcheck on the database, as the owner through the scratch cluster's socket (the superuser of its name, as
	 * initdb makes it for the OS user that runs postgres: amcheck's
	 * functions are a superuser's, and its extension is installed in the scratch cluster only).
	 */
	private List<String> amcheck(Path scratch, int port) throws IOException, InterruptedException {
		Ran checked = asOwner(STEP_TIMEOUT, this.tools.executable("pg_amcheck", this.major), "-h", scratch.toString(), "-p",
				Integer.toString(port), "-U", this.pgBackRest.owner(), "--install-missing", databaseName());
		if (checked.exitCode() == 0) {
			return List.of();
		}
		String found = checked.output().lines().map(String::strip).filter(line -> !line.isEmpty()).limit(5)
			.reduce((a, b) -> a + "; " + b).orElse("exit " + checked.exitCode());
		return List.of(checked.exitCode() == 2 ? CORRUPT.formatted(OneLine.of(found))
				: STEP_FAILED.formatted("pg_amcheck", OneLine.of(found)));
	}

	/** The scratch clusters of drills that were killed: stopped and removed. */
	private void removeLeftovers(String prefix) throws IOException, InterruptedException {
		if (!Files.isDirectory(this.drills)) {
			return;
		}
		List<Path> left;
		try (Stream<Path> listed = Files.list(this.drills)) {
			left = listed.filter(path -> path.getFileName().toString().startsWith(prefix)).toList();
		}
		for (Path scratch : left) {
			log.warn("removing the scratch cluster {} of a drill that did not end", scratch);
			remove(scratch);
		}
	}

	/** Stops the scratch cluster when it runs, and removes its directory; what fails is logged, not thrown. */
	private void remove(Path scratch) throws InterruptedException {
		try {
			if (Files.exists(data(scratch).resolve("postmaster.pid"))) {
				asOwner(STOP_TIMEOUT, this.tools.executable("pg_ctl", this.major), "-D", data(scratch).toString(), "-m",
						"immediate", "-w",
						"stop");
			}
			if (Files.exists(scratch)) {
				try (Stream<Path> files = Files.walk(scratch)) {
					for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
						Files.delete(file);
					}
				}
			}
		}
		catch (IOException ex) {
			log.error("could not remove the drill's scratch cluster {}: {}", scratch, ex.getMessage());
		}
	}

	private long record(Instant started, String point, String set, double restoreSeconds, double replaySeconds,
			List<String> problems) {
		try (Connection connection = this.dataSource.getConnection();
				PreparedStatement insert = connection.prepareStatement("""
						INSERT INTO etl.restore_drill (started_at, target, backup_label, restore_seconds, replay_seconds,
						                               passed, problems)
						VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""")) {
			insert.setTimestamp(1, java.sql.Timestamp.from(started));
			insert.setString(2, point);
			insert.setString(3, set);
			insert.setDouble(4, restoreSeconds);
			insert.setDouble(5, replaySeconds);
			insert.setBoolean(6, problems.isEmpty());
			insert.setString(7, String.join("\n", problems));
			try (ResultSet rs = insert.executeQuery()) {
				rs.next();
				return rs.getLong(1);
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot record the drill in etl.restore_drill: " + ex.getMessage(), ex);
		}
	}

	/** The runner's database on the scratch cluster, as the runner (its role and password came with the restore). */
	private Connection scratchConnection(int port) throws SQLException {
		return OwnConnections.openOn(this.database, "127.0.0.1:" + port, Map.of("connectTimeout", "10"));
	}

	private int serverMajor() {
		try (Connection connection = this.dataSource.getConnection()) {
			return PostgresTools.serverMajor(connection);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the server's version: " + ex.getMessage(), ex);
		}
	}

	private String databaseName() {
		return String.valueOf(database("SELECT current_database()"));
	}

	private long databaseOid() {
		return ((Number) database("SELECT oid FROM pg_database WHERE datname = current_database()")).longValue();
	}

	private Object database(String query) {
		try (Connection connection = this.dataSource.getConnection();
				ResultSet rs = connection.createStatement().executeQuery(query)) {
			rs.next();
			return rs.getObject(1);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the database's name: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Runs a PostgreSQL program as the owner of pgBackRest's configuration (postgres refuses to run as root; the
	 * restored files are the owner's), through runuser when this runs as root.
	 */
	private Ran asOwner(Duration timeout, String... command) throws IOException, InterruptedException {
		List<String> line = new ArrayList<>();
		String owner = this.pgBackRest.owner();
		if (!owner.equals(System.getProperty("user.name"))) {
			line.addAll(List.of("runuser", "-u", owner, "--"));
		}
		line.addAll(List.of(command));
		ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true);
		// none of this JVM's settings and secrets, nor the libpq variables (PGUSER...) meant for the live cluster
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

	/** The scratch cluster's data directory (its tablespaces are beside it, its socket and log above it). */
	private static Path data(Path scratch) {
		return scratch.resolve("data");
	}

	/** The scratch cluster's last log lines, which say why it did not start or reach the point. */
	private static String lastLines(Path scratch) {
		try {
			List<String> lines = Files.readAllLines(scratch.resolve("drill.log"));
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

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	private static double seconds(long since) {
		return Math.round((System.nanoTime() - since) / 1e7) / 100.0;
	}

	private static String read(InputStream stream) throws IOException {
		return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
	}

}
