package dev.pgbatch.backup;

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
import java.util.regex.Pattern;

import javax.sql.DataSource;

import dev.pgbatch.core.UsageException;

import org.springframework.stereotype.Component;

/**
 * Restore points (bin/etl backup point NAME, and the point each physical backup ends with): PostgreSQL's restore
 * point NAME, with the exact row count of every managed table at it recorded in etl.restore_point(_count). Exact:
 * in one transaction the tables are locked in SHARE mode (no insert, update, delete or truncate passes it; a write
 * already under way is waited for, at most ETL_BACKUP_POINT_LOCK_TIMEOUT), counted, and the point is made before the
 * commit releases them. A write waiting on the locks commits after the point's WAL record, so it is in neither the
 * counts nor a restore to the point; one committed before the locks were granted is in both.
 */
@Component
public class RestorePoints {

	static final String BAD_NAME = "restore point name '%s': 1 to 63 letters, digits, '.', '_' or '-', starting with a"
			+ " letter or digit";

	static final String TAKEN = "restore point %s exists already (etl.restore_point): give another name";

	static final String TABLES_CHANGED = "the managed tables changed (one created or dropped) while restore point %s was"
			+ " being made: nothing was made; try again";

	static final String LOCK_TIMEOUT = "restore point %s: a managed table stayed locked by another session for %d ms"
			+ " (ETL_BACKUP_POINT_LOCK_TIMEOUT): nothing was made; %s";

	static final String NOT_GRANTED = "restore point %s: the runner's role may not create restore points: as a superuser,"
			+ " GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO %s; nothing was made";

	private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

	/** Outside the system schemas, etl and extensions: the condition on pg_class c and pg_namespace n. */
	private static final String MANAGED_SCHEMAS = """
			n.nspname NOT IN ('pg_catalog', 'information_schema', 'etl') AND n.nspname NOT LIKE 'pg\\_%'
			  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
			                  AND d.deptype = 'e')""";

	/**
	 * The managed tables: every plain table outside the system schemas and extensions, as a logical backup counts
	 * them, but the runner's own schema etl (its jobs' bookkeeping, which they write while they run: locking it would
	 * stall them, and it is not data a restore is checked on).
	 */
	private static final String MANAGED_TABLES = """
			SELECT format('%I.%I', n.nspname, c.relname)
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind = 'r' AND """ + " " + MANAGED_SCHEMAS + " ORDER BY 1";

	/**
	 * The LOCK statement of the managed tables and the partitioned tables above them, by oid, names quoted by
	 * format('%I') from the catalogue; a partitioned table locks its partitions with it, as pg_dump's LOCK does.
	 */
	private static final String LOCK_IN_DUMP_ORDER = """
			SELECT 'LOCK TABLE ' || string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY c.oid) || ' IN SHARE MODE'
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r', 'p') AND """ + " " + MANAGED_SCHEMAS;

	/**
	 * Nothing was made, and a later try may succeed: a managed table stayed locked past ETL_BACKUP_POINT_LOCK_TIMEOUT,
	 * a deadlock, or a table created or dropped meanwhile (the nightly's rollover or archive).
	 */
	static final class TryAgain extends IllegalStateException {

		TryAgain(String message, Throwable cause) {
			super(message, cause);
		}

	}

	/** A point made: where it is in the WAL, when, and each managed table's rows at it (by quoted name). */
	public record Point(String name, String lsn, Instant createdAt, Map<String, Long> counts) {
	}

	private final DataSource dataSource;

	private final Duration lockTimeout;

	RestorePoints(DataSource dataSource, BackupProperties properties) {
		this.dataSource = dataSource;
		this.lockTimeout = properties.pointLockTimeout();
	}

	/** Why NAME cannot be a restore point's name, or null. */
	public static String problemWithName(String name) {
		return NAME.matcher(name).matches() ? null : BAD_NAME.formatted(name.replaceAll("\\p{Cntrl}", "?"));
	}

	/**
	 * Makes restore point NAME with the counts; {@code backupLabel}: the pgBackRest set it ends, or null. A bad or
	 * taken name is a UsageException, and nothing is written.
	 */
	public Point create(String name, String backupLabel) {
		String problem = problemWithName(name);
		if (problem != null) {
			throw new UsageException(problem);
		}
		try (Connection connection = this.dataSource.getConnection()) {
			connection.setAutoCommit(false);
			try {
				Point point = create(connection, name, backupLabel);
				connection.commit();
				return point;
			}
			catch (SQLException | RuntimeException ex) {
				connection.rollback();
				throw ex;
			}
		}
		catch (SQLException ex) {
			throw failure(name, ex, this.lockTimeout);
		}
	}

	/**
	 * {@code create}'s failure {@code ex}: a lock timeout (55P03), a deadlock (40P01) or a table dropped between
	 * its listing and its lock (42P01) is a {@link TryAgain}.
	 */
	static IllegalStateException failure(String name, SQLException ex, Duration lockTimeout) {
		return switch (String.valueOf(ex.getSQLState())) {
			case "55P03" -> new TryAgain(LOCK_TIMEOUT.formatted(name, lockTimeout.toMillis(), ex.getMessage()), ex);
			case "40P01", "42P01" -> new TryAgain("restore point " + name + ": " + ex.getMessage(), ex);
			default -> new IllegalStateException("restore point " + name + ": " + ex.getMessage(), ex);
		};
	}

	/**
	 * Why the runner's role cannot create restore points (it lacks EXECUTE on pg_create_restore_point: the
	 * superuser's GRANT to give, as {@link #create} refuses), or null when it can.
	 */
	public String cannotCreate(String name) {
		try (Connection connection = this.dataSource.getConnection(); Statement statement = connection.createStatement()) {
			return notGranted(statement, name);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("restore point " + name + ": " + ex.getMessage(), ex);
		}
	}

	private static String notGranted(Statement statement, String name) throws SQLException {
		try (ResultSet granted = statement.executeQuery("SELECT has_function_privilege("
				+ "'pg_catalog.pg_create_restore_point(text)', 'EXECUTE'), quote_ident(current_user)")) {
			granted.next();
			return granted.getBoolean(1) ? null : NOT_GRANTED.formatted(name, granted.getString(2));
		}
	}

	/** Whether a point of that name is recorded. */
	public boolean exists(String name) {
		try (Connection connection = this.dataSource.getConnection();
				PreparedStatement statement = connection.prepareStatement("SELECT 1 FROM etl.restore_point WHERE name = ?")) {
			statement.setString(1, name);
			try (ResultSet rs = statement.executeQuery()) {
				return rs.next();
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read etl.restore_point: " + ex.getMessage(), ex);
		}
	}

	/** Point NAME as recorded (its counts left out), if it is. */
	public java.util.Optional<Point> recorded(String name) {
		try (Connection connection = this.dataSource.getConnection();
				PreparedStatement statement = connection
					.prepareStatement("SELECT name, lsn::text, created_at FROM etl.restore_point WHERE name = ?")) {
			statement.setString(1, name);
			try (ResultSet rs = statement.executeQuery()) {
				return rs.next() ? java.util.Optional.of(new Point(rs.getString(1), rs.getString(2),
						rs.getTimestamp(3).toInstant(), Map.of())) : java.util.Optional.empty();
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read etl.restore_point: " + ex.getMessage(), ex);
		}
	}

	private Point create(Connection connection, String name, String backupLabel) throws SQLException {
		try (Statement statement = connection.createStatement()) {
			statement.execute("SET LOCAL lock_timeout = " + this.lockTimeout.toMillis());
			String notGranted = notGranted(statement, name);
			if (notGranted != null) {
				throw new IllegalStateException(notGranted);
			}
			// the name first: a taken one fails here, before PostgreSQL's point (whose names need not be unique)
			try (PreparedStatement taken = connection.prepareStatement(
					"INSERT INTO etl.restore_point (name, lsn, created_at, backup_label) VALUES (?, '0/0', now(), ?)"
							+ " ON CONFLICT (name) DO NOTHING")) {
				taken.setString(1, name);
				taken.setString(2, backupLabel);
				if (taken.executeUpdate() == 0) {
					throw new UsageException(TAKEN.formatted(name));
				}
			}
			List<String> tables = managedTables(statement);
			if (!tables.isEmpty()) {
				// in pg_dump's order (by oid, each partitioned table with its partitions), as seed-data takes its
				// locks too: in another order a point and a seed could each hold what the other waits for
				try (ResultSet lock = statement.executeQuery(LOCK_IN_DUMP_ORDER)) {
					lock.next();
					statement.execute(lock.getString(1));
				}
			}
			// a table created before the locks were all granted would be left out: none may have been
			if (!managedTables(statement).equals(tables)) {
				throw new TryAgain(TABLES_CHANGED.formatted(name), null);
			}
			Map<String, Long> counts = counts(statement, tables);
			String lsn;
			Instant createdAt;
			try (PreparedStatement point = connection.prepareStatement(
					"UPDATE etl.restore_point SET lsn = pg_create_restore_point(?), created_at = clock_timestamp()"
							+ " WHERE name = ? RETURNING lsn::text, created_at")) {
				point.setString(1, name);
				point.setString(2, name);
				try (ResultSet rs = point.executeQuery()) {
					rs.next();
					lsn = rs.getString(1);
					createdAt = rs.getTimestamp(2).toInstant();
				}
			}
			try (PreparedStatement insert = connection.prepareStatement(
					"INSERT INTO etl.restore_point_count (point, table_name, row_count) VALUES (?, ?, ?)")) {
				for (Map.Entry<String, Long> count : counts.entrySet()) {
					insert.setString(1, name);
					insert.setString(2, count.getKey());
					insert.setLong(3, count.getValue());
					insert.addBatch();
				}
				insert.executeBatch();
			}
			return new Point(name, lsn, createdAt, counts);
		}
	}

	/** Each table's rows, by the quoted names {@link #managedTables(Statement)} gives. */
	static Map<String, Long> counts(Statement statement, List<String> tables) throws SQLException {
		Map<String, Long> counts = new LinkedHashMap<>();
		for (String table : tables) {
			try (ResultSet rs = statement.executeQuery("SELECT count(*) FROM " + table)) {
				rs.next();
				counts.put(table, rs.getLong(1));
			}
		}
		return counts;
	}

	/** The managed tables, quoted by format('%I.%I') from the catalogue, in name order. */
	static List<String> managedTables(Statement statement) throws SQLException {
		List<String> tables = new ArrayList<>();
		try (ResultSet rs = statement.executeQuery(MANAGED_TABLES)) {
			while (rs.next()) {
				tables.add(rs.getString(1));
			}
		}
		return tables;
	}

}
