package dev.pgbatch.backup;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import dev.pgbatch.core.OneLine;

/**
 * Every table's exact row count, as a backup's manifest records them (in the dump's own snapshot) and as a
 * restore compares them.
 */
final class TableCounts {

	/** The tables pg_dump dumps the rows of: every plain table outside the system schemas and extensions. */
	private static final String USER_TABLES = """
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
			""";

	/**
	 * Every listed table, one row per inheritance descendant whose rows pg_dump dumps (children's children too, each
	 * once; not temporary ones, which pg_dump skips; not foreign tables, whose rows are elsewhere; not an extension's
	 * tables, but for the configuration tables it dumps whole: pg_extension_config_dump with no condition), or one row
	 * without: ordered by the table.
	 */
	private static final String LISTED_WITH_DESCENDANTS = """
			WITH RECURSIVE listed AS (SELECT c.oid, n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) AS quoted
			""" + USER_TABLES + """
			), descendants (ancestor, oid) AS (
			  SELECT i.inhparent, i.inhrelid FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid AND c.relpersistence <> 't'
			  WHERE i.inhparent IN (SELECT oid FROM listed)
			  UNION
			  SELECT d.ancestor, i.inhrelid FROM descendants d JOIN pg_inherits i ON i.inhparent = d.oid
			    JOIN pg_class c ON c.oid = i.inhrelid AND c.relpersistence <> 't'
			), dumped AS (
			  SELECT d.ancestor, c.oid, n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) AS quoted
			  FROM descendants d JOIN pg_class c ON c.oid = d.oid JOIN pg_namespace n ON n.oid = c.relnamespace
			  WHERE c.relkind <> 'f' AND NOT EXISTS (SELECT 1 FROM pg_depend x JOIN pg_extension e ON e.oid = x.refobjid
			      WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.refclassid = 'pg_extension'::regclass
			        AND x.deptype = 'e'
			        AND NOT EXISTS (SELECT 1 FROM unnest(e.extconfig, e.extcondition) AS config (oid, condition)
			          WHERE config.oid = c.oid AND coalesce(config.condition, '') = ''))
			)
			SELECT l.nspname, l.relname, l.quoted, d.nspname, d.relname, l.oid, d.quoted
			FROM listed l LEFT JOIN dumped d ON d.ancestor = l.oid
			ORDER BY l.quoted, l.oid
			""";

	/** What pg_export_snapshot() returns (00000003-0000001B-1): checked before it goes into SET TRANSACTION SNAPSHOT. */
	private static final Pattern SNAPSHOT_ID = Pattern.compile("[0-9A-F]+(-[0-9A-F]+)+");

	private TableCounts() {
	}

	/**
	 * A table pg_dump dumps the rows of, as the catalogue names it, and quoted: the key of its count; with the
	 * inheritance descendants whose rows pg_dump dumps, which its count holds as count(*) of a plain parent does.
	 */
	record Listed(DumpRowCounts.Table table, String quoted, List<Descendant> descendants) {
	}

	/** An inheritance descendant pg_dump dumps the rows of, as the catalogue names it, and quoted. */
	record Descendant(DumpRowCounts.Table table, String quoted) {
	}

	/**
	 * Every table pg_dump dumps the rows of, in one transaction of its own, importing {@code snapshot} when
	 * given.
	 */
	static List<Listed> tables(Connection connection, String snapshot) {
		try {
			connection.setAutoCommit(false);
			return inSnapshot(connection, snapshot, statement -> {
				List<Listed> tables = new ArrayList<>();
				long last = 0;
				try (ResultSet rs = statement.executeQuery(LISTED_WITH_DESCENDANTS)) {
					while (rs.next()) {
						// a table's rows follow each other; by its oid, so that two tables named alike stay two
						if (tables.isEmpty() || rs.getLong(6) != last) {
							last = rs.getLong(6);
							tables.add(new Listed(new DumpRowCounts.Table(rs.getString(1), rs.getString(2)), rs.getString(3),
									new ArrayList<>()));
						}
						if (rs.getString(4) != null) {
							tables.get(tables.size() - 1).descendants()
								.add(new Descendant(new DumpRowCounts.Table(rs.getString(4), rs.getString(5)), rs.getString(7)));
						}
					}
				}
				return tables;
			});
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot count the rows: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Every table's exact row count, by its quoted name as the catalogue spells it, as a manifest counts it: its own
	 * rows and those of the descendants pg_dump dumps, each read ONLY (a foreign descendant is never read, and a
	 * manifest made before foreign descendants were left out, where the two are equal, compares as well as count(*));
	 * each table counted in a transaction of its own, importing {@code snapshot} when given, so no more than one table
	 * and its descendants are locked at a time.
	 */
	static Map<String, Long> of(Connection connection, String snapshot) {
		try {
			Map<String, Long> counts = new TreeMap<>();
			for (Listed table : tables(connection, snapshot)) {
				counts.put(table.quoted(), inSnapshot(connection, snapshot, statement -> {
					// the names come from the catalogue, quoted by format('%I')
					StringBuilder sum = new StringBuilder("SELECT (SELECT count(*) FROM ONLY " + table.quoted() + ")");
					for (Descendant descendant : table.descendants()) {
						sum.append(" + (SELECT count(*) FROM ONLY ").append(descendant.quoted()).append(')');
					}
					try (ResultSet rs = statement.executeQuery(sum.toString())) {
						rs.next();
						return rs.getLong(1);
					}
				}));
			}
			return counts;
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot count the rows: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Every listed table's row count as {@link #of} reads it, from the rows a dump holds (DumpRowCounts): its own
	 * and its dumped descendants', by its quoted name; fails when the dump holds no data of one of them, or when two
	 * tables go by one name.
	 */
	static Map<String, Long> inDump(List<Listed> tables, Map<DumpRowCounts.Table, Long> dumped) throws IOException {
		Set<DumpRowCounts.Table> named = new HashSet<>();
		for (Listed table : tables) {
			if (!named.add(table.table())) {
				throw new IOException(String.format(DumpRowCounts.SAME_NAME, OneLine.of(table.table().toString())));
			}
		}
		Map<String, Long> counts = new TreeMap<>();
		for (Listed table : tables) {
			long rows = dumpedRows(dumped, table.table());
			for (Descendant descendant : table.descendants()) {
				rows += dumpedRows(dumped, descendant.table());
			}
			counts.put(table.quoted(), rows);
		}
		return counts;
	}

	private static long dumpedRows(Map<DumpRowCounts.Table, Long> dumped, DumpRowCounts.Table table) throws IOException {
		Long rows = dumped.get(table);
		if (rows == null) {
			throw new IOException(String.format(DumpRowCounts.MISSING_DATA, OneLine.of(table.toString())));
		}
		return rows;
	}

	/** Work on a statement. */
	@FunctionalInterface
	private interface StatementWork<T> {

		T run(Statement statement) throws SQLException;

	}

	/** Runs work in a transaction of its own (in the snapshot when one is given) and ends it. */
	private static <T> T inSnapshot(Connection connection, String snapshot, StatementWork<T> work) throws SQLException {
		try (Statement statement = connection.createStatement()) {
			if (snapshot != null) {
				if (!SNAPSHOT_ID.matcher(snapshot).matches()) {
					throw new IllegalStateException("unexpected snapshot id from pg_export_snapshot()");
				}
				statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
				statement.execute("SET TRANSACTION SNAPSHOT '" + snapshot + "'");
			}
			T result = work.run(statement);
			connection.commit();
			return result;
		}
		catch (SQLException | RuntimeException ex) {
			connection.rollback();
			throw ex;
		}
	}

}
