package dev.pgbatch.core;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * One live process per job at a time, through a PostgreSQL session-level advisory lock held on a
 * connection of its own for as long as the job runs. When the process dies (kill -9, power loss) its
 * connection ends and the database releases the lock: a free lock is how a restart recognises an
 * execution whose process is gone, without heartbeats or clocks.
 */
@Component
public class ExecutionLock {

	private static final String LOCK_SPACE = "pgbatch.job";

	/** Locks that jobs of different names share: the partitions of the managed tables. */
	private static final String SHARED_SPACE = "pgbatch.shared";

	static final String SHARED_BUSY = "%s are being changed by %s; waited %d s for it to end (a second change at the same time is refused)";

	private final DataSourceProperties database;

	private final JdbcTemplate jdbc;

	ExecutionLock(DataSourceProperties database, JdbcTemplate jdbc) {
		this.database = database;
		this.jdbc = jdbc;
	}

	/** Takes the job's lock, or refuses naming the process that holds it. Close the handle to release it. */
	public Held acquire(String jobName) {
		Connection connection = null;
		try {
			// Not from the pool: the lock must end with this connection, never linger in a pooled session.
			// The session sits idle for the whole run: keep it from being dropped as idle, which would free
			// the lock while the job still runs.
			connection = OwnConnections.open(this.database, Map.of("tcpKeepAlive", "true", "options",
					"-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0"));
			try (PreparedStatement statement = connection
				.prepareStatement("SELECT pg_try_advisory_lock(hashtext(?), hashtext(?)), set_config('application_name', ?, false)")) {
				statement.setString(1, LOCK_SPACE);
				statement.setString(2, jobName);
				statement.setString(3, owner(jobName));
				try (ResultSet result = statement.executeQuery()) {
					result.next();
					if (!result.getBoolean(1)) {
						connection.close();
						String holder = holder(jobName);
						throw new RefusedException("job " + jobName + " is already running"
								+ (holder != null ? " (" + holder + ")" : "") + "; a second run is refused");
					}
				}
			}
			return new Held(connection);
		}
		catch (SQLException | RuntimeException ex) {
			closeQuietly(connection);
			if (ex instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new IllegalStateException("could not take the lock of job " + jobName + ": " + ex.getMessage(), ex);
		}
	}

	/**
	 * Takes a lock that several jobs share (partition-rollover, archive, archive restore and seed-data all
	 * take "partitions"), waiting for it up to {@code wait}, then refusing naming its holder. Close the
	 * handle to release it. A session lock on a connection of its own, like a job's.
	 */
	public Held acquireShared(String resource, String holderName, Duration wait) {
		Connection connection = null;
		try {
			connection = OwnConnections.open(this.database, Map.of("tcpKeepAlive", "true", "options",
					"-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0"));
			try (PreparedStatement statement = connection
				.prepareStatement("SELECT set_config('lock_timeout', ?, false), set_config('application_name', ?, false)")) {
				statement.setString(1, wait.toMillis() + "ms");
				statement.setString(2, owner(holderName));
				statement.execute();
			}
			try (PreparedStatement statement = connection.prepareStatement("SELECT pg_advisory_lock(hashtext(?), hashtext(?))")) {
				statement.setString(1, SHARED_SPACE);
				statement.setString(2, resource);
				statement.execute();
			}
			catch (SQLException ex) {
				if (!"55P03".equals(ex.getSQLState())) {
					throw ex;
				}
				connection.close();
				String holder = holder(SHARED_SPACE, resource);
				throw new RefusedException(String.format(SHARED_BUSY, "the " + resource,
						holder != null ? holder : "another process", wait.toSeconds()));
			}
			return new Held(connection);
		}
		catch (SQLException | RuntimeException ex) {
			closeQuietly(connection);
			if (ex instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new IllegalStateException("could not take the lock of the " + resource + ": " + ex.getMessage(), ex);
		}
	}

	/** Whether a live process holds the job's lock. */
	public boolean isHeld(String jobName) {
		return holder(jobName) != null;
	}

	/** The application name of the session holding the job's lock ("pgbatch seed-data, pid 12 on host"), or null. */
	public String holder(String jobName) {
		return holder(LOCK_SPACE, jobName);
	}

	private String holder(String space, String name) {
		List<String> holders = this.jdbc.queryForList("""
				SELECT coalesce(a.application_name, 'backend ' || l.pid)
				FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
				WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
				  AND l.classid = hashtext(?)::oid AND l.objid = hashtext(?)::oid AND l.objsubid = 2
				""", String.class, space, name);
		return holders.isEmpty() ? null : holders.get(0);
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

	/** A held lock; closing it ends the lock's session. */
	public static final class Held implements AutoCloseable {

		private final Connection connection;

		private Held(Connection connection) {
			this.connection = connection;
		}

		@Override
		public void close() {
			// Unlock first: the server ends a closed session a moment after the client has gone, and the
			// next command must find the job free. Closing alone would release it too, just later.
			try (PreparedStatement statement = this.connection.prepareStatement("SELECT pg_advisory_unlock_all()")) {
				statement.execute();
			}
			catch (SQLException ex) {
				// the session is ending anyway; the server releases its locks with it
			}
			finally {
				closeQuietly(this.connection);
			}
		}

	}

}
