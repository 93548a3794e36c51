package dev.pgbatch.core;

import java.sql.SQLException;
import java.sql.Statement;

/** Administrative statements on whole databases, run from another database of the cluster. */
public final class Databases {

	/** insufficient_privilege: FORCE may not end a process of a role the runner cannot signal. */
	private static final String NOT_PERMITTED = "42501";

	/** object_in_use: a plain DROP found sessions in the database. */
	private static final String IN_USE = "55006";

	private static final int TRIES = 10;

	private Databases() {
	}

	/**
	 * Drops a database (a name quoted already), ending its sessions. FORCE refuses a runner that is no
	 * superuser while an autovacuum worker is in the database (a process of no role it may signal), which
	 * happens right after a restore; a plain DROP asks the worker to leave and waits for it. Both are tried
	 * in turn a few times: sessions may come and go between them.
	 */
	public static void drop(Statement statement, String quotedName) throws SQLException {
		SQLException refused = null;
		for (int attempt = 0; attempt < TRIES; attempt++) {
			try {
				statement.execute("DROP DATABASE IF EXISTS " + quotedName + " WITH (FORCE)");
				return;
			}
			catch (SQLException ex) {
				if (!NOT_PERMITTED.equals(ex.getSQLState())) {
					throw ex;
				}
				refused = ex;
			}
			try {
				statement.execute("DROP DATABASE IF EXISTS " + quotedName);
				return;
			}
			catch (SQLException ex) {
				if (!IN_USE.equals(ex.getSQLState())) {
					throw ex;
				}
				refused = ex;
			}
		}
		throw refused;
	}

}
