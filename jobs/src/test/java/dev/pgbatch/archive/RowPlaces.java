package dev.pgbatch.archive;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedObjects;
import dev.pgbatch.store.CountingHashingOutputStream;
import org.postgresql.PGConnection;
import tools.jackson.databind.json.JsonMapper;

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

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** Each row's places (a table or an object key), and what is wrong with the segments themselves. */
	public final Map<String, List<String>> places = new HashMap<>();

	public final List<String> problems = new ArrayList<>();

	private RowPlaces() {
	}

	/** Every completed segment read whole. */
	public static RowPlaces now(JdbcTemplate jdbc, ObjectStore store, Path keyset) throws SQLException {
		return now(jdbc, new ColdSegments(store, keyset), true);
	}

	/**
	 * PostgreSQL read whole; a segment {@code segments} read before only looked at in a listing of the store,
	 * unless {@code reread}.
	 */
	public static RowPlaces now(JdbcTemplate jdbc, ColdSegments segments, boolean reread) throws SQLException {
		RowPlaces now = new RowPlaces();
		for (String table : tables(jdbc)) {
			rowsOf(jdbc, table).forEach(row -> now.add(row, table));
		}
		segments.place(jdbc, now, reread, true);
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

	/**
	 * A multiset of row keys as their count and the sum of a 64-bit hash of each (the first half of its MD5):
	 * equal digests mean the same rows, each as often, but for a hash collision. Cheap to take every step;
	 * where digests differ, {@link #now} says which rows.
	 */
	public record Digest(long count, BigInteger sum) {

		public static final Digest NONE = new Digest(0, BigInteger.ZERO);

		public static Digest of(Collection<String> rows) {
			BigInteger sum = BigInteger.ZERO;
			for (String row : rows) {
				sum = sum.add(hash(row));
			}
			return new Digest(rows.size(), sum);
		}

		public Digest plus(Digest other) {
			return new Digest(this.count + other.count, this.sum.add(other.sum));
		}

		public Digest minus(Digest other) {
			return new Digest(this.count - other.count, this.sum.subtract(other.sum));
		}

		private static BigInteger hash(String row) {
			try {
				byte[] md5 = MessageDigest.getInstance("MD5").digest(row.getBytes(StandardCharsets.UTF_8));
				return BigInteger.valueOf(ByteBuffer.wrap(md5).getLong());
			}
			catch (NoSuchAlgorithmException ex) {
				throw new IllegalStateException(ex);
			}
		}

		/** The same, of a query's keys in PostgreSQL ({@code keys} selects them as column k). */
		static Digest in(JdbcTemplate jdbc, String keys) {
			return jdbc.queryForObject("SELECT count(*), coalesce(sum(('x' || left(md5(k), 16))::bit(64)::bigint), 0)"
					+ " FROM (" + keys + ") keys", (rs, i) -> new Digest(rs.getLong(1), rs.getBigDecimal(2).toBigInteger()));
		}

	}

	/**
	 * The digest of every row in PostgreSQL and in every completed segment (as {@link #now} finds them, but
	 * counted in the database), and what is wrong with the segments, into {@code problems}. Segments read
	 * before are looked at in the store only if {@code look}: nothing but a request to the store changes them.
	 */
	public static Digest digest(JdbcTemplate jdbc, ColdSegments segments, boolean look, List<String> problems)
			throws SQLException {
		RowPlaces cold = new RowPlaces();
		Digest digest = Digest.in(jdbc, String.join(" UNION ALL ", tables(jdbc).stream()
			.map(table -> "SELECT " + KEY + " AS k FROM " + table).toList()));
		digest = digest.plus(segments.place(jdbc, cold, false, look));
		problems.addAll(cold.problems);
		return digest;
	}

	private void add(String row, String place) {
		this.places.computeIfAbsent(row, r -> new ArrayList<>()).add(place);
	}

	/**
	 * The completed cold segments of ops.task_executions and their rows. A segment's object is never replaced,
	 * so each is read whole once: downloaded, its stored bytes matched with the size and SHA-256 the archive
	 * log records, authenticated, loaded into a scratch table and counted, and its manifest authenticated and
	 * matched. Later looks at it need one listing of the store: its object still there with the size the log
	 * records, its manifest beside it. A reread reads every segment whole again, which also catches an object
	 * replaced by one of the same size.
	 */
	public static final class ColdSegments {

		private final ObjectStore store;

		private final SealedObjects objects;

		/** The rows of each segment read whole, by its log's record of it: object key, checksum, bytes. */
		private final Map<String, List<String>> read = new HashMap<>();

		private final Map<String, Digest> digests = new HashMap<>();

		private int reads;

		public ColdSegments(ObjectStore store, Path keyset) {
			this.store = store;
			this.objects = new SealedObjects(store, Keyset.load(keyset));
		}

		/** How many segments were read whole so far (counting rereads). */
		public int reads() {
			return this.reads;
		}

		private record Logged(String key, long rows, long bytes, String checksum) {

			String id() {
				return this.key + " " + this.checksum + " " + this.bytes;
			}

			/** The folder of the table's segments: one listing covers them all. */
			String folder() {
				return this.key.substring(0, this.key.lastIndexOf('/', this.key.lastIndexOf('/') - 1) + 1);
			}

		}

		/**
		 * Adds the rows of the completed segments to {@code now}'s places (unless it is only to count them), and
		 * their problems; returns the digest of their rows.
		 */
		private Digest place(JdbcTemplate jdbc, RowPlaces now, boolean reread, boolean look) throws SQLException {
			List<Logged> logged = jdbc.query("SELECT object_key, row_count, bytes, checksum FROM ops.archive_log"
					+ " WHERE table_name = ? AND tier = 'cold' AND status = 'completed' ORDER BY object_key",
					(rs, i) -> new Logged(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4)), TABLE);
			Map<String, Integer> exports = new HashMap<>();
			logged.forEach(segment -> exports.merge(segment.key(), 1, Integer::sum));
			exports.forEach((key, count) -> {
				if (count > 1) {
					now.problems.add("object " + key + " is the segment of " + count
							+ " completed exports: the later replaced the earlier");
				}
			});
			if (reread) {
				this.read.clear();
				this.digests.clear();
			}
			List<Logged> unread = logged.stream().filter(segment -> !this.read.containsKey(segment.id())).toList();
			if (!unread.isEmpty()) {
				readWhole(unread, now);
			}
			Map<String, Map<String, Long>> listings = new HashMap<>();
			Digest digest = Digest.NONE;
			for (Logged segment : logged) {
				List<String> rows = this.read.get(segment.id());
				if (rows == null) {
					continue;
				}
				if (look) {
					Map<String, Long> listed = listings.computeIfAbsent(segment.folder(), this::sizes);
					Long size = listed.get(segment.key());
					if (size == null || size != segment.bytes()) {
						now.problems.add("segment " + segment.key() + (size == null ? " is gone from the store"
								: " is " + size + " bytes in the store, its log says " + segment.bytes()));
					}
					if (!listed.containsKey(ColdObjectKeys.manifestOf(segment.key()))) {
						now.problems.add("segment " + segment.key() + " has no manifest");
					}
				}
				rows.forEach(row -> now.add(row, segment.key()));
				digest = digest.plus(this.digests.get(segment.id()));
			}
			return digest;
		}

		private Map<String, Long> sizes(String folder) {
			Map<String, Long> sizes = new HashMap<>();
			this.store.list(folder).forEach(object -> sizes.put(object.key(), object.size()));
			return sizes;
		}

		/** Segments read whole into a scratch table; those that pass are remembered with their rows. */
		private void readWhole(List<Logged> segments, RowPlaces now) throws SQLException {
			try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
				statement.execute("CREATE TEMP TABLE cold_segment (LIKE ops.task_executions)");
				for (Logged segment : segments) {
					this.reads++;
					String problem = problem(segment);
					if (problem != null) {
						now.problems.add("segment " + segment.key() + " " + problem);
						continue;
					}
					statement.execute("TRUNCATE cold_segment");
					CountingHashingOutputStream stored = new CountingHashingOutputStream(OutputStream.nullOutputStream());
					try (InputStream in = this.objects.open(segment.key(), stored)) {
						connection.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY cold_segment FROM STDIN", in);
					}
					catch (IOException | SQLException | RuntimeException ex) {
						now.problems.add("segment " + segment.key() + " does not read back: " + ex.getMessage());
						continue;
					}
					if (stored.bytes() != segment.bytes() || !("sha256:" + stored.sha256()).equals(segment.checksum())) {
						now.problems.add("segment " + segment.key() + " is not the object its log records: " + stored.bytes()
								+ " bytes, sha256:" + stored.sha256() + "; log: " + segment.bytes() + " bytes, " + segment.checksum());
						continue;
					}
					List<String> rows = new ArrayList<>();
					try (ResultSet result = statement.executeQuery("SELECT " + KEY + " FROM cold_segment")) {
						while (result.next()) {
							rows.add(result.getString(1));
						}
					}
					if (rows.size() != segment.rows()) {
						now.problems.add("segment " + segment.key() + " holds " + rows.size() + " rows, its log says "
								+ segment.rows());
						continue;
					}
					this.read.put(segment.id(), rows);
					this.digests.put(segment.id(), Digest.of(rows));
				}
			}
		}

		/** What is wrong with the segment's manifest: it must authenticate and name the segment's object and rows. */
		private String problem(Logged segment) {
			String key = ColdObjectKeys.manifestOf(segment.key());
			if (!this.store.exists(key)) {
				return "has no manifest";
			}
			Manifest manifest;
			try (InputStream in = this.objects.open(key)) {
				manifest = JSON.readValue(in.readAllBytes(), Manifest.class);
			}
			catch (IOException | RuntimeException ex) {
				return "has a manifest that does not read back: " + ex.getMessage();
			}
			if (!manifest.objectKey().equals(segment.key()) || manifest.rows() != segment.rows()
					|| manifest.objectBytes() != segment.bytes()
					|| !("sha256:" + manifest.objectSha256()).equals(segment.checksum())) {
				return "has a manifest that does not match its log: " + manifest;
			}
			return null;
		}

	}

}
