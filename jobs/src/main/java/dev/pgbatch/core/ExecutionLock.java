package dev.pgbatch.core;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import dev.pgbatch.JobCatalog;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.stereotype.Component;

/**
 * One live process per job at a time, through a PostgreSQL session-level advisory lock held on a
 * connection of its own for as long as the job runs. When the process dies (kill -9, power loss) its
 * connection ends and the database releases the lock: a free lock is how a restart recognises an
 * execution whose process is gone, without heartbeats or clocks. The lock is the job's, named after it, unless the
 * job's definition gives runs of some parameters one of their own ({@link #lockName}: backup's physical backups).
 */
@Component
public class ExecutionLock {

	private static final Logger log = LoggerFactory.getLogger(ExecutionLock.class);

	private static final String LOCK_SPACE = "pgbatch.job";

	/**
	 * The sessions holding a lock, the runner's own first: a holder counts only when it logged in as the runner's role
	 * (pg_advisory_lock is PUBLIC unless revoked, so any role may take the runner's keys). The pid, the role, whether
	 * it is the runner's, its application_name, where it connected from and since when (the last two are visible
	 * for the runner's own sessions only), and the runner's role.
	 */
	private static final String HOLDERS = """
			SELECT l.pid, coalesce(a.usename::text, '?'), coalesce(a.usename = session_user, false),
			  coalesce(a.application_name, ''), coalesce(a.client_hostname, host(a.client_addr), 'a local socket'),
			  coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '?'), session_user::text
			FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND l.classid = hashtext(?)::oid AND l.objid = hashtext(?)::oid AND l.objsubid = 2
			ORDER BY 3 DESC, 1
			""";

	static final String ALREADY_RUNNING = "job %s is already running%s; a second run is refused";

	/** A brief holder ({@link #acquireAfter}) that still held the lock when the wait for it ran out. */
	public static final String OUT_WAITED = "the lock of %s is still held by %s, which holds it for seconds, after the"
			+ " wait for it ran out: refused; run this again once it has ended";

	/** A holder of the runner's role: which command and process (its application_name), from where, since when. */
	static final String OWN_HOLDER = "%s; connected from %s since %s, server pid %d";

	/**
	 * A session of another role holds the runner's lock: no pgbatch process runs, yet the runner's own lock cannot be
	 * taken while it holds it; said, never waited for in silence nor ignored.
	 */
	static final String FOREIGN_HOLDER = "the lock of %s is held by a session of role %s (server pid %d, application_name"
			+ " '%s'), not of the runner's role %s: nothing of pgbatch runs it, and it cannot start until that session"
			+ " lets go; end it (SELECT pg_terminate_backend(%d)) and let only the runner's role take advisory locks"
			+ " (docs/operations.md, \"Advisory locks\")";

	/**
	 * A session of another role named as the runner names its sessions ({@link #owner}): most likely a runner
	 * configured with another role (a retention of another host's runner), not a squatter to end.
	 */
	static final String OTHER_RUNNER = "the lock of %s is held by a session of role %s (server pid %d, application_name"
			+ " '%s'), not of the runner's role %s: probably another pgbatch runner, configured with that role; it"
			+ " cannot start until that run ends, and runners that share a server are to log in as one role"
			+ " (docs/operations.md, \"Advisory locks\")";

	/** Locks that jobs of different names share: the partitions of the managed tables. */
	private static final String SHARED_SPACE = "pgbatch.shared";

	static final String SHARED_BUSY = "%s are being changed by %s; waited %d s for it to end (a second change at the same time is refused)";

	/**
	 * The lock sessions' settings, made at session level once connected: set through PgJDBC's options they would
	 * lose to an options= in ETL_DB_URL, and a role's or the server's value would apply. A session sits idle for a
	 * whole run (an idle timeout would drop it, freeing the lock while the job runs), and a wait for a shared lock
	 * may outlast a statement_timeout. A waiting session does not read its socket: the server checks the client's
	 * connection every second, or a waiter whose process died (kill -9, Ctrl-C, a closed ssh session) would keep
	 * its place in the lock's queue, ahead of every live waiter, until its wait ended.
	 */
	private static final String SESSION = """
			SELECT set_config('application_name', ?, false), set_config('idle_session_timeout', '0', false),
			  set_config('idle_in_transaction_session_timeout', '0', false), set_config('statement_timeout', '0', false)
			""";

	/**
	 * Apart, each on its own: a server that does not have one refuses it, and goes on without it rather than no lock
	 * being taken. client_connection_check_interval (PostgreSQL 14 on, and not on every platform): without it a
	 * waiter whose process died keeps its place as before; transaction_timeout (PostgreSQL 17 on) would end a long
	 * wait as statement_timeout would.
	 */
	private static final List<String> WHERE_THERE = List.of(
			"SELECT set_config('client_connection_check_interval', '1s', false)",
			"SELECT set_config('transaction_timeout', '0', false)");

	/** How often a wait for a brief holder ({@link #acquireAfter}) tries the lock again. */
	private static final Duration BRIEF_LOOK = Duration.ofMillis(500);

	/** How often a wait for a shared lock looks whether it is to give up. */
	private static final Duration STOP_LOOK = Duration.ofMillis(500);

	/** How long a check of the lock's session may take before the session counts as gone. */
	private static final int VALID_WITHIN_SECONDS = 10;

	private final DataSourceProperties database;

	/**
	 * The pool, asked directly (not through JdbcTemplate): with transaction synchronization on, as it is in any step
	 * (Spring Batch's tasklet steps need it, a ResourcelessTransactionManager's too), JdbcTemplate binds the connection
	 * it takes to the thread until the step ends. A wait for a backup asks every second for hours (backup-verify,
	 * backup-drill): that would keep a pool connection from the scheduler's other jobs all along.
	 */
	private final DataSource pool;

	private final Duration checkInterval;

	ExecutionLock(DataSourceProperties database, DataSource pool, LockProperties properties) {
		this.database = database;
		this.pool = pool;
		this.checkInterval = properties.checkInterval();
	}

	/**
	 * The lock a run of {@code jobName} with {@code parameters} takes, as its job's definition names it: the one
	 * place every launch, restart and check of a run's process asks. A job the catalog does not know takes its name.
	 */
	public static String lockName(String jobName, JobParameters parameters) {
		return JobCatalog.find(jobName).map(job -> job.lock().apply(parameters)).orElse(jobName);
	}

	/** Takes the lock of a run of the job with these parameters ({@link #lockName}), as {@link #acquire(String)}. */
	public Held acquire(String jobName, JobParameters parameters) {
		return acquire(lockName(jobName, parameters));
	}

	/** Takes the lock (a job's name), or refuses naming the process that holds it. Close the handle to release it. */
	public Held acquire(String jobName) {
		return acquire(jobName, jobName, null);
	}

	/**
	 * Takes a lock in another database of the same server (null: the configured one): for work that must
	 * not hold a session in the configured database, such as a restore that replaces it.
	 */
	public Held acquire(String jobName, String database) {
		return acquire(jobName, jobName, database);
	}

	/**
	 * Takes lock {@code lockName} in {@code database} (null: the configured one), its session named after
	 * {@code holderName}: several commands that share one lock each say which of them holds it (application_name
	 * keeps 63 bytes: a long lock name would leave no room for the host).
	 */
	public Held acquire(String lockName, String holderName, String database) {
		Connection connection = null;
		try {
			connection = session(database, holderName);
			if (!tryLock(connection, LOCK_SPACE, lockName)) {
				throw busy(holders(connection, LOCK_SPACE, lockName), lockName);
			}
			return new Held(connection, LOCK_SPACE, lockName, this.checkInterval);
		}
		catch (SQLException | RuntimeException ex) {
			throw notTaken(connection, lockName, ex);
		}
	}

	/**
	 * {@link #acquire(String, String, String)}, but while the lock is held by a process of the runner's running
	 * command {@code briefHolder} (one that holds it for seconds, as a physical backup's retention holds the restore
	 * lock for its expire), looks again every {@link #BRIEF_LOOK} until {@code deadline}, then refuses saying so
	 * ({@link OutWaited}). Any other holder is refused at once, as acquire refuses it. Looks, not a wait in the lock's queue: the queue cannot tell its
	 * holders apart. Null when {@code stop} said so between looks: the lock was not taken.
	 */
	public Held acquireAfter(String lockName, String holderName, String database, String briefHolder, Instant deadline,
			BooleanSupplier stop) throws InterruptedException {
		Connection connection = null;
		try {
			connection = session(database, holderName);
			boolean said = false;
			while (!tryLock(connection, LOCK_SPACE, lockName)) {
				List<Holder> holders = holders(connection, LOCK_SPACE, lockName);
				if (holders.isEmpty()) {
					// released between the two statements: tried again at once, even past the deadline
					continue;
				}
				if (!holders.get(0).running(briefHolder)) {
					throw busy(holders, lockName);
				}
				if (!Instant.now().isBefore(deadline)) {
					throw new OutWaited(String.format(OUT_WAITED, lockName, holders.get(0).described()));
				}
				if (stop.getAsBoolean()) {
					endSession(connection);
					return null;
				}
				if (!said) {
					log.info("{} waits until {} for pgbatch {} to release the lock of {}", holderName, deadline,
							briefHolder, lockName);
					said = true;
				}
				Thread.sleep(BRIEF_LOOK.toMillis());
			}
			return new Held(connection, LOCK_SPACE, lockName, this.checkInterval);
		}
		catch (SQLException | RuntimeException ex) {
			throw notTaken(connection, lockName, ex);
		}
		catch (InterruptedException ex) {
			closeQuietly(connection);
			throw ex;
		}
	}

	/** What a failed take of a job's lock throws, once its session is closed: a refusal as it is. */
	private static RuntimeException notTaken(Connection connection, String lockName, Exception ex) {
		closeQuietly(connection);
		if (ex instanceof RuntimeException runtime) {
			return runtime;
		}
		return new IllegalStateException("could not take the lock of job " + lockName + ": " + ex.getMessage(), ex);
	}

	private static boolean tryLock(Connection connection, String space, String name) throws SQLException {
		try (PreparedStatement statement = connection
			.prepareStatement("SELECT pg_try_advisory_lock(hashtext(?), hashtext(?))")) {
			statement.setString(1, space);
			statement.setString(2, name);
			try (ResultSet result = statement.executeQuery()) {
				result.next();
				return result.getBoolean(1);
			}
		}
	}

	/** The refusal of a job's lock that is taken: by a run of the runner's (named), or by a session of another role. */
	private static RefusedException busy(List<Holder> holders, String lockName) {
		if (!holders.isEmpty() && !holders.get(0).own()) {
			return new RefusedException(holders.get(0).foreign("job " + lockName));
		}
		return new RefusedException(String.format(ALREADY_RUNNING, lockName,
				holders.isEmpty() ? "" : " (" + holders.get(0).described() + ")"));
	}

	/** The refusal of {@link #acquireAfter} once its wait ran out ({@link #OUT_WAITED}): a run that did not happen. */
	public static final class OutWaited extends RefusedException {

		OutWaited(String message) {
			super(message);
		}

	}

	/**
	 * Takes a lock that several jobs share (partition-rollover, archive, archive restore and seed-data all
	 * take "partitions"), waiting for it up to {@code wait}, then refusing naming its holder. Close the
	 * handle to release it. A session lock on a connection of its own, like a job's.
	 */
	public Held acquireShared(String resource, String holderName, Duration wait) {
		return acquireSharedUnless(resource, holderName, wait, null);
	}

	/**
	 * {@link #acquireShared(String, String, Duration)} for a caller that may be asked to stop while it waits
	 * (a launch, on SIGTERM or `etl stop`): a watch on a thread of its own asks {@code stop} every
	 * {@link #STOP_LOOK} (so it must not depend on the caller's thread) and, once it says so, cancels the
	 * wait. Null then: the lock was not taken, or was released at once.
	 */
	public Held acquireShared(String resource, String holderName, Duration wait, BooleanSupplier stop) {
		return acquireSharedUnless(resource, holderName, wait, stop);
	}

	/**
	 * One wait in the lock's queue, for the whole of {@code wait}: a waiter that left the queue and came back
	 * in turns would be overtaken on every release by any waiter that stayed. With {@code stop} (may be null),
	 * a watch cancels that wait when asked to stop.
	 */
	private Held acquireSharedUnless(String resource, String holderName, Duration wait, BooleanSupplier stop) {
		Connection connection = null;
		try {
			connection = session(null, holderName);
			Wait outcome = waitFor(connection, resource, wait, stop);
			if (outcome == Wait.TAKEN) {
				return new Held(connection, SHARED_SPACE, resource, this.checkInterval);
			}
			endSession(connection);
			if (outcome == Wait.STOPPED) {
				return null;
			}
			List<Holder> holders = holders(SHARED_SPACE, resource);
			if (!holders.isEmpty() && !holders.get(0).own()) {
				throw new RefusedException(holders.get(0).foreign("the " + resource));
			}
			throw new RefusedException(String.format(SHARED_BUSY, "the " + resource,
					holders.isEmpty() ? "another process" : holders.get(0).described(), wait.toSeconds()));
		}
		catch (SQLException | RuntimeException ex) {
			closeQuietly(connection);
			if (ex instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new IllegalStateException("could not take the lock of the " + resource + ": " + ex.getMessage(), ex);
		}
	}

	/**
	 * A lock's session, on a connection of its own (not from the pool: the lock must end with this connection,
	 * never linger in a pooled session), in {@code database} (null: the configured one), named after its holder.
	 */
	private Connection session(String database, String holderName) throws SQLException {
		Map<String, String> settings = Map.of("tcpKeepAlive", "true");
		Connection connection = database == null ? OwnConnections.open(this.database, settings)
				: OwnConnections.open(this.database, database, settings);
		try (PreparedStatement statement = connection.prepareStatement(SESSION)) {
			statement.setString(1, owner(holderName));
			statement.execute();
		}
		catch (SQLException | RuntimeException ex) {
			closeQuietly(connection);
			throw ex;
		}
		for (String setting : WHERE_THERE) {
			try (Statement statement = connection.createStatement()) {
				statement.execute(setting);
			}
			catch (SQLException ex) {
				// 22023: not supported on this platform; 42704: no such parameter in this version
				if (!"22023".equals(ex.getSQLState()) && !"42704".equals(ex.getSQLState())) {
					closeQuietly(connection);
					throw ex;
				}
			}
		}
		return connection;
	}

	private enum Wait {
		TAKEN, STOPPED, TIMED_OUT
	}

	/**
	 * Waits for the shared lock up to {@code wait} (at least a millisecond: lock_timeout 0 waits for ever).
	 * Once {@code stop} has said so, the outcome is STOPPED whatever the wait did: a cancel that came too late
	 * to end it may still reach the session later, so a lock taken on it is released with the session (by the
	 * caller), never handed on.
	 */
	private static Wait waitFor(Connection connection, String resource, Duration wait, BooleanSupplier stop)
			throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(
				"SELECT set_config('lock_timeout', ?, false), pg_advisory_lock(hashtext(?), hashtext(?))")) {
			statement.setString(1, Math.max(1, wait.toMillis()) + "ms");
			statement.setString(2, SHARED_SPACE);
			statement.setString(3, resource);
			CancelOnStop watch = stop == null ? null
					: new CancelOnStop(connection.unwrap(PGConnection.class), stop, resource);
			SQLException failed = null;
			boolean stopped;
			try {
				statement.execute();
			}
			catch (SQLException ex) {
				failed = ex;
			}
			finally {
				stopped = watch != null && watch.finish();
			}
			if (stopped) {
				return Wait.STOPPED;
			}
			if (failed == null) {
				return Wait.TAKEN;
			}
			if ("55P03".equals(failed.getSQLState())) {
				return Wait.TIMED_OUT;
			}
			throw failed;
		}
	}

	/**
	 * Asks whether to stop every {@link #STOP_LOOK} on a thread of its own and, once asked, cancels what the
	 * session runs (57014), again on every look: a cancel that reaches the server before the wait has begun
	 * there does nothing. The session's cancel, not Statement.cancel, which PgJDBC sends once per execution.
	 * {@code stop} is not to throw: an error would end the looks, and the wait would run to its end.
	 */
	private static final class CancelOnStop {

		private final ScheduledExecutorService looks;

		private boolean finished;

		private volatile boolean stopped;

		CancelOnStop(PGConnection session, BooleanSupplier stop, String resource) {
			this.looks = BackgroundThreads.scheduler("lock wait " + resource);
			long millis = STOP_LOOK.toMillis();
			this.looks.scheduleWithFixedDelay(() -> {
				this.stopped = this.stopped || stop.getAsBoolean();
				if (this.stopped) {
					cancel(session);
				}
			}, millis, millis, TimeUnit.MILLISECONDS);
		}

		/**
		 * Under the same monitor as finish: once the wait has finished, no cancel is sent. One sent just before
		 * may reach the session's next statement, which is then that of a stopped wait, ending the session.
		 */
		private synchronized void cancel(PGConnection session) {
			if (!this.finished) {
				try {
					session.cancelQuery();
				}
				catch (SQLException ex) {
					// the next look cancels again; the wait ends by its lock_timeout at the latest
				}
			}
		}

		/** Ends the watch; whether it was asked to stop. */
		synchronized boolean finish() {
			this.finished = true;
			this.looks.shutdown();
			return this.stopped;
		}

	}

	/**
	 * Whether a live process of the runner runs the job with these parameters: holds their lock, or the job's own
	 * ({@link #formerHolder}). Errs on the side of alive: a dead physical backup looks alive while a logical one runs.
	 */
	public boolean isHeld(String jobName, JobParameters parameters) {
		return isHeld(lockName(jobName, parameters)) || formerHolder(jobName, parameters) != null;
	}

	/**
	 * For a run that takes a lock of its own ({@link #lockName} not the job's name), the process holding the job's
	 * own lock, or null: a runner not yet upgraded took the job's lock for every run (a scheduler node still on the
	 * old code runs its physical backups under "backup"), so such a run may be alive under it.
	 */
	public String formerHolder(String jobName, JobParameters parameters) {
		return lockName(jobName, parameters).equals(jobName) ? null : holder(jobName);
	}

	/** Whether a live process of the runner holds the lock (a session of another role does not count). */
	public boolean isHeld(String jobName) {
		return holder(jobName) != null;
	}

	/**
	 * The process of the runner holding the job's lock ("pgbatch seed-data, pid 12 on host; connected from ... since
	 * ..."), or null: a session of another role holding it is no run of the job.
	 */
	public String holder(String jobName) {
		List<Holder> holders = holders(LOCK_SPACE, jobName);
		return holders.isEmpty() || !holders.get(0).own() ? null : holders.get(0).described();
	}

	private List<Holder> holders(String space, String name) {
		try (Connection connection = this.pool.getConnection()) {
			return holders(connection, space, name);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the holders of the lock of " + name + ": " + ex.getMessage(), ex);
		}
	}

	/** The holders as seen from a session in the lock's own database (advisory locks belong to one database). */
	private static List<Holder> holders(Connection connection, String space, String name) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(HOLDERS)) {
			statement.setString(1, space);
			statement.setString(2, name);
			try (ResultSet result = statement.executeQuery()) {
				List<Holder> holders = new ArrayList<>();
				while (result.next()) {
					holders.add(Holder.of(result));
				}
				return holders;
			}
		}
	}

	/** A session holding a lock, as {@link #HOLDERS} reads it. */
	private record Holder(int pid, String role, boolean own, String application, String from, String since,
			String runnersRole) {

		static Holder of(ResultSet row) throws SQLException {
			return new Holder(row.getInt(1), row.getString(2), row.getBoolean(3), row.getString(4), row.getString(5),
					row.getString(6), row.getString(7));
		}

		/** Whether it is a process of the runner's running {@code command} (its application_name, {@link #owner}). */
		boolean running(String command) {
			return command != null && this.own && this.application.startsWith("pgbatch " + command + ", pid ");
		}

		String described() {
			return String.format(OWN_HOLDER, this.application.isEmpty() ? "backend " + this.pid : this.application,
					this.from, this.since, this.pid);
		}

		String foreign(String what) {
			// the pid twice for FOREIGN_HOLDER's pg_terminate_backend; OTHER_RUNNER uses it once
			return String.format(this.application.startsWith("pgbatch ") ? OTHER_RUNNER : FOREIGN_HOLDER, what,
					OneLine.of(this.role), this.pid, OneLine.of(this.application), OneLine.of(this.runnersRole), this.pid);
		}

	}

	private static String owner(String jobName) {
		String host;
		try {
			host = InetAddress.getLocalHost().getHostName();
		}
		catch (UnknownHostException ex) {
			host = "unknown host";
		}
		return "pgbatch " + jobName + ", pid " + ManagementFactory.getRuntimeMXBean().getPid() + " on " + host;
	}

	/**
	 * Unlocks first: the server ends a closed session a moment after the client has gone, and the next
	 * command must find the lock free. Closing alone would release it too, just later.
	 */
	private static void endSession(Connection connection) {
		try (PreparedStatement statement = connection.prepareStatement("SELECT pg_advisory_unlock_all()")) {
			statement.execute();
		}
		catch (SQLException ex) {
			// the session is ending anyway; the server releases its locks with it
		}
		finally {
			closeQuietly(connection);
		}
	}

	private static void closeQuietly(Connection connection) {
		if (connection != null) {
			try {
				connection.close();
			}
			catch (SQLException ignored) {
				// the connection is being discarded anyway
			}
		}
	}

	/**
	 * A held lock; closing it ends the lock's session. While it is held, its session can be watched: a
	 * connection dropped by the network, a proxy or pg_terminate_backend takes the lock with it, and the
	 * job would go on unprotected.
	 */
	public static final class Held implements AutoCloseable {

		private static final String STILL_HELD = """
				SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
				  AND classid = hashtext(?)::oid AND objid = hashtext(?)::oid AND objsubid = 2)
				""";

		private final Connection connection;

		private final String space;

		private final String jobName;

		private final Duration checkInterval;

		private ScheduledExecutorService watch;

		private volatile boolean lost;

		private Held(Connection connection, String space, String jobName, Duration checkInterval) {
			this.connection = connection;
			this.space = space;
			this.jobName = jobName;
			this.checkInterval = checkInterval;
		}

		/**
		 * Checks the lock's session every check interval, on a thread of its own, until the lock is closed;
		 * {@code onLoss} runs once, on that thread, when the session has ended or no longer holds the lock.
		 */
		public void watch(Runnable onLoss) {
			this.watch = BackgroundThreads.scheduler("lock watch " + this.jobName);
			long millis = this.checkInterval.toMillis();
			this.watch.scheduleWithFixedDelay(() -> {
				if (!stillHeld()) {
					this.lost = true;
					log.error("the lock of {} is lost (its database session ended)", this.jobName);
					this.watch.shutdown();
					onLoss.run();
				}
			}, millis, millis, TimeUnit.MILLISECONDS);
		}

		/** Whether a watch found the lock gone. */
		public boolean lost() {
			return this.lost;
		}

		/** Checks the lock's session now, as the watch does: false, and lost from then on, when the lock is gone. */
		public boolean check() {
			if (!this.lost && !stillHeld()) {
				this.lost = true;
			}
			return !this.lost;
		}

		private boolean stillHeld() {
			try {
				// isValid first: it waits a bounded time, where a query on a half-open connection could hang
				if (!this.connection.isValid(VALID_WITHIN_SECONDS)) {
					return false;
				}
				try (PreparedStatement statement = this.connection.prepareStatement(STILL_HELD)) {
					statement.setQueryTimeout(VALID_WITHIN_SECONDS);
					statement.setString(1, this.space);
					statement.setString(2, this.jobName);
					try (ResultSet result = statement.executeQuery()) {
						return result.next() && result.getBoolean(1);
					}
				}
			}
			catch (SQLException ex) {
				return false;
			}
		}

		@Override
		public void close() {
			if (this.watch != null) {
				this.watch.shutdownNow();
				try {
					// the check uses the lock's connection: let it end before the connection is closed
					this.watch.awaitTermination(VALID_WITHIN_SECONDS, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
			endSession(this.connection);
		}

	}

}
