package dev.pgbatch.archive;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiPredicate;

import javax.sql.DataSource;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.BackgroundThreads;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.partition.PartitionPolicy;
import dev.pgbatch.partition.PartitionedTable;
import dev.pgbatch.partition.Tier;
import dev.pgbatch.store.ObjectStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The archive job's changes, one partition per call and per transaction: a partition past its hot window
 * moves to the warm tablespace; one past its warm window is exported, verified, and only then detached and
 * dropped, with its manifest beside the object. Each call reads the catalog afresh, so a restart (or the
 * next run) picks up where a killed run stopped: a partition is in PostgreSQL until the transaction that
 * drops it commits, and that transaction comes after its object was read back and matched.
 */
final class PartitionArchiver {

	private static final Logger log = LoggerFactory.getLogger(PartitionArchiver.class);

	static final String WARMED = ExecutionReport.SUMMARY + "moved-to-warm";

	static final String EXPORTED = ExecutionReport.SUMMARY + "exported-to-cold";

	/**
	 * Cold partitions exported in one transaction: the next one is read while the one before is uploaded
	 * and read back. Few: their locks are held until the commit, and each upload in flight holds a buffer.
	 */
	private static final int COLD_AT_ONCE = 4;

	static final String HELD_BACK = "{}.{}: not exported: the cold segment {} of its interval was adopted with --into-existing and is not restored yet, so a segment exported now would not supersede it, and restoring both would bring back rows deleted since; run bin/etl archive restore {} {} first (it merges that segment into the partition), and the next run exports them as one";

	/** The tier a partition is exported from: past its warm window, it is in the warm tablespace. */
	static final Tier SOURCE_TIER = Tier.WARM;

	private final DataSource dataSource;

	private final JdbcTemplate jdbc;

	private final TransactionTemplate ownTransaction;

	private final ObjectStore store;

	private final ArchiveProperties properties;

	private final KeysetProperties keyset;

	private final BoundedLocks locks;

	private final TablespaceMover tablespaces;

	PartitionArchiver(DataSource dataSource, TransactionTemplate ownTransaction, ObjectStore store,
			ArchiveProperties properties, KeysetProperties keyset, BoundedLocks locks) {
		this.keyset = keyset;
		this.locks = locks;
		this.dataSource = dataSource;
		this.jdbc = new JdbcTemplate(dataSource);
		this.tablespaces = new TablespaceMover(this.jdbc, locks);
		this.ownTransaction = ownTransaction;
		this.store = store;
		this.properties = properties;
	}

	/** Moves the next partition that belongs in the warm tablespace there; false when none is left. */
	boolean warmNext(List<PartitionPolicy> tables, LocalDate asOf, boolean dryRun, ExecutionContext counts)
			throws IOException, SQLException {
		return next(Tier.WARM, 1, tables, asOf, dryRun, counts, WARMED, "would-move-to-warm",
				(table, partition) -> !this.tablespaces.allIn(table.qualified(partition), this.properties.warmTablespace()),
				partitions -> moveToWarm(partitions.get(0)));
	}

	/** Exports, verifies and drops the next partitions past their warm window; false when none is left. */
	boolean coldNext(List<PartitionPolicy> tables, LocalDate asOf, boolean dryRun, ExecutionContext counts)
			throws IOException, SQLException {
		return next(Tier.COLD, COLD_AT_ONCE, tables, asOf, dryRun, counts, EXPORTED, "would-export-to-cold",
				(table, partition) -> !heldBack(table, partition), this::exportToCold);
	}

	/**
	 * Whether the attached partition waits for the restore of a segment of its interval adopted with
	 * --into-existing (a restored dump brought its rows back, most likely): only restored segments are named
	 * as superseded by a new export, so exported before that restore, the restore of both would bring back
	 * rows deleted since the adoption. Left alone, with a WARN, until that segment is restored or forgotten.
	 */
	private boolean heldBack(PartitionedTable table, String partition) {
		List<String> adopted = this.jdbc.queryForList("""
				SELECT object_key FROM ops.archive_log WHERE table_name = ? AND partition_name = ? AND tier = 'cold'
				  AND status = 'completed' AND error LIKE 'adopted by %' AND strpos(error, ?) > 0 ORDER BY started_at DESC
				""", String.class, table.policy.table(), partition, ArchivedPartitions.Adoption.INTO_EXISTING);
		if (adopted.isEmpty()) {
			return false;
		}
		log.warn(HELD_BACK, table.policy.schema(), partition, adopted.get(0), table.policy.table(), partition);
		return true;
	}

	/** A partition of a managed table, and the start of its range. */
	private record Partition(PartitionedTable table, LocalDate start, String name) {

		PartitionPolicy policy() {
			return this.table.policy;
		}

		LocalDate end() {
			return policy().interval().plus(this.start, 1);
		}

		String qualified() {
			return this.table.qualified(this.name);
		}

	}

	/** A change to some partitions, in one transaction. */
	@FunctionalInterface
	private interface PartitionMove {

		void apply(List<Partition> partitions) throws IOException, SQLException;

	}

	/**
	 * Makes the change to the first partitions (at most {@code atOnce}) of the tier that still need it and
	 * counts them; in a dry run counts what it would change instead. False when nothing (more) is to be done.
	 */
	private boolean next(Tier tier, int atOnce, List<PartitionPolicy> tables, LocalDate asOf, boolean dryRun,
			ExecutionContext counts, String done, String would, BiPredicate<PartitionedTable, String> pending,
			PartitionMove change) throws IOException, SQLException {
		counts.putLong(done, counts.getLong(done, 0));
		List<Partition> due = new ArrayList<>();
		for (PartitionPolicy policy : tables) {
			PartitionedTable table = PartitionedTable.read(this.jdbc, policy);
			// rows are still written to the current interval (and will be to the future ones): whatever as-of
			// says, archive leaves them where they are
			LocalDate current = policy.interval().start(today());
			for (Map.Entry<LocalDate, String> partition : table.partitions.entrySet()) {
				if (partition.getKey().isBefore(current) && tier == policy.tier(partition.getKey(), asOf)
						&& pending.test(table, partition.getValue())) {
					due.add(new Partition(table, partition.getKey(), partition.getValue()));
				}
			}
		}
		if (dryRun) {
			counts.putLong(ExecutionReport.SUMMARY + would, due.size());
			return false;
		}
		if (due.isEmpty()) {
			return false;
		}
		List<Partition> now = due.subList(0, Math.min(atOnce, due.size()));
		change.apply(now);
		counts.putLong(done, counts.getLong(done, 0) + now.size());
		return true;
	}

	/** Today in UTC, the calendar partitions are cut in. */
	static LocalDate today() {
		return LocalDate.now(ZoneOffset.UTC);
	}

	private void moveToWarm(Partition partition) {
		PartitionPolicy policy = partition.policy();
		String source = this.tablespaces.tablespaceOf(partition.qualified());
		UUID step = this.ownTransaction.execute(status -> new ArchiveLog(this.jdbc).start(policy.table(), partition.name(),
				partition.start(), partition.end(), Tier.HOT, Tier.WARM));
		this.tablespaces.move(partition.qualified(), this.properties.warmTablespace());
		long rows = count(partition.qualified());
		long bytes = this.jdbc.queryForObject("SELECT pg_total_relation_size(?::regclass)", Long.class,
				policy.schema() + "." + partition.name());
		new ArchiveLog(this.jdbc).completed(step, this.properties.warmTablespace(), rows, bytes, null, null);
		log.info("{}.{}: moved from {} to {} ({} rows)", policy.schema(), partition.name(), source,
				this.properties.warmTablespace(), rows);
	}

	/**
	 * Exports the partitions one after the other on this transaction's connection; each one's object is
	 * uploaded, its manifest stored beside it, and both read back and checked on threads of their own
	 * meanwhile, so reading the next partition overlaps them. Then the verified partitions are detached and
	 * dropped. All in one transaction: killed anywhere before its commit, every partition is still there, and
	 * a restart exports them again, to new keys: each export is a segment of its own, named by its log row's
	 * id, and no object is ever replaced. Objects of an export that did not commit are in no completed log
	 * row, so no restore reads them.
	 */
	private void exportToCold(List<Partition> partitions) throws IOException, SQLException {
		// refused before any log row or object is written
		Manifest.Origin origin = Manifest.Origin.of(this.jdbc);
		List<UUID> steps = new ArrayList<>();
		for (Partition partition : partitions) {
			steps.add(this.ownTransaction.execute(status -> new ArchiveLog(this.jdbc).start(partition.policy().table(),
					partition.name(), partition.start(), partition.end(), SOURCE_TIER, Tier.COLD)));
		}
		try {
			Keyset keys = this.keyset.load();
			PartitionExport export = new PartitionExport(this.store, keys);
			Connection connection = DataSourceUtils.getConnection(this.dataSource);
			List<CompletableFuture<VerifiedExport>> verifications = new ArrayList<>();
			for (int i = 0; i < partitions.size(); i++) {
				Partition partition = partitions.get(i);
				// writers wait until the partition is gone: what is dropped is exactly what was exported
				this.locks.execute(partition.qualified(),
						() -> this.jdbc.execute("LOCK TABLE " + partition.qualified() + " IN SHARE MODE"));
				String objectKey = objectKey(partition, steps.get(i));
				List<String> columns = Manifest.columns(this.jdbc, partition.policy().schema() + "." + partition.name());
				List<String> supersedes = restoredInto(partition);
				long started = System.nanoTime();
				PartitionExport.Started exporting = export.start(connection, partition.qualified(), objectKey);
				verifications.add(BackgroundThreads.start("verify " + objectKey, () -> {
					PartitionExport.Exported exported = exporting.await();
					long exportedAt = System.nanoTime();
					export.seal(manifest(partition, objectKey, keys.primaryKeyId(), columns, supersedes, exported, origin));
					return new VerifiedExport(exported, started, exportedAt, System.nanoTime());
				}));
			}
			List<VerifiedExport> verified = new ArrayList<>();
			for (CompletableFuture<VerifiedExport> verification : verifications) {
				verified.add(BackgroundThreads.joined(verification));
			}
			log.info("{} partitions, {} rows: exported in {} ms, verified by {} ms", partitions.size(),
					verified.stream().mapToLong(v -> v.export().rows()).sum(),
					millis(verified.get(0).started(), verified.stream().mapToLong(VerifiedExport::exported).max().orElseThrow()),
					millis(verified.get(0).started(), verified.stream().mapToLong(VerifiedExport::verified).max().orElseThrow()));
			drop(partitions);
			for (int i = 0; i < partitions.size(); i++) {
				completed(partitions.get(i), steps.get(i), objectKey(partitions.get(i), steps.get(i)), verified.get(i));
			}
		}
		catch (IOException | SQLException | RuntimeException ex) {
			for (UUID step : steps) {
				this.ownTransaction.executeWithoutResult(status -> new ArchiveLog(this.jdbc).failed(step,
						String.valueOf(ex.getMessage())));
			}
			throw ex;
		}
	}

	/**
	 * An export read back and matched, with when it started, when its object was stored and when it was
	 * verified (System.nanoTime).
	 */
	private record VerifiedExport(PartitionExport.Exported export, long started, long exported, long verified) {
	}

	private static long millis(long from, long to) {
		return (to - from) / 1_000_000;
	}

	/** The manifest of an exported partition (see {@link Manifest}). */
	private static Manifest manifest(Partition partition, String objectKey, int keyId, List<String> columns,
			List<String> supersedes, PartitionExport.Exported exported, Manifest.Origin origin) {
		return new Manifest(partition.policy().table(), partition.name(), partition.start() + " 00:00:00+00",
				partition.end() + " 00:00:00+00", exported.rows(), exported.rowsSha256(), objectKey,
				exported.objectBytes(), exported.objectSha256(), keyId, columns, Manifest.FORMAT, Instant.now().toString(),
				origin.systemIdentifier(), origin.database(), SOURCE_TIER.text(), supersedes, origin.archiveId());
	}

	/**
	 * The segments of the partition's interval that were restored into it (their rows are among those exported
	 * now, as they are now): the new segment's manifest names them, so that a log that lost them (an older
	 * dump restored) never has them adopted beside it, bringing back rows deleted since.
	 */
	private List<String> restoredInto(Partition partition) {
		return this.jdbc.queryForList("""
				SELECT archive_id::text FROM ops.archive_log WHERE table_name = ? AND partition_name = ? AND tier = 'cold'
				  AND status = 'restored' AND object_key IS NOT NULL ORDER BY started_at
				""", String.class, partition.policy().table(), partition.name());
	}

	/**
	 * Detaches and drops the verified partitions, last: a detach locks the whole table until the commit. All
	 * of them in one bounded try: a try that is not granted a lock rolls back to its savepoint, which frees
	 * the parents' locks it took, so between tries readers and writers of the tables go on. (One partition
	 * after the other, a parent stayed locked from the first detach through every retry of the next.)
	 */
	private void drop(List<Partition> partitions) {
		this.locks.execute(String.join(", ", partitions.stream().map(Partition::qualified).toList()), () -> {
			for (Partition partition : partitions) {
				this.jdbc.execute("ALTER TABLE " + partition.table().parent() + " DETACH PARTITION " + partition.qualified());
				this.jdbc.execute("DROP TABLE " + partition.qualified());
			}
		});
	}

	private void completed(Partition partition, UUID step, String objectKey, VerifiedExport verified) {
		PartitionExport.Exported exported = verified.export();
		new ArchiveLog(this.jdbc).completed(step, null, exported.rows(), exported.objectBytes(), objectKey,
				"sha256:" + exported.objectSha256());
		log.info("{}.{}: {} rows exported to {} ({} bytes) in {} ms, verified in {} ms, dropped",
				partition.policy().schema(), partition.name(), exported.rows(), objectKey, exported.objectBytes(),
				millis(verified.started(), verified.exported()), millis(verified.exported(), verified.verified()));
	}

	/** A key of its own for every export (ColdObjectKeys). */
	private String objectKey(Partition partition, UUID segment) {
		return ColdObjectKeys.object(this.properties.prefix(), partition.policy().table(), partition.name(), segment);
	}

	/**
	 * Whether the partition, or one of its indexes, is not in the warm tablespace: indexes built again (a
	 * seed's reset rebuilds them) go to the default one, and the next run moves them.
	 */
	private long count(String qualified) {
		return this.jdbc.queryForObject("SELECT count(*) FROM " + qualified, Long.class);
	}


}
