package dev.pgbatch.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedObjects;
import org.postgresql.PGConnection;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Where each row of ops.task_executions is now: in PostgreSQL (through the parent, or in a table of ops named
 * as its partitions that is not one: a staging or detached table a job left) and in which completed cold
 * segments, each read back whole through SealedObjects (authenticated) into a scratch table. A row is named
 * by its key: "execution_id created_at-epoch-seconds".
 */
public final class RowPlaces {

	static final String TABLE = "ops.task_executions";

	private static final String KEY = "execution_id::text || ' ' || extract(epoch FROM created_at)::bigint";

	/** Each row's places (a table or an object key), and what is wrong with the segments themselves. */
	public final Map<String, List<String>> places = new HashMap<>();

	public final List<String> problems = new ArrayList<>();

	private RowPlaces() {
	}

	public static RowPlaces now(JdbcTemplate jdbc, ObjectStore store, Path keyset) throws SQLException {
		RowPlaces now = new RowPlaces();
		for (String table : tables(jdbc)) {
			rowsOf(jdbc, table).forEach(row -> now.add(row, table));
		}
		now.readSegments(jdbc, store, keyset);
		return now;
	}

	/** The rows of one table. */
	public static List<String> rowsOf(JdbcTemplate jdbc, String table) {
		return jdbc.queryForList("SELECT " + KEY + " FROM " + table, String.class);
	}

	/**
	 * No partition of ops.task_executions but the default, nothing beside it, an empty archive log: what other
	 * tests, other as-of days or killed runs left goes.
	 */
	public static void startAfresh(JdbcTemplate jdbc) {
		jdbc.execute("DO $$ DECLARE p text; BEGIN FOR p IN SELECT c.oid::regclass::text FROM pg_inherits i"
				+ " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ops.task_executions'::regclass"
				+ " AND c.relname <> 'task_executions_default' LOOP EXECUTE 'DROP TABLE ' || p; END LOOP; END $$");
		for (String table : besideTheParent(jdbc)) {
			jdbc.execute("DROP TABLE " + table);
		}
		jdbc.update("DELETE FROM ops.archive_log");
	}

	/** The parent, and the tables beside it that hold its rows outside it. */
	private static List<String> tables(JdbcTemplate jdbc) {
		List<String> tables = new ArrayList<>(List.of(TABLE));
		tables.addAll(besideTheParent(jdbc));
		return tables;
	}

	/** Tables of ops named as partitions of ops.task_executions that are not attached: staging or detached. */
	private static List<String> besideTheParent(JdbcTemplate jdbc) {
		return jdbc.queryForList("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n"
				+ " ON n.oid = c.relnamespace WHERE n.nspname = 'ops' AND c.relkind = 'r' AND NOT c.relispartition"
				+ " AND c.relname LIKE 'task\\_executions\\_p%' ORDER BY 1", String.class);
	}

	/** What is wrong: problems of the segments, then rows of {@code expected} not in exactly one place. */
	public List<String> problems(Set<String> expected) {
		List<String> found = new ArrayList<>(this.problems);
		for (String row : expected) {
			List<String> where = this.places.getOrDefault(row, List.of());
			if (where.size() != 1) {
				found.add("row " + row + (where.isEmpty() ? " is lost: in neither PostgreSQL nor a cold segment"
						: " is in " + where.size() + " places: " + where));
			}
		}
		this.places.keySet().stream().filter(row -> !expected.contains(row)).limit(5)
			.forEach(row -> found.add("row " + row + " appeared in " + this.places.get(row) + " but was never written"));
		return found;
	}

	private void add(String row, String place) {
		this.places.computeIfAbsent(row, r -> new ArrayList<>()).add(place);
	}

	private void readSegments(JdbcTemplate jdbc, ObjectStore store, Path keyset) throws SQLException {
		Map<String, Long> segments = new TreeMap<>();
		Map<String, Integer> exports = new HashMap<>();
		jdbc.query("SELECT object_key, row_count FROM ops.archive_log WHERE table_name = ? AND tier = 'cold'"
				+ " AND status = 'completed'", row -> {
					segments.put(row.getString(1), row.getLong(2));
					exports.merge(row.getString(1), 1, Integer::sum);
				}, TABLE);
		exports.forEach((key, count) -> {
			if (count > 1) {
				this.problems.add("object " + key + " is the segment of " + count
						+ " completed exports: the later replaced the earlier");
			}
		});
		SealedObjects objects = new SealedObjects(store, Keyset.load(keyset));
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			statement.execute("CREATE TEMP TABLE cold_segment (LIKE ops.task_executions)");
			for (Map.Entry<String, Long> segment : segments.entrySet()) {
				String key = segment.getKey();
				statement.execute("TRUNCATE cold_segment");
				try (InputStream in = objects.open(key)) {
					connection.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY cold_segment FROM STDIN", in);
				}
				catch (IOException | SQLException | RuntimeException ex) {
					this.problems.add("segment " + key + " does not read back: " + ex.getMessage());
					continue;
				}
				if (!store.exists(Archiving.manifestKey(key))) {
					this.problems.add("segment " + key + " has no manifest");
				}
				long count = 0;
				try (ResultSet rows = statement.executeQuery("SELECT " + KEY + " FROM cold_segment")) {
					while (rows.next()) {
						add(rows.getString(1), key);
						count++;
					}
				}
				if (count != segment.getValue()) {
					this.problems.add("segment " + key + " holds " + count + " rows, its log says " + segment.getValue());
				}
			}
		}
	}

}
