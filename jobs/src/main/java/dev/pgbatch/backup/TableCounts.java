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
	 * Every listed table, one row per inheritance descendant (children's children too, each once as count(*) reads
	 * it; not temporary ones, which pg_dump skips and count(*) reads only in their own session) with its kind and
	 * the extension it belongs to, or one row without: ordered by the table.
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
			)
			SELECT l.nspname, l.relname, l.quoted, n.nspname, c.relname, l.oid, c.relkind::text, e.extname
			FROM listed l LEFT JOIN descendants d ON d.ancestor = l.oid
			  LEFT JOIN pg_class c ON c.oid = d.oid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
			  LEFT JOIN pg_depend x ON x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.refclassid = 'pg_extension'::regclass
			    AND x.deptype = 'e'
			  LEFT JOIN pg_extension e ON e.oid = x.refobjid
			ORDER BY l.quoted, l.oid
			""";

	/**
	 * A descendant whose rows count(*) of a listed table reads and pg_dump does not dump (a foreign table's, or
	 * those of an extension's table: none, or a configuration table's filtered): the manifest's count could not
	 * hold them, and every verify of the backup would fail on that table. Refused before anything is written.
	 */
	static final String UNCOUNTED_DESCENDANT = "%s cannot be backed up: its inheritance descendant %s is %s, whose rows"
			+ " count(*) of %1$s reads and pg_dump does not dump (its backup would never verify); detach it (NO INHERIT)"
			+ " to back this database up";

	static final String FOREIGN_TABLE = "a foreign table";

	static final String EXTENSION_TABLE = "a table of extension %s";

	/** What pg_export_snapshot() returns (00000003-0000001B-1): checked before it goes into SET TRANSACTION SNAPSHOT. */
	private static final Pattern SNAPSHOT_ID = Pattern.compile("[0-9A-F]+(-[0-9A-F]+)+");

	private TableCounts() {
	}

	/**
	 * A table pg_dump dumps the rows of, as the catalogue names it, and quoted: the key of its count; with its
	 * inheritance descendants, whose rows its count(*) holds and its COPY does not, and why any of them cannot be
	 * counted from the dump ({@link #UNCOUNTED_DESCENDANT}).
	 */
	record Listed(DumpRowCounts.Table table, String quoted, List<DumpRowCounts.Table> descendants,
			List<Uncounted> uncounted) {
	}

	/** A descendant the dump cannot count, and what it is ({@link #FOREIGN_TABLE}, {@link #EXTENSION_TABLE}). */
	record Uncounted(DumpRowCounts.Table table, String kind) {
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
									new ArrayList<>(), new ArrayList<>()));
						}
						if (rs.getString(4) != null) {
							Listed table = tables.get(tables.size() - 1);
							DumpRowCounts.Table descendant = new DumpRowCounts.Table(rs.getString(4), rs.getString(5));
							String kind = "f".equals(rs.getString(7)) ? FOREIGN_TABLE
									: rs.getString(8) == null ? null : EXTENSION_TABLE.formatted(OneLine.of(rs.getString(8)));
							if (kind == null) {
								table.descendants().add(descendant);
							}
							else {
								table.uncounted().add(new Uncounted(descendant, kind));
							}
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
	 * Every table's exact row count, by its quoted name as the catalogue spells it; each table counted in a
	 * transaction of its own, importing {@code snapshot} when given, so no more than one table is locked at
	 * a time.
	 */
	static Map<String, Long> of(Connection connection, String snapshot) {
		try {
			Map<String, Long> counts = new TreeMap<>();
			for (Listed table : tables(connection, snapshot)) {
				// the name comes from the catalogue, quoted by format('%I'), not from the manifest
				counts.put(table.quoted(), inSnapshot(connection, snapshot, statement -> {
					try (ResultSet rs = statement.executeQuery("SELECT count(*) FROM " + table.quoted())) {
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
	 * Every listed table's row count as count(*) reads it, from the rows a dump holds (DumpRowCounts): its own
	 * and its descendants', by its quoted name; fails when the dump holds no data of one of them, or when two
	 * tables go by one name.
	 */
	static Map<String, Long> inDump(List<Listed> tables, Map<DumpRowCounts.Table, Long> dumped) throws IOException {
		// the check before the dump may have run before such a descendant was attached
		refuseUncounted(tables);
		Set<DumpRowCounts.Table> named = new HashSet<>();
		for (Listed table : tables) {
			if (!named.add(table.table())) {
				throw new IOException(String.format(DumpRowCounts.SAME_NAME, table.table()));
			}
		}
		Map<String, Long> counts = new TreeMap<>();
		for (Listed table : tables) {
			long rows = dumpedRows(dumped, table.table());
			for (DumpRowCounts.Table descendant : table.descendants()) {
				rows += dumpedRows(dumped, descendant);
			}
			counts.put(table.quoted(), rows);
		}
		return counts;
	}

	/** Fails naming the first listed table with a descendant the dump cannot count ({@link #UNCOUNTED_DESCENDANT}). */
	static void refuseUncounted(List<Listed> tables) throws IOException {
		for (Listed table : tables) {
			if (!table.uncounted().isEmpty()) {
				Uncounted descendant = table.uncounted().get(0);
				throw new IOException(UNCOUNTED_DESCENDANT.formatted(table.table(), descendant.table(), descendant.kind()));
			}
		}
	}

	private static long dumpedRows(Map<DumpRowCounts.Table, Long> dumped, DumpRowCounts.Table table) throws IOException {
		Long rows = dumped.get(table);
		if (rows == null) {
			throw new IOException(String.format(DumpRowCounts.MISSING_DATA, table));
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
