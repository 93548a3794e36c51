package dev.pgbatch;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The commands that take the server's one drill or point-in-time restore lock (backup/RestoreLock: per server, in
 * the maintenance database) run one at a time across the test forks: two classes run at once, and a drill of one
 * would otherwise be refused ("already running") by another's restore. Each waits for its turn, a lock of the tests'
 * own in the maintenance database, held until the command ends; a command inside a turn this JVM holds (a drill
 * started in the background, then a restore by the same test) goes on at once.
 */
public final class RestoreTurns {

	private static final String TAKE = "SELECT pg_advisory_lock(hashtext('pgbatch.tests'), hashtext('restore turns'))";

	private static Connection session;

	private static int held;

	private RestoreTurns() {
	}

	/** A turn, ended by closing it. */
	public interface Turn extends AutoCloseable {

		@Override
		void close();

	}

	/** Waits for the turn when the command takes the restore lock; close the handle once it has ended. */
	public static Turn take(List<String> arguments) {
		if (!takesTheRestoreLock(arguments)) {
			return () -> {
			};
		}
		return take();
	}

	/** Waits for the turn: for a test that holds the restore lock itself (its commands inside go on at once). */
	public static synchronized Turn take() {
		if (held == 0) {
			try {
				Connection connection = TestDatabase.connect("postgres");
				try (Statement statement = connection.createStatement()) {
					statement.execute(TAKE);
				}
				catch (SQLException ex) {
					connection.close();
					throw ex;
				}
				session = connection;
			}
			catch (SQLException ex) {
				throw new IllegalStateException("cannot take the turn of a restore command: " + ex.getMessage(), ex);
			}
		}
		held++;
		return RestoreTurns::release;
	}

	private static synchronized void release() {
		held--;
		if (held == 0) {
			try {
				// the lock ends with its session
				session.close();
			}
			catch (SQLException ex) {
				// the session is gone: so is its lock
			}
			session = null;
		}
	}

	/** backup drill, backup restore --to|--to-time (a point-in-time restore), run backup-drill. */
	private static boolean takesTheRestoreLock(List<String> arguments) {
		if (arguments.size() < 2) {
			return false;
		}
		return arguments.get(0).equals("backup") && (arguments.get(1).equals("drill")
				|| arguments.get(1).equals("restore") && (arguments.contains("--to") || arguments.contains("--to-time")))
				|| arguments.get(0).equals("run") && arguments.get(1).equals("backup-drill");
	}

}
