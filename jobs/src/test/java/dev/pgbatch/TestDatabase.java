package dev.pgbatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import dev.pgbatch.core.Databases;
import org.flywaydb.core.Flyway;

import org.springframework.test.context.DynamicPropertyRegistry;

import static org.awaitility.Awaitility.await;

/**
 * The databases the tests use, on the server of ETL_DB_URL (the stack's by default), so a developer's own pgbatch
 * database is never touched. Each integration test class gets a database of its own (see {@link ClassDatabase}),
 * cloned from a template that is migrated once per suite run: no class sees what another left, in any order, and
 * classes may run at once. Names start with ETL_TEST_DB (pgbatch_test), so two working copies on one server keep apart.
 */
public final class TestDatabase {

	/** The start of every database name the tests make (class databases, the template, scratch databases). */
	public static final String PREFIX = System.getenv().getOrDefault("ETL_TEST_DB", "pgbatch_test");

	private static final String TEMPLATE = PREFIX + "_template";

	private static final String CLASS_PREFIX = PREFIX + "_class_";

	/**
	 * The suite run the template belongs to: the Maven build's (failsafe passes it to every fork), else this JVM's
	 * (a run from an IDE). A template of another run is made again, and that run's leftover databases dropped.
	 */
	private static final String RUN = System.getProperty("pgbatch.test.run",
			"jvm " + ProcessHandle.current().pid() + " " + ProcessHandle.current().info().startInstant().orElseThrow());

	private static boolean templateChecked;

	/** The running test class's database name, and whether it has been created yet (it is made on first use). */
	private static String current;

	private static boolean currentCreated;

	/** The copies made of the running class's database ({@link #snapshot}), dropped with it. */
	private static final List<String> snapshots = new ArrayList<>();

	/** The copies {@link #madeOnce} keeps, by label, or why the first try to make one failed. */
	private static final Map<String, String> madeOnce = new HashMap<>();

	private static final String FAILED = "not made: ";

	private TestDatabase() {
	}

	public static String serverUrl(String database) {
		String base = System.getenv().getOrDefault("ETL_DB_URL", "jdbc:postgresql://127.0.0.1:55432/pgbatch");
		int slash = base.lastIndexOf('/');
		int query = base.indexOf('?', slash);
		return base.substring(0, slash + 1) + database + (query < 0 ? "" : base.substring(query));
	}

	/** The running test class's own database, cloned from the template on first use. */
	public static synchronized String name() {
		if (current == null) {
			throw new IllegalStateException("no test class is running: TestDatabase serves *IntegrationTests classes"
					+ " (ClassDatabase, registered in junit-platform.properties, names their database)");
		}
		if (!currentCreated) {
			clone(current);
			currentCreated = true;
		}
		return current;
	}

	public static String url() {
		return serverUrl(name());
	}

	public static Connection connect() throws SQLException {
		return connect(name());
	}

	public static Connection connect(String database) throws SQLException {
		return DriverManager.getConnection(serverUrl(database), user(), password());
	}

	public static void register(DynamicPropertyRegistry registry) {
		registry.add("spring.datasource.url", TestDatabase::url);
	}

	/** The environment of a bin/etl process aimed at the test class's database. */
	public static Map<String, String> processEnvironment() {
		Map<String, String> environment = new HashMap<>(System.getenv());
		environment.put("ETL_DB_URL", url());
		return environment;
	}

	/**
	 * The sessions of the current database that hold pgbatch's advisory lock {@code name} in {@code space}
	 * (pgbatch.job, pgbatch.shared: core/ExecutionLock), as a test that ends them finds them.
	 */
	public static List<Integer> advisoryLockHolders(org.springframework.jdbc.core.JdbcTemplate jdbc, String space,
			String name) {
		return jdbc.queryForList("""
				SELECT l.pid FROM pg_locks l
				WHERE l.locktype = 'advisory' AND l.granted AND l.classid = hashtext(?)::oid
				  AND l.objid = hashtext(?)::oid AND l.objsubid = 2
				  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
				""", Integer.class, space, name);
	}

	/** An empty database with pgvector, not migrated. */
	public static void createDatabase(String database) throws SQLException {
		withTemplateLock(statement -> statement.execute("CREATE DATABASE " + database));
		addVector(database);
	}

	public static void dropDatabase(String database) throws SQLException {
		try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
			Databases.drop(statement, database);
		}
	}

	/** Applies the project's migrations to a database, as bin/etl does when it starts. */
	public static void migrate(String database) {
		Flyway.configure()
			.dataSource(serverUrl(database), user(), password())
			.locations("classpath:db/migration")
			.schemas("etl")
			.createSchemas(true)
			.load()
			.migrate();
	}

	/**
	 * Called as a test class starts: its database is named now and made when first used. "_class_" keeps the
	 * name apart from the scratch databases tests name PREFIX_something.
	 */
	static synchronized void enter(Class<?> testClass) {
		String simple = testClass.getSimpleName().replaceFirst("IntegrationTests$", "").toLowerCase(Locale.ROOT);
		current = CLASS_PREFIX + simple.substring(0, Math.min(simple.length(), 63 - CLASS_PREFIX.length()));
		currentCreated = false;
	}

	/**
	 * A copy of the running class's database as it is now, for later tests of the class to start from
	 * ({@link #replaceWith}): CREATE DATABASE ... TEMPLATE copies it in a second or two, where making the same rows
	 * again takes a seed run. The class's own sessions must have ended (PostgreSQL copies no database in use); a few
	 * moments are allowed for those just closed. Dropped with the class's database.
	 */
	public static synchronized String snapshot(String label) throws SQLException {
		String database = name();
		// "_copy_" keeps it apart from every class's database, whatever the truncation
		String copy = PREFIX + "_copy_" + label + "_" + database.substring(CLASS_PREFIX.length());
		copy = copy.substring(0, Math.min(copy.length(), 63));
		try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
			Databases.drop(statement, copy);
			whileInUse(statement, "CREATE DATABASE " + copy + " TEMPLATE " + database);
		}
		snapshots.add(copy);
		return copy;
	}

	/**
	 * The running class's database made again from a {@link #snapshot}: the state the snapshot was taken in. A session
	 * still on the database after a few seconds (a connection a test left open, a job's thread or process that runs
	 * on) fails it, named: dropped silently, it would run on against the copy.
	 */
	public static synchronized void replaceWith(String snapshot) throws SQLException {
		String database = name();
		try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
			List<String> sessions = new ArrayList<>();
			try {
				await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
					sessions.clear();
					try (ResultSet rows = statement.executeQuery("SELECT application_name || ' [' || pid || ']: '"
							+ " || left(query, 60) FROM pg_stat_activity WHERE datname = '" + database + "'"
							// autovacuum's workers are the server's: the drop ends them, and nothing runs on
							+ " AND backend_type = 'client backend'")) {
						while (rows.next()) {
							sessions.add(rows.getString(1));
						}
					}
					return sessions.isEmpty();
				});
			}
			catch (org.awaitility.core.ConditionTimeoutException ex) {
				throw new IllegalStateException("cannot replace " + database + ": sessions still on it " + sessions);
			}
			Databases.drop(statement, database);
			whileInUse(statement, "CREATE DATABASE " + database + " TEMPLATE " + snapshot);
		}
	}

	/**
	 * {@link #snapshot} for a class with an application context: its pool (made with
	 * spring.datasource.hikari.allow-pool-suspension, as {@link DatabaseIntegrationTest} makes it) lets go of its
	 * connections while the copy is made, and makes none meanwhile.
	 */
	public static String snapshot(String label, DataSource pool) throws SQLException {
		return withoutConnections(pool, () -> snapshot(label));
	}

	/** {@link #replaceWith} for a class with an application context, as {@link #snapshot(String, DataSource)}. */
	public static void replaceWith(String snapshot, DataSource pool) throws SQLException {
		withoutConnections(pool, () -> {
			replaceWith(snapshot);
			return snapshot;
		});
	}

	/**
	 * The running class's database as {@code make} leaves it, for each test that asks: the first runs it and keeps a
	 * copy, the next get the copy back in a second or two instead of running it again (a seed run, say). {@code pool}
	 * is the class's application context's, as for {@link #snapshot(String, DataSource)}: while the database is
	 * copied or replaced, the context's calls for a connection wait. When the first try fails, the later ones fail
	 * the same way, not by running {@code make} on a database a test has changed since.
	 */
	public static void madeOnce(String label, DataSource pool, Runnable make) throws SQLException {
		String copy;
		synchronized (TestDatabase.class) {
			copy = madeOnce.get(label);
		}
		if (copy == null) {
			try {
				make.run();
				copy = snapshot(label, pool);
			}
			catch (SQLException | RuntimeException | Error ex) {
				copy = FAILED + ex;
				throw ex;
			}
			finally {
				synchronized (TestDatabase.class) {
					madeOnce.put(label, copy);
				}
			}
			return;
		}
		if (copy.startsWith(FAILED)) {
			throw new IllegalStateException("the class's database as '" + label + "' has it: " + copy);
		}
		replaceWith(copy, pool);
	}

	/**
	 * {@link #madeOnce} across the suite run: the first class, in any fork, that asks for {@code label} runs
	 * {@code make} on its database and keeps a copy for the run (PREFIX_run_label, marked with the run as the
	 * template is); the later ones get that copy in a second or two instead of running {@code make} (a seed at a
	 * large scale, say). One asking while another makes it waits for its copy. The label names what the copy holds:
	 * every class that asks for it must make it the same way. The next run drops it with the other leftovers.
	 */
	public static void madeOncePerRun(String label, DataSource pool, Runnable make) throws SQLException {
		String copy = PREFIX + "_run_" + label;
		if (copy.length() > 63) {
			throw new IllegalArgumentException("too long for a database name: " + copy);
		}
		String database = name();
		try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
			statement.execute("SELECT pg_advisory_lock(hashtext('pgbatch.tests.run " + label + "'))");
			try {
				if (RUN.equals(comment(statement, copy))) {
					replaceWith(copy, pool);
					newArchiveId(database);
					return;
				}
				make.run();
				withoutConnections(pool, () -> {
					Databases.drop(statement, copy);
					whileInUse(statement, "CREATE DATABASE " + copy + " TEMPLATE " + database);
					statement.execute("COMMENT ON DATABASE " + copy + " IS '" + RUN.replace("'", "''") + "'");
					return copy;
				});
			}
			finally {
				statement.execute("SELECT pg_advisory_unlock(hashtext('pgbatch.tests.run " + label + "'))");
			}
		}
	}

	private static String withoutConnections(DataSource pool, SqlCall work) throws SQLException {
		HikariDataSource hikari = (HikariDataSource) pool;
		if (!hikari.isAllowPoolSuspension()) {
			throw new IllegalStateException("the class's pool needs spring.datasource.hikari.allow-pool-suspension=true");
		}
		HikariPoolMXBean connections = hikari.getHikariPoolMXBean();
		connections.suspendPool();
		try {
			// evicted on every poll: a connection whose login was under way as the pool was suspended joins it after
			await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
				.alias("the pool lets go of its connections (" + connections.getActiveConnections() + " in use)")
				.until(() -> {
					connections.softEvictConnections();
					return connections.getTotalConnections() == 0;
				});
			// and while the work runs: a login under way when the pool's last connection went can still join it after
			// that look, and stay idle on the database (replaceWith then fails naming it, a copy waits for it)
			ScheduledExecutorService evictor = Executors.newSingleThreadScheduledExecutor();
			evictor.scheduleWithFixedDelay(connections::softEvictConnections, 20, 20, TimeUnit.MILLISECONDS);
			try {
				return work.call();
			}
			finally {
				evictor.shutdownNow();
			}
		}
		finally {
			connections.resumePool();
		}
	}

	/** Runs a CREATE DATABASE again for a few seconds while its template is in use (object_in_use). */
	private static void whileInUse(Statement statement, String sql) {
		await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
			.ignoreExceptionsMatching(ex -> ex instanceof SQLException state && "55006".equals(state.getSQLState()))
			.until(() -> {
				statement.execute(sql);
				return true;
			});
	}

	/** Called as a test class ends, after its application context is closed: its database is dropped. */
	static synchronized void leave() throws SQLException {
		if (currentCreated) {
			dropDatabase(current);
		}
		for (String snapshot : snapshots) {
			dropDatabase(snapshot);
		}
		snapshots.clear();
		madeOnce.clear();
		current = null;
		currentCreated = false;
	}

	private static void clone(String database) {
		try {
			withTemplateLock(statement -> {
				statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
				statement.execute("CREATE DATABASE " + database + " TEMPLATE " + TEMPLATE);
			});
			newArchiveId(database);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot make the test database " + database
					+ " (is the stack up? bin/stack up): " + ex.getMessage(), ex);
		}
	}

	/** An installation of its own, as separate databases are (V18): not the archive id of the one it was copied from. */
	private static void newArchiveId(String database) throws SQLException {
		try (Connection connection = connect(database); Statement statement = connection.createStatement()) {
			statement.execute("UPDATE ops.archive_installation SET archive_id = gen_random_uuid()");
		}
	}

	/** A database's comment (the run that made it), or null when there is no such database. */
	private static String comment(Statement statement, String database) throws SQLException {
		try (ResultSet row = statement.executeQuery(
				"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '" + database + "'")) {
			return row.next() ? row.getString(1) : null;
		}
	}

	/**
	 * Runs a statement on the server while holding the lock that the forks of a run share: a template must have no
	 * other session while it is cloned. The first database a fork makes makes the run's template first, so what
	 * this run makes is never taken for an earlier run's leftover.
	 */
	private static synchronized void withTemplateLock(SqlAction action) throws SQLException {
		try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
			statement.execute("SELECT pg_advisory_lock(hashtext('pgbatch.tests.template'))");
			try {
				if (!templateChecked) {
					makeTemplateOfThisRun(statement);
					templateChecked = true;
				}
				action.run(statement);
			}
			finally {
				statement.execute("SELECT pg_advisory_unlock(hashtext('pgbatch.tests.template'))");
			}
		}
	}

	private static void addVector(String database) throws SQLException {
		try (Connection connection = connect(database); Statement statement = connection.createStatement()) {
			statement.execute("CREATE EXTENSION IF NOT EXISTS vector");
		}
	}

	/**
	 * The template as this run needs it: made and migrated by the first fork of a run, which also drops what
	 * earlier runs left (databases of the prefix no session uses; a live run's are in use and stay).
	 */
	private static void makeTemplateOfThisRun(Statement statement) throws SQLException {
		if (RUN.equals(comment(statement, TEMPLATE))) {
			return;
		}
		List<String> leftovers = new ArrayList<>();
		try (ResultSet names = statement.executeQuery("SELECT datname FROM pg_database WHERE datname LIKE '"
				+ PREFIX.replace("_", "\\_") + "\\_%' AND datname <> '" + TEMPLATE + "'")) {
			while (names.next()) {
				leftovers.add(names.getString(1));
			}
		}
		for (String leftover : leftovers) {
			try {
				statement.execute("DROP DATABASE " + leftover);
			}
			catch (SQLException inUse) {
				// another run's, still in use: it drops its own
			}
		}
		statement.execute("DROP DATABASE IF EXISTS " + TEMPLATE);
		statement.execute("CREATE DATABASE " + TEMPLATE);
		addVector(TEMPLATE);
		migrate(TEMPLATE);
		statement.execute("COMMENT ON DATABASE " + TEMPLATE + " IS '" + RUN.replace("'", "''") + "'");
	}

	public static String user() {
		return System.getenv().getOrDefault("ETL_DB_USER", "pgbatch");
	}

	public static String password() {
		return secret("ETL_DB_PASSWORD");
	}

	/** A secret setting as the runner reads it: its value, else the content of its _FILE variant, else empty. */
	public static String secret(String setting) {
		String value = System.getenv().getOrDefault(setting, "");
		String file = System.getenv().getOrDefault(setting + "_FILE", "");
		if (!value.isEmpty() || file.isEmpty()) {
			return value;
		}
		try {
			return Files.readString(Path.of(file)).strip();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private interface SqlAction {

		void run(Statement statement) throws SQLException;

	}

	private interface SqlCall {

		String call() throws SQLException;

	}

}
