package dev.pgbatch.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.crypto.AuthenticationFailedException;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.partition.PartitionLock;
import dev.pgbatch.partition.PartitionPolicy;
import dev.pgbatch.partition.PartitionProperties;
import dev.pgbatch.partition.PartitionedTable;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedObjects;
import dev.pgbatch.store.Tally;
import dev.pgbatch.store.TeeInputStream;
import org.postgresql.PGConnection;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** What archive put in the object store, and bringing a partition back from it. */
@Component
public class ArchivedPartitions {

	static final String NOT_ARCHIVED = "%s %s has no completed cold archive (see: etl archive list)";

	static final String PRESENT = "%s.%s exists and is not a partition of %s: nothing restored";

	static final String OTHER_PARTITION = "%s: the interval of %s is held by partition %s: nothing restored";

	static final String STAGED = "%s: partition-rollover is moving rows of this interval into %s; run partition-rollover first";

	static final String MANIFEST_UNREADABLE = "%s: the manifest cannot be used: %s; nothing restored";

	static final String MANIFEST_DIFFERS = "%s: the manifest does not match the archive log (%s); nothing restored";

	static final String OBJECT_MISMATCH = "the stored object is not the one its manifest records (%d bytes, sha256 %s; manifest: %d bytes, sha256 %s); nothing restored";

	/** The temporary table a restore loads each segment into before adding its rows. */
	private static final String RESTORING = "pgbatch_restoring";

	static final String RESTORE_MISMATCH = "%s: the object's rows do not match its manifest (%d rows, sha256 %s; manifest: %d rows, sha256 %s); nothing restored";

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** One archived step of one partition, as `archive list` prints it. */
	public record Entry(String table, String partition, OffsetDateTime rangeStart, OffsetDateTime rangeEnd, String tier,
			String status, Long rows, Long bytes, String objectKey, OffsetDateTime finishedAt) {
	}

	private final DataSource dataSource;

	private final JdbcTemplate jdbc;

	private final TransactionTemplate transactions;

	private final ObjectStore store;

	private final KeysetProperties keyset;

	private final PartitionProperties partitions;

	private final PartitionLock partitionLock;

	private final BoundedLocks locks;

	ArchivedPartitions(DataSource dataSource, JdbcTemplate jdbc, TransactionTemplate transactions, ObjectStore store,
			KeysetProperties keyset, PartitionProperties partitions, PartitionLock partitionLock,
			PlatformTransactionManager transactionManager) {
		this.partitionLock = partitionLock;
		this.locks = partitions.locks(transactionManager, jdbc);
		this.dataSource = dataSource;
		this.jdbc = jdbc;
		this.transactions = transactions;
		this.store = store;
		this.keyset = keyset;
		this.partitions = partitions;
	}

	/**
	 * Every cold segment (one per export: an interval exported again has several), and the newest other step
	 * of every partition archive moved; by partition, newest first.
	 */
	public List<Entry> list() {
		return this.jdbc.query("""
				SELECT DISTINCT ON (table_name, partition_name, object_key) table_name, partition_name, range_start,
				       range_end, tier, status, row_count, bytes, object_key, finished_at
				FROM ops.archive_log ORDER BY table_name, partition_name, object_key, started_at DESC
				""", (rs, i) -> new Entry(rs.getString(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class),
				rs.getObject(4, OffsetDateTime.class), rs.getString(5), rs.getString(6), (Long) rs.getObject(7),
				(Long) rs.getObject(8), rs.getString(9), rs.getObject(10, OffsetDateTime.class)))
			.stream()
			.sorted(Comparator.comparing(Entry::partition)
				.thenComparing(Entry::finishedAt, Comparator.nullsLast(Comparator.naturalOrder()))
				.reversed())
			.toList();
	}

	/** A cold segment archive_log records as holding rows: completed, not yet restored. */
	private record Segment(UUID id, String objectKey, String checksum, long rows, long bytes) {
	}

	/** A segment with its manifest, authenticated and matched against the segment's log row. */
	private record Checked(Segment segment, Manifest manifest) {
	}

	/**
	 * Brings every cold segment of the partition's interval back, in one transaction: each is downloaded,
	 * authenticated and checked against its manifest while it is loaded into a temporary table, its rows are
	 * added to the partition (made again, with the rows of the interval waiting in the default partition, if
	 * it is not there), and it is marked restored. A row already in the partition (same key: it came late,
	 * or by hand) is not added twice. Any failed check restores nothing. Returns the rows added.
	 */
	public long restore(String table, String partition) {
		PartitionPolicy policy;
		LocalDate start;
		try {
			policy = this.partitions.policies().select(SqlNames.checkedTable(table)).get(0);
			start = policy.startOf(partition);
		}
		catch (IllegalArgumentException ex) {
			throw new UsageException(ex.getMessage());
		}
		// one at a time with the jobs that change partitions, and with another restore of the same segments
		try (ExecutionLock.Held held = this.partitionLock.hold("archive restore")) {
			return restore(policy, start, partition);
		}
	}

	private long restore(PartitionPolicy policy, LocalDate start, String partition) {
		List<Segment> segments = this.jdbc.query("""
				SELECT archive_id, object_key, checksum, row_count, bytes FROM ops.archive_log
				WHERE table_name = ? AND partition_name = ? AND tier = 'cold' AND status = 'completed'
				ORDER BY started_at
				""", (rs, i) -> new Segment(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getLong(4),
				rs.getLong(5)), policy.table(), partition);
		if (segments.isEmpty()) {
			throw new UsageException(String.format(NOT_ARCHIVED, policy.table(), partition));
		}
		Keyset keys = this.keyset.load();
		// every manifest authenticated and checked before any statement runs
		List<String> columns = Manifest.columns(this.jdbc, policy.table());
		List<Checked> checked = segments.stream()
			.map(segment -> new Checked(segment, manifest(segment, keys, policy, partition, start, columns)))
			.toList();
		return this.transactions.execute(status -> {
			PartitionedTable parted = PartitionedTable.read(this.jdbc, policy);
			String target = this.locks.run(parted.qualified(partition), () -> partitionFor(parted, start, partition));
			// dropped at the commit, and with the rollback of a failed restore: never left behind
			this.jdbc.execute("CREATE TEMPORARY TABLE " + RESTORING + " (LIKE " + parted.parent() + ") ON COMMIT DROP");
			long added = 0;
			for (Checked segment : checked) {
				try {
					added += restore(parted, target, segment, keys);
				}
				catch (IOException | SQLException ex) {
					throw new RefusedException(segment.segment().objectKey() + ": " + ex.getMessage());
				}
			}
			return added;
		});
	}

	/**
	 * The partition of the interval, made and attached if it is not there; rows of the interval that wait in
	 * the default partition move into it first (the attach would fail on them).
	 */
	private String partitionFor(PartitionedTable parted, LocalDate start, String partition) {
		String existing = parted.partitions.get(start);
		if (existing != null) {
			if (!existing.equals(partition)) {
				throw new RefusedException(String.format(OTHER_PARTITION, parted.policy.table(), start, existing));
			}
			return parted.qualified(partition);
		}
		if (parted.staging.containsKey(start)) {
			throw new RefusedException(String.format(STAGED, parted.policy.table(), parted.staging.get(start)));
		}
		String qualified = parted.qualified(partition);
		if (this.jdbc.queryForObject("SELECT to_regclass(?)", String.class, parted.policy.schema() + "." + partition) != null) {
			throw new RefusedException(String.format(PRESENT, parted.policy.schema(), partition, parted.policy.table()));
		}
		// the parent before the default, in the order every job here takes them (and the attach does)
		this.jdbc.execute("LOCK TABLE " + parted.parent() + " IN SHARE UPDATE EXCLUSIVE MODE");
		this.jdbc.execute("CREATE TABLE " + qualified + " (LIKE " + parted.parent()
				+ " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)");
		if (parted.defaultPartition != null) {
			this.jdbc.update("WITH moved AS (DELETE FROM " + parted.qualified(parted.defaultPartition) + " WHERE "
					+ parted.within(start) + " RETURNING *) INSERT INTO " + qualified + " (" + parted.columnList()
					+ ") SELECT " + parted.columnList() + " FROM moved");
		}
		// bounds from the interval, typed: nothing read from the store reaches the statement
		this.jdbc.execute("ALTER TABLE " + parted.parent() + " ATTACH PARTITION " + qualified + " FOR VALUES FROM ("
				+ parted.literal(start) + ") TO (" + parted.literal(parted.policy.interval().plus(start, 1)) + ")");
		return qualified;
	}

	/**
	 * One segment into the partition, checked against its manifest: the object as stored (key, size,
	 * SHA-256: an older export of the interval, or another segment's object, put under this key does not
	 * pass) and the rows as read. Marked restored. Returns the rows added.
	 */
	private long restore(PartitionedTable parted, String target, Checked checked, Keyset keys)
			throws IOException, SQLException {
		Segment segment = checked.segment();
		Manifest manifest = checked.manifest();
		this.jdbc.execute("TRUNCATE " + RESTORING);
		RowDigest read = new RowDigest(OutputStream.nullOutputStream());
		Tally stored = new Tally(OutputStream.nullOutputStream());
		Connection connection = DataSourceUtils.getConnection(this.dataSource);
		try (InputStream in = new SealedObjects(this.store, keys).open(segment.objectKey(), stored);
				InputStream tee = new TeeInputStream(in, read)) {
			connection.unwrap(PGConnection.class)
				.getCopyAPI()
				.copyIn("COPY " + RESTORING + " (" + parted.columnList() + ") FROM STDIN", tee);
		}
		catch (SQLException ex) {
			// the COPY reports the stream's failure as its own: say what it was
			if (ex.getCause() instanceof AuthenticationFailedException authentication) {
				throw authentication;
			}
			throw ex;
		}
		if (stored.bytes() != manifest.objectBytes() || !stored.sha256().equals(manifest.objectSha256())) {
			throw new IOException(String.format(OBJECT_MISMATCH, stored.bytes(), stored.sha256(), manifest.objectBytes(),
					manifest.objectSha256()));
		}
		if (read.rows() != manifest.rows() || !read.sha256().equals(manifest.rowsSha256())) {
			throw new IOException(String.format(RESTORE_MISMATCH, segment.objectKey(), read.rows(), read.sha256(),
					manifest.rows(), manifest.rowsSha256()));
		}
		// a row already there (same key) stays as it is: none is doubled
		long added = this.jdbc.update("INSERT INTO " + target + " (" + parted.columnList() + ") SELECT "
				+ parted.columnList() + " FROM " + RESTORING + " ON CONFLICT DO NOTHING");
		this.jdbc.update("UPDATE ops.archive_log SET status = 'restored', restored_at = clock_timestamp() WHERE archive_id = ?",
				segment.id());
		return added;
	}

	/**
	 * The segment's manifest, authenticated with the keyset (sealed under its own key: edited, cut, or moved
	 * from another key, it does not open), then matched field by field against the segment's log row, the
	 * interval asked for and the table's columns now. Refused before anything is written otherwise.
	 */
	private Manifest manifest(Segment segment, Keyset keys, PartitionPolicy policy, String partition, LocalDate start,
			List<String> columns) {
		String key = Archiving.manifestKey(segment.objectKey());
		Manifest manifest;
		try (InputStream in = new SealedObjects(this.store, keys).open(key)) {
			manifest = JSON.readValue(in.readAllBytes(), Manifest.class);
		}
		catch (IOException | RuntimeException ex) {
			throw new RefusedException(String.format(MANIFEST_UNREADABLE, key, ex.getMessage()));
		}
		LocalDate end = policy.interval().plus(start, 1);
		List<String> differences = new ArrayList<>();
		differ(differences, "table", manifest.table(), policy.table());
		differ(differences, "partition", manifest.partition(), partition);
		differ(differences, "range start", manifest.rangeStart(), start + " 00:00:00+00");
		differ(differences, "range end", manifest.rangeEnd(), end + " 00:00:00+00");
		differ(differences, "object key", manifest.objectKey(), segment.objectKey());
		differ(differences, "object sha256", "sha256:" + manifest.objectSha256(), segment.checksum());
		differ(differences, "object bytes", manifest.objectBytes(), segment.bytes());
		differ(differences, "rows", manifest.rows(), segment.rows());
		differ(differences, "columns", manifest.columns(), columns);
		if (!differences.isEmpty()) {
			throw new RefusedException(String.format(MANIFEST_DIFFERS, key, String.join("; ", differences)));
		}
		return manifest;
	}

	private static void differ(List<String> differences, String field, Object manifest, Object expected) {
		if (!expected.equals(manifest)) {
			differences.add(field + " " + manifest + ", not " + expected);
		}
	}

}
