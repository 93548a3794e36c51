package dev.pgbatch.schedule;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.pgbatch.backup.ArchivePush;
import dev.pgbatch.core.SqlNames;

/**
 * The server's WAL archiving as pg_stat_archiver and the server's own clock show it (what any role may read unless a
 * superuser revoked it). {@code pending} is how many segments the server has finished since the last one archived
 * (when none was archived since the statistics were reset: the .ready files, where the role may list them, else
 * null): with archive_timeout set, a finished segment waits
 * only while the archiver is failing or stuck; WAL written since is not enough, since after a quiet spell the server
 * switches segments only at its next archive_timeout check, up to archive_timeout after the write. {@code
 * archiveCommand} and {@code archiveLibrary} are null when the role may not see them (or the server has no such
 * setting).
 */
record ArchiverState(String archiveMode, String archiveCommand, String archiveLibrary, boolean inRecovery,
		long archiveTimeoutSeconds, String lastArchivedWal,
		Instant lastArchivedTime, long failedCount, String lastFailedWal, Instant lastFailedTime, Instant statsReset,
		Long pending, Instant now) {

	static final String FAILING = "WAL archiving fails: archive_command failed at %s on %s and has not succeeded since"
			+ " (the last segment archived: %s); PostgreSQL keeps the WAL in pg_wal until it does";

	static final String BEHIND = "WAL archiving is behind: nothing archived for %d s, more than %d s (%s), while %s"
			+ " finished segment(s) wait (the last archived: %s)";

	static final String TWICE_TIMEOUT = "twice archive_timeout";

	static final String NO_TIMEOUT = "archive_timeout is 0: the bound used then";

	/**
	 * How long finished segments may wait with nothing archived when archive_timeout is 0 (PostgreSQL's default):
	 * twice the 300 s archive_timeout docs/operations.md asks for.
	 */
	static final long BEHIND_WITHOUT_TIMEOUT_SECONDS = 600;

	static final String ARCHIVE_MODE_OFF = "archive_mode is %s while pgBackRest stanza %s is configured for this"
			+ " runner (ETL_PGBACKREST_STANZA): no WAL reaches its repository, and a point-in-time restore reaches no"
			+ " further than the newest backup set (set archive_mode = on and restart the server)";

	static final String NOT_PUSHED = "WAL archiving does not go through pgBackRest while stanza %s is configured for"
			+ " this runner (ETL_PGBACKREST_STANZA): %s (set archive_command to pgbackrest's archive-push, as"
			+ " docs/operations.md says)";

	static final String CANNOT_READ = "the runner's role %s may not read the WAL archiver's state (%s); a superuser"
			+ " gives it: GRANT SELECT ON pg_catalog.pg_stat_archiver TO %s; GRANT EXECUTE ON FUNCTION"
			+ " pg_catalog.pg_stat_get_archiver(), pg_catalog.pg_current_wal_lsn() TO %s";

	/** PostgreSQL's SQLSTATE insufficient_privilege. */
	static final String INSUFFICIENT_PRIVILEGE = "42501";

	/** A WAL segment's file name: timeline, then the segment number in two halves (a .partial or .backup may follow). */
	private static final Pattern SEGMENT = Pattern.compile("^[0-9A-F]{8}([0-9A-F]{8})([0-9A-F]{8})");

	private static final String QUERY = """
			SELECT current_setting('archive_mode'), pg_is_in_recovery(),
			  (SELECT setting::bigint FROM pg_settings WHERE name = 'archive_timeout'),
			  a.last_archived_wal, a.last_archived_time, a.failed_count, a.last_failed_wal, a.last_failed_time,
			  a.stats_reset, now(),
			  CASE WHEN pg_is_in_recovery() THEN NULL
			    ELSE floor((pg_current_wal_lsn() - '0/0'::pg_lsn) / (SELECT setting::bigint FROM pg_settings
			      WHERE name = 'wal_segment_size'))::bigint END,
			  (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'),
			  (SELECT setting FROM pg_settings WHERE name = 'archive_command'),
			  (SELECT setting FROM pg_settings WHERE name = 'archive_library')
			FROM pg_stat_archiver a""";

	private static final String READY_PERMITTED = "SELECT has_function_privilege('pg_catalog.pg_ls_archive_statusdir()',"
			+ " 'EXECUTE')";

	/** Segments only: a .history or .backup file waiting is no finished segment. */
	private static final String READY = "SELECT count(*) FROM pg_catalog.pg_ls_archive_statusdir()"
			+ " WHERE name ~ '^[0-9A-F]{24}\\.ready$'";

	/** The state now; a role that may not read it gets a {@link CannotRead} naming the GRANT. */
	static ArchiverState read(Connection connection) throws SQLException {
		try (Statement statement = connection.createStatement(); ResultSet row = statement.executeQuery(QUERY)) {
			row.next();
			String lastArchived = row.getString(4);
			Long current = (Long) row.getObject(11);
			long segmentBytes = row.getLong(12);
			Long archived = segmentNumber(lastArchived, segmentBytes);
			Long ready = (current != null && archived == null) ? readyCount(connection) : null;
			Long pending = pending(current, archived, ready);
			return new ArchiverState(row.getString(1), row.getString(13), row.getString(14), row.getBoolean(2),
					row.getLong(3), lastArchived,
					instant(row.getTimestamp(5)), row.getLong(6), row.getString(7), instant(row.getTimestamp(8)),
					instant(row.getTimestamp(9)), pending, row.getTimestamp(10).toInstant());
		}
		catch (SQLException ex) {
			if (!INSUFFICIENT_PRIVILEGE.equals(ex.getSQLState())) {
				throw ex;
			}
			String role;
			try (Statement statement = connection.createStatement();
					ResultSet row = statement.executeQuery("SELECT current_user")) {
				row.next();
				role = SqlNames.quoteCatalogName(row.getString(1));
			}
			throw new CannotRead(CANNOT_READ.formatted(role, ex.getMessage(), role, role), ex);
		}
	}

	/**
	 * How many finished segments wait: those the server finished after the last one archived (the segment after it
	 * is the one being written, or finished), else (nothing archived since the statistics were reset, by a crash,
	 * an immediate shutdown or pg_stat_reset_shared, or a .history archived last) the .ready files {@code ready}
	 * counted in pg_wal/archive_status; null when neither is known or on a standby ({@code current} null).
	 */
	static Long pending(Long current, Long archived, Long ready) {
		if (current == null) {
			return null;
		}
		return archived != null ? Long.valueOf(Math.max(0, current - archived - 1)) : ready;
	}

	/**
	 * The segments marked ready to archive (pg_ls_archive_statusdir(): pg_monitor's, or a superuser's, or granted),
	 * null when the role may not list them: a query that fails on the privilege would end the transaction.
	 */
	private static Long readyCount(Connection connection) throws SQLException {
		try (Statement statement = connection.createStatement();
				ResultSet row = statement.executeQuery(READY_PERMITTED)) {
			row.next();
			if (!row.getBoolean(1)) {
				return null;
			}
		}
		try (Statement statement = connection.createStatement(); ResultSet row = statement.executeQuery(READY)) {
			row.next();
			return row.getLong(1);
		}
	}

	/**
	 * The number of the segment a WAL file name names (that of a .partial or .backup file too), counted from the start
	 * of WAL as pg_current_wal_lsn() / wal_segment_size counts; null for another name (a timeline's .history) or none.
	 */
	static Long segmentNumber(String walFile, long segmentBytes) {
		Matcher segment = (walFile == null) ? null : SEGMENT.matcher(walFile);
		if (segment == null || !segment.find()) {
			return null;
		}
		return Long.parseLong(segment.group(1), 16) * (0x1_0000_0000L / segmentBytes) + Long.parseLong(segment.group(2), 16);
	}

	/** Whether this server archives WAL: archive_mode on (a standby archives only with always). */
	boolean archiving() {
		return "always".equals(this.archiveMode) || ("on".equals(this.archiveMode) && !this.inRecovery);
	}

	/** A failure since the last success: the archiver is failing now, retrying the same segment. */
	boolean failing() {
		return this.lastFailedTime != null && (this.lastArchivedTime == null || this.lastFailedTime.isAfter(this.lastArchivedTime));
	}

	/**
	 * How long the archiver has made no progress while a finished segment waits: the time since the last segment
	 * archived (or since the statistics were reset) when one does, else 0. None archived since the reset, a segment
	 * waits when the archiver has failed.
	 */
	Duration lag() {
		boolean waiting = (this.pending != null) ? this.pending > 0 : failing();
		Instant since = (this.lastArchivedTime != null) ? this.lastArchivedTime : this.statsReset;
		return (waiting && since != null) ? Duration.between(since, this.now) : Duration.ZERO;
	}

	/**
	 * WAL archiving that cannot work while physical backups are configured ({@code stanza}, null when not): archive_mode
	 * off on a primary (without a stanza that is a choice, left UNKNOWN), or archiving that does not go through
	 * pgBackRest's archive-push into that stanza ({@link ArchivePush}): the server counts segments archived by the
	 * command's exit code alone, so one that archives elsewhere, or whose failure the shell hides, keeps
	 * pg_stat_archiver looking sound while nothing reaches the repository. Null when none of these, or when no stanza
	 * is configured, or the role may not see archive_command.
	 */
	String disabled(String stanza) {
		if (stanza == null) {
			return null;
		}
		// a standby's primary archives (a standby archives only with always): not this server's to judge
		if ("off".equals(this.archiveMode) && !this.inRecovery) {
			return ARCHIVE_MODE_OFF.formatted(this.archiveMode, stanza);
		}
		if (!archiving() || this.archiveCommand == null) {
			return null;
		}
		String problem = ArchivePush.problem(this.archiveCommand, this.archiveLibrary, stanza);
		return problem == null ? null : NOT_PUSHED.formatted(stanza, problem);
	}

	/** How long finished segments may wait with nothing archived: twice archive_timeout, or a bound when it is 0. */
	long behindAfterSeconds() {
		return this.archiveTimeoutSeconds > 0 ? 2 * this.archiveTimeoutSeconds : BEHIND_WITHOUT_TIMEOUT_SECONDS;
	}

	/** Nothing archived for longer than {@link #behindAfterSeconds()} while a finished segment waits. */
	boolean behind() {
		return lag().toSeconds() > behindAfterSeconds();
	}

	/** What is wrong, one reason each, empty when archiving works. */
	List<String> problems() {
		List<String> problems = new ArrayList<>();
		if (failing()) {
			problems.add(FAILING.formatted(this.lastFailedTime, this.lastFailedWal, lastArchived()));
		}
		if (behind()) {
			problems.add(BEHIND.formatted(lag().toSeconds(), behindAfterSeconds(),
					this.archiveTimeoutSeconds > 0 ? TWICE_TIMEOUT : NO_TIMEOUT,
					this.pending == null ? "some" : this.pending, lastArchived()));
		}
		return problems;
	}

	private String lastArchived() {
		return this.lastArchivedWal == null ? "none since " + this.statsReset
				: this.lastArchivedWal + " at " + this.lastArchivedTime;
	}

	private static Instant instant(Timestamp timestamp) {
		return timestamp == null ? null : timestamp.toInstant();
	}

	/** The role may not read the archiver's state; the message names the GRANT that lets it. */
	static final class CannotRead extends SQLException {

		CannotRead(String message, SQLException cause) {
			super(message, INSUFFICIENT_PRIVILEGE, cause);
		}

	}

}
