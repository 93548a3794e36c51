package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

import javax.sql.DataSource;

import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.OwnConnections;
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
 * passed or not, and its cluster is stopped and removed whatever happened, a signal to this process included
 * ({@link CleanUpOnExit}); one left by a drill killed with SIGKILL is removed by the next. One drill at a time, and
 * none while a backup restore --to runs on the same server ({@link RestoreLock}).
 */
@Component
public class RestoreDrills {

	private static final Logger log = LoggerFactory.getLogger(RestoreDrills.class);

	static final String NO_POINT = "no restore point to drill to: make one with bin/etl backup point NAME (each"
			+ " physical backup and nightly makes one too)";

	static final String UNKNOWN_POINT = "restore point %s is not recorded in etl.restore_point";

	static final String COUNT_DIFFERS = "%s: %d rows at the point, %d restored";

	static final String TABLE_MISSING = "%s: counted at the point, not in the restored cluster";

	static final String TABLE_MORE = "%s: in the restored cluster, not counted at the point";

	/** Said at once when a signal stops a drill ({@link CleanUpOnExit}). */
	static final String REMOVING = "stopping its scratch cluster and removing %s";

	static final String CORRUPT = "pg_amcheck found corruption: %s";

	static final String UNSAFE_DIR = "ETL_PGBACKREST_DRILL_DIR: %s (drills remove what they find there)";

	/** The drill's name as its lock's holder (the lock's own name covers restore --to too). */
	static final String HOLDER = "backup drill";

	static final String BACKUP_RUNS = "a backup of stanza %s (a physical run of the backup job, or a pgBackRest backup)"
			+ " still runs after %d s (ETL_PGBACKREST_LOCK_WAIT): a drill now would not restore the set it makes; drill once"
			+ " it has ended";

	/**
	 * A scratch cluster's directory: drill-, the stanza, the cluster's system identifier, the database's oid and the
	 * drill's start in milliseconds; a drill removes the leftovers of its own cluster and database only (another
	 * runner's, of another cluster on this host, may be running).
	 */
	private static final String SCRATCH = "drill-%s-%s-%d-";

	/** The tools a drill runs on its scratch cluster, of the restored set's major version. */
	private static final List<String> DRILL_TOOLS = Stream.concat(ClusterRestore.RESTORE_TOOLS.stream(),
			Stream.of("pg_amcheck")).toList();

	/** pg_amcheck of a large database takes hours; this bounds only one that hangs. */
	private static final Duration AMCHECK_TIMEOUT = Duration.ofHours(12);

	/**
	 * A drill: its id in etl.restore_drill, what it restored (a point's name, or a time), whether row counts were
	 * compared (a point's; a time has none), how long each part took, and what failed.
	 */
	public record Drill(long id, String point, String set, boolean counted, double restoreSeconds, double replaySeconds,
			List<String> problems) {

		public boolean passed() {
			return this.problems.isEmpty();
		}

	}

	/** The point drilled to, as recorded: when it was made, and its counts by quoted table name (null: a time). */
	private record Target(String name, Instant createdAt, Map<String, Long> counts) {
	}

	private final DataSource dataSource;

	private final DataSourceProperties database;

	private final ExecutionLock lock;

	private final PgBackRest pgBackRest;

	private final ClusterRestore cluster;

	private final Path drills;

	private final BackupWait backupWait;

	RestoreDrills(DataSource dataSource, DataSourceProperties database, ExecutionLock lock, PgBackRest pgBackRest,
			ClusterRestore cluster, PgBackRestProperties properties, BackupWait backupWait) {
		this.backupWait = backupWait;
		this.dataSource = dataSource;
		this.database = database;
		this.lock = lock;
		this.pgBackRest = pgBackRest;
		this.cluster = cluster;
		// its real path: the clean-up stops and removes only a scratch directory still at the path it was made at
		this.drills = ClusterRestore.real(Path.of(properties.drillDir()));
	}

	/**
	 * Drills to restore point {@code pointName} (null: the newest), or to {@code time} when given: a time has no
	 * recorded counts, so that drill is pg_amcheck's only ({@link Drill#counted()} false). An unknown point, a time
	 * after the server's clock, a pgBackRest path restore_command cannot hold or a configuration owner the restored
	 * cluster cannot be run as ({@link ClusterRestore#preflight}) is a UsageException, with nothing
	 * written. Then a backup under way is waited for ({@link BackupWait}), before the drill takes its lock
	 * ({@link RestoreLock}: a restore --to at 3 a.m. is not refused for the length of someone else's backup; one that
	 * started before the lock was taken is waited for again, without it; a backup's retention holding the lock is
	 * waited for within the same wait, {@link RestoreLock#holdAfterRetention}); one that still runs after that fails the
	 * drill, recorded ({@link #BACKUP_RUNS}), as a retention still holding the lock does
	 * ({@link dev.pgbatch.core.ExecutionLock#OUT_WAITED}). Everything that fails after is one of the drill's problems. Null when {@code stop} said
	 * so during the wait (`etl stop`, the scheduler's shutdown): nothing was drilled or recorded.
	 */
	public Drill drill(String pointName, Instant time, BooleanSupplier stop) throws InterruptedException {
		this.cluster.preflight();
		if (time != null) {
			this.cluster.refuseFuture(time);
		}
		Target target = time != null ? new Target(time.toString(), time, null) : target(pointName);
		Instant deadline = this.backupWait.deadline();
		ExecutionLock.Held locked = null;
		while (locked == null) {
			BackupWait.Waited waited = awaitNoBackup(deadline, stop);
			if (waited == BackupWait.Waited.STOPPED) {
				log.info("restore drill to {}: asked to stop while it waited for a backup to end; nothing was drilled",
						target.name());
				return null;
			}
			if (waited == BackupWait.Waited.STILL_RUNS) {
				return failedForABackup(target);
			}
			try {
				locked = RestoreLock.holdAfterRetention(this.lock, HOLDER, deadline, stop);
			}
			catch (ExecutionLock.OutWaited ex) {
				return failed(target, ex.getMessage());
			}
			if (locked == null) {
				log.info("restore drill to {}: asked to stop while it waited for a backup's retention to end; nothing"
						+ " was drilled", target.name());
				return null;
			}
			// a backup that started between the wait and the lock: the drill would not restore the set it makes, and
			// is not to hold the lock while it waits for it again
			boolean again = true;
			try {
				again = backupRuns();
			}
			finally {
				if (again) {
					locked.close();
					locked = null;
				}
			}
		}
		try (ExecutionLock.Held held = locked) {
			if (time == null && pointName == null) {
				// the newest point again: a backup waited for makes its own point as it ends, and it is that set
				// the drill is for
				target = target(null);
			}
			Instant started = Instant.now();
			List<String> problems = new ArrayList<>();
			String set = null;
			double restoreSeconds = 0;
			double replaySeconds = 0;
			String prefix = SCRATCH.formatted(this.pgBackRest.stanza(), database("SELECT system_identifier::text FROM"
					+ " pg_control_system()"), databaseOid());
			Path scratch = this.drills.resolve(prefix + started.toEpochMilli());
			Supplier<String> removal = () -> this.cluster.remove(scratch, data(scratch));
			CleanUpOnExit onExit = new CleanUpOnExit("backup drill", scratch,
					() -> REMOVING.formatted(scratch), removal, () -> this.cluster.stop(data(scratch)));
			try {
				drillsDirectory();
				removeLeftovers(prefix);
				ClusterRestore.Target point = target.counts() == null ? ClusterRestore.Target.time(time)
						: ClusterRestore.Target.point(target.name(), target.createdAt());
				set = this.cluster.setFor(point, DRILL_TOOLS);
				long restoring = System.nanoTime();
				for (Path directory : List.of(scratch, data(scratch))) {
					Files.createDirectory(directory,
							PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
				}
				this.cluster.toOwner(scratch);
				int port = this.cluster.freePort();
				// the scratch cluster's own: what the live cluster's configuration (copied with its data directory)
				// says of its port and sockets is not for a throwaway cluster beside it (nor of its memory: the
				// restore's isolation)
				this.cluster.restore(data(scratch), scratch.resolve("tablespaces"), set, point,
						Map.of("port", Integer.toString(port), "listen_addresses", "127.0.0.1", "unix_socket_directories",
								scratch.toString()));
				restoreSeconds = seconds(restoring);
				long replaying = System.nanoTime();
				this.cluster.start(data(scratch), scratch.resolve("drill.log"), port);
				replaySeconds = seconds(replaying);
				if (target.counts() != null) {
					problems.addAll(compare(target.counts(), port));
				}
				problems.addAll(amcheck(scratch, port));
			}
			catch (IOException | RuntimeException ex) {
				problems.add(OneLine.of(ex.getMessage()));
			}
			finally {
				String left = onExit.run(removal);
				onExit.close();
				if (left != null) {
					problems.add(left);
				}
			}
			if (!held.check()) {
				problems.add(RestoreLock.lost(HOLDER));
			}
			long id = record(started, target.name(), set, restoreSeconds, replaySeconds, problems);
			log.info("restore drill {} to {} from {}: {}", id, target.name(), set,
					problems.isEmpty() ? "passed" : "failed: " + String.join("; ", problems));
			return new Drill(id, target.name(), set, target.counts() != null, restoreSeconds, replaySeconds, problems);
		}
	}

	/** A drill that a backup under way kept from running: recorded as failed, so that the drill gauges say so. */
	private Drill failedForABackup(Target target) {
		return failed(target, BACKUP_RUNS.formatted(this.pgBackRest.stanza(), this.backupWait.bound().toSeconds()));
	}

	/** A drill that never ran ({@code problem}: what kept it from running), recorded as failed. */
	private Drill failed(Target target, String problem) {
		// a weekly drill that never runs is a failed one
		List<String> problems = List.of(problem);
		long id = record(Instant.now(), target.name(), null, 0, 0, problems);
		log.warn("restore drill {} to {}: failed: {}", id, target.name(), problems.get(0));
		return new Drill(id, target.name(), null, target.counts() != null, 0, 0, problems);
	}

	/** How the wait for a backup under way ended ({@link BackupWait}). */
	private BackupWait.Waited awaitNoBackup(Instant deadline, BooleanSupplier stop) throws InterruptedException {
		try {
			return this.backupWait.awaitNoBackup(HOLDER, deadline, stop);
		}
		catch (IOException | RuntimeException ex) {
			// info cannot be read (a wrong cipher passphrase): the drill meets the same failure, and records it
			return BackupWait.Waited.NONE_RUNS;
		}
	}

	/** Whether a backup runs now (one that cannot be asked about: as above, the drill meets that failure). */
	private boolean backupRuns() throws InterruptedException {
		try {
			return this.backupWait.running();
		}
		catch (IOException | RuntimeException ex) {
			return false;
		}
	}

	/**
	 * ETL_PGBACKREST_DRILL_DIR, made (mode 0700, the owner's) when missing; one that is there must be a directory,
	 * not a link, the owner's or this user's, that no other user may write, apart from the live cluster's places
	 * ({@link ClusterRestore#unsafe}): drills remove what they find in it and start and stop clusters there, and a
	 * directory another user made first (/var/tmp is everybody's) could point them at anything.
	 */
	private void drillsDirectory() throws IOException, InterruptedException {
		String problem = this.cluster.unsafe(this.drills, ClusterRestore.Use.DRILLS, this.cluster.livePlaces());
		if (problem != null) {
			throw new IllegalStateException(UNSAFE_DIR.formatted(problem));
		}
		if (!Files.exists(this.drills, LinkOption.NOFOLLOW_LINKS)) {
			Files.createDirectory(this.drills,
					PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
			this.cluster.toOwner(this.drills);
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
			return List.of(ClusterRestore.STEP_FAILED.formatted("counting the restored tables", OneLine.of(ex.getMessage())));
		}
	}

	/**
	 * pg_amcheck on the database, as the owner through the scratch cluster's socket (the superuser of its name, as
	 * initdb makes it for the OS user that runs postgres: amcheck's
	 * functions are a superuser's, and its extension is installed in the scratch cluster only).
	 */
	private List<String> amcheck(Path scratch, int port) throws IOException, InterruptedException {
		ClusterRestore.Ran checked = this.cluster.asOwner(AMCHECK_TIMEOUT, this.cluster.tool("pg_amcheck", data(scratch)), "-h",
				scratch.toString(), "-p", Integer.toString(port), "-U", this.cluster.owner(), "--install-missing",
				databaseName());
		if (checked.exitCode() == 0) {
			return List.of();
		}
		String found = checked.output().lines().map(String::strip).filter(line -> !line.isEmpty()).limit(5)
			.reduce((a, b) -> a + "; " + b).orElse("exit " + checked.exitCode());
		return List.of(checked.exitCode() == 2 ? CORRUPT.formatted(OneLine.of(found))
				: ClusterRestore.STEP_FAILED.formatted("pg_amcheck", OneLine.of(found)));
	}

	/** The scratch clusters of drills that were killed: stopped and removed. */
	private void removeLeftovers(String prefix) throws IOException {
		if (!Files.isDirectory(this.drills)) {
			return;
		}
		List<Path> left;
		try (Stream<Path> listed = Files.list(this.drills)) {
			left = listed.filter(path -> path.getFileName().toString().startsWith(prefix)).toList();
		}
		for (Path scratch : left) {
			log.warn("removing the scratch cluster {} of a drill that did not end", scratch);
			String problem = this.cluster.remove(scratch, data(scratch));
			if (problem != null) {
				throw new IllegalStateException(problem);
			}
		}
	}

	/** Records a drill; etl.restore_drill.counted is the server's, from the target (V25). */
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

	/** The scratch cluster's data directory (its tablespaces are beside it, its socket and log above it). */
	private static Path data(Path scratch) {
		return scratch.resolve("data");
	}

	private static double seconds(long since) {
		return Math.round((System.nanoTime() - since) / 1e7) / 100.0;
	}

}
