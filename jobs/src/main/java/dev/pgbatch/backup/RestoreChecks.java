package dev.pgbatch.backup;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.SqlNames;

/**
 * What a restore that replaces a database checks before it restores anything: that the runner's role may
 * do every step of the replacement, so that it never fails after a restore of hours, at the swap, and never
 * swaps in a database that lacks the old one's settings or rights. The old database is dropped after the
 * swap, and whatever was not carried over would be lost with it: refused, not skipped with a warning.
 */
final class RestoreChecks {

	static final String OWNER = "database '%s' is owned by '%s', whose rights the runner's role '%s' does not have (not a member, or NOINHERIT): it could not rename it aside or give the restored database that owner; nothing was restored: run the restore as a role with them, or restore into a new database";

	static final String CARRY_OVER = "database '%s' has settings or privileges the runner's role cannot give the restored database (%s); nothing was restored: run the restore as a role that may (a superuser; CREATEROLE for another role's settings), remove them from '%s' first, or restore into a new database";

	/** privilege_not_granted and privilege_not_revoked: a GRANT or REVOKE that did nothing only warns. */
	private static final java.util.Set<String> NOT_DONE = java.util.Set.of("01007", "01006");

	static final String LEFT_CLOSED = "database '%s' was left refusing connections by a restore interrupted during its swap; %s: ALTER DATABASE %s ALLOW_CONNECTIONS true";

	/**
	 * What a restore writes on its staging database (a comment: pg_shdescription, readable from every
	 * database, committed, and outliving the process) before it closes the target to connections: a kill -9
	 * before the swap leaves the target closed, and the next restore, finding this on the staging database it
	 * sweeps away, opens the target again.
	 */
	private static final Pattern CLOSING = Pattern
		.compile("pgbatch restore: connections to ([a-z_][a-z0-9_]{0,62}) closed for the swap");

	private RestoreChecks() {
	}

	/** Records on the staging database that the target is about to be closed to connections (see CLOSING). */
	static void recordClosing(Connection admin, String staging, String target) throws SQLException {
		try (Statement statement = admin.createStatement()) {
			statement.execute("COMMENT ON DATABASE " + SqlNames.quote(staging) + " IS 'pgbatch restore: connections to "
					+ SqlNames.checkedName(target) + " closed for the swap'");
		}
	}

	/**
	 * The database that the restore of a staging database closed to connections and left so, or null: named
	 * by the staging database's comment (a plain name, matched again), and still refusing connections. Only
	 * for a staging database whose restore is gone (its lock is free).
	 */
	static String leftClosed(Connection admin, String staging) throws SQLException {
		String comment = comment(admin, staging);
		Matcher closing = CLOSING.matcher(comment == null ? "" : comment);
		if (!closing.matches()) {
			return null;
		}
		try (PreparedStatement statement = admin
			.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ? AND NOT datallowconn")) {
			statement.setString(1, closing.group(1));
			try (ResultSet rs = statement.executeQuery()) {
				return rs.next() ? closing.group(1) : null;
			}
		}
	}

	/** Opens a database left closed (leftClosed) again; fails naming the statement when the runner may not. */
	/** A database's comment (COMMENT ON DATABASE), or null. */
	static String comment(Connection admin, String database) throws SQLException {
		try (PreparedStatement statement = admin
			.prepareStatement("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = ?")) {
			statement.setString(1, database);
			try (ResultSet rs = statement.executeQuery()) {
				return rs.next() ? rs.getString(1) : null;
			}
		}
	}

	static void reopen(Connection admin, String database) {
		try (Statement statement = admin.createStatement()) {
			statement.execute("ALTER DATABASE " + SqlNames.quote(database) + " ALLOW_CONNECTIONS true");
		}
		catch (SQLException ex) {
			throw new IllegalStateException(String.format(LEFT_CLOSED, database,
					"the runner cannot open it again (" + ex.getMessage().replace('\n', ' ') + "); as its owner or a superuser run",
					SqlNames.quote(database)), ex);
		}
	}

	/** What backup list says of a database left closed. */
	static String leftClosedWarning(String database) {
		return String.format(LEFT_CLOSED, database, "the next bin/etl backup restore opens it again, or run",
				SqlNames.quote(database));
	}

	/** The runner renames and drops the target and makes its owner the restored one's: it needs the owner's rights. */
	static void requireOwnerRights(Connection admin, String target) throws SQLException {
		try (PreparedStatement statement = admin.prepareStatement(
				"SELECT pg_has_role(datdba, 'USAGE'), pg_get_userbyid(datdba), current_user FROM pg_database WHERE datname = ?")) {
			statement.setString(1, target);
			try (ResultSet rs = statement.executeQuery()) {
				if (rs.next() && !rs.getBoolean(1)) {
					throw new RefusedException(String.format(OWNER, target, rs.getString(2), rs.getString(3)));
				}
			}
		}
	}

	/**
	 * Carries the target's owner, privileges, connection limit and settings over to the (still empty) staging
	 * database in a transaction that is rolled back: what the runner may not do fails here, with PostgreSQL's
	 * own words, before pg_restore starts.
	 */
	static void tryCarryOver(Connection admin, String target, String staging) throws SQLException {
		admin.setAutoCommit(false);
		try {
			DatabaseHandover.carryOver(admin, target, staging);
		}
		catch (SQLException ex) {
			throw new RefusedException(String.format(CARRY_OVER, target, ex.getMessage().replace('\n', ' '), target));
		}
		finally {
			admin.rollback();
			admin.setAutoCommit(true);
		}
	}

	/** Fails when a GRANT or REVOKE of the statement did nothing (PostgreSQL only warns then). */
	static void requireDone(Statement statement) throws SQLException {
		for (SQLWarning warning = statement.getWarnings(); warning != null; warning = warning.getNextWarning()) {
			if (NOT_DONE.contains(warning.getSQLState())) {
				throw new SQLException(warning.getMessage(), warning.getSQLState());
			}
		}
	}

}
