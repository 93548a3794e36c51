package dev.pgbatch.cli;

import java.sql.SQLException;

import dev.pgbatch.store.ObjectStoreException;

/**
 * What a failure to reach the database means to whoever runs bin/etl, with the cure: PgJDBC's own words name
 * neither the setting nor the local stack's set-up step (a new shell without {@code eval "$(bin/stack env)"} gets
 * "no password was provided"). A failure of the object store is said in the store's own words, which name the
 * operation, the key and, for refused credentials, the settings that hold them: the S3 client's message at the
 * root of it says only that a signature did not match.
 */
final class ConnectionProblems {

	static final String NO_PASSWORD = "the database asked for a password and none was given: set ETL_DB_PASSWORD_FILE"
			+ " (a file holding it); with the local stack, run eval \"$(bin/stack env)\" in this shell first";

	static final String REFUSED = "%s (ETL_DB_URL): is PostgreSQL running there? With the local stack: bin/stack up,"
			+ " then eval \"$(bin/stack env)\" in this shell";

	static final String WRONG_PASSWORD = "%s: check ETL_DB_USER and the password in ETL_DB_PASSWORD_FILE; with the"
			+ " local stack, run eval \"$(bin/stack env)\" in this shell";

	static final String NO_DATABASE = "%s: create it, or name another in ETL_DB_URL";

	/** PgJDBC's SQLSTATEs: a connection that could not be made, a password it had none of, and the server's. */
	private static final String CANNOT_CONNECT = "08001";

	private static final String PASSWORD_NEEDED = "08004";

	private static final String PASSWORD_REFUSED = "28P01";

	private static final String UNKNOWN_DATABASE = "3D000";

	private ConnectionProblems() {
	}

	/** The one line for the first connection or object store failure in the chain, or null when there is none. */
	static String explain(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
			if (cause instanceof ObjectStoreException store) {
				return store.getMessage().strip().lines().findFirst().orElse("");
			}
			if (cause instanceof SQLException sql && sql.getSQLState() != null) {
				String said = firstLine(sql.getMessage());
				switch (sql.getSQLState()) {
					case PASSWORD_NEEDED:
						// (08004 is also a server refusing SSL, or another rejection of the connection)
						if (said.contains("no password was provided")) {
							return NO_PASSWORD;
						}
						break;
					case CANNOT_CONNECT:
						return REFUSED.formatted(said);
					case PASSWORD_REFUSED:
						return WRONG_PASSWORD.formatted(said);
					case UNKNOWN_DATABASE:
						return NO_DATABASE.formatted(said);
					default:
						// another SQL failure: not this class's to explain
				}
			}
		}
		return null;
	}

	/** PgJDBC's message up to its first advice ("Check that the hostname..."), which this replaces. */
	private static String firstLine(String message) {
		String line = message == null ? "" : message.strip().lines().findFirst().orElse("");
		int advice = line.indexOf(" Check that");
		return (advice < 0 ? line : line.substring(0, advice)).replaceFirst("^FATAL: ", "").replaceFirst("\\.$", "");
	}

}
