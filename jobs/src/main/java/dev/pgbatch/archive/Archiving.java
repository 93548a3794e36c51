package dev.pgbatch.archive;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiPredicate;

import javax.sql.DataSource;

import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.partition.PartitionPolicy;
import dev.pgbatch.partition.PartitionedTable;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedObjects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

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
final class Archiving {

	private static final Logger log = LoggerFactory.getLogger(Archiving.class);

	static final String WARMED = ExecutionReport.SUMMARY + "moved-to-warm";

	static final String EXPORTED = ExecutionReport.SUMMARY + "exported-to-cold";

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final DataSource dataSource;

	private final JdbcTemplate jdbc;

	private final TransactionTemplate ownTransaction;

	private final ObjectStore store;

	private final ArchiveProperties properties;

	private final KeysetProperties keyset;

	Archiving(DataSource dataSource, TransactionTemplate ownTransaction, ObjectStore store,
			ArchiveProperties properties, KeysetProperties keyset) {
		this.keyset = keyset;
		this.dataSource = dataSource;
		this.jdbc = new JdbcTemplate(dataSource);
		this.ownTransaction = ownTransaction;
		this.store = store;
		this.properties = properties;
	}

	/** Moves the next partition that belongs in the warm tablespace there; false when none is left. */
	boolean warmNext(List<PartitionPolicy> tables, LocalDate asOf, boolean dryRun, ExecutionContext counts)
			throws IOException, SQLException {
		return next("warm", tables, asOf, dryRun, counts, WARMED, "would-move-to-warm",
				(table, partition) -> !this.properties.warmTablespace().equals(tablespace(table.policy.schema(), partition)),
				this::moveToWarm);
	}

	/** Exports, verifies and drops the next partition past its warm window; false when none is left. */
	boolean coldNext(List<PartitionPolicy> tables, LocalDate asOf, boolean dryRun, ExecutionContext counts)
			throws IOException, SQLException {
		return next("cold", tables, asOf, dryRun, counts, EXPORTED, "would-export-to-cold", (table, partition) -> true,
				this::exportToCold);
	}

	/** A change to one partition. */
	@FunctionalInterface
	private interface Change {

		void apply(PartitionedTable table, LocalDate start, String partition) throws IOException, SQLException;

	}

	/**
	 * Makes the change to the first partition of the tier that still needs it and counts it; in a dry run
	 * counts what it would change instead. False when nothing (more) is to be done.
	 */
	private boolean next(String tier, List<PartitionPolicy> tables, LocalDate asOf, boolean dryRun,
			ExecutionContext counts, String done, String would, BiPredicate<PartitionedTable, String> pending,
			Change change) throws IOException, SQLException {
		counts.putLong(done, counts.getLong(done, 0));
		long wouldChange = 0;
		for (PartitionPolicy policy : tables) {
			PartitionedTable table = PartitionedTable.read(this.jdbc, policy);
			for (Map.Entry<LocalDate, String> partition : table.partitions.entrySet()) {
				if (!tier.equals(policy.tier(partition.getKey(), asOf)) || !pending.test(table, partition.getValue())) {
					continue;
				}
				if (dryRun) {
					wouldChange++;
					continue;
				}
				change.apply(table, partition.getKey(), partition.getValue());
				counts.putLong(done, counts.getLong(done, 0) + 1);
				return true;
			}
		}
		if (dryRun) {
			counts.putLong(ExecutionReport.SUMMARY + would, wouldChange);
		}
		return false;
	}

	private void moveToWarm(PartitionedTable table, LocalDate start, String partition) {
		PartitionPolicy policy = table.policy;
		String source = tablespace(policy.schema(), partition);
		UUID step = this.ownTransaction.execute(status -> new ArchiveLog(this.jdbc).start(policy.table(), partition,
				start, policy.interval().plus(start, 1), "hot", "warm"));
		String warm = SqlNames.quote(this.properties.warmTablespace());
		this.jdbc.execute("ALTER TABLE " + table.qualified(partition) + " SET TABLESPACE " + warm);
		for (String index : this.jdbc.queryForList("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = ?::regclass",
				String.class, policy.schema() + "." + partition)) {
			this.jdbc.execute("ALTER INDEX " + index + " SET TABLESPACE " + warm);
		}
		long rows = count(table.qualified(partition));
		long bytes = this.jdbc.queryForObject("SELECT pg_total_relation_size(?::regclass)", Long.class,
				policy.schema() + "." + partition);
		new ArchiveLog(this.jdbc).completed(step, this.properties.warmTablespace(), rows, bytes, null, null);
		log.info("{}.{}: moved from {} to {} ({} rows)", policy.schema(), partition, source,
				this.properties.warmTablespace(), rows);
	}

	private void exportToCold(PartitionedTable table, LocalDate start, String partition) throws IOException, SQLException {
		PartitionPolicy policy = table.policy;
		LocalDate end = policy.interval().plus(start, 1);
		String qualified = table.qualified(partition);
		String objectKey = this.properties.prefix() + "/" + policy.table() + "/" + partition + ".copy.zst.tink";
		UUID step = this.ownTransaction.execute(status -> new ArchiveLog(this.jdbc).start(policy.table(), partition,
				start, end, "warm", "cold"));
		try {
			Keyset keys = this.keyset.load();
			// writers wait until the partition is gone: what is dropped is exactly what was exported
			this.jdbc.execute("LOCK TABLE " + qualified + " IN SHARE MODE");
			long rows = count(qualified);
			PartitionExport export = new PartitionExport(new SealedObjects(this.store, keys));
			Connection connection = DataSourceUtils.getConnection(this.dataSource);
			long started = System.nanoTime();
			PartitionExport.Exported exported = export.export(connection, qualified, objectKey);
			long exportedAt = System.nanoTime();
			if (exported.rows() != rows) {
				throw new IOException(objectKey + ": exported " + exported.rows() + " rows of " + rows + "; the partition is kept");
			}
			export.verify(objectKey, exported);
			long verifiedAt = System.nanoTime();
			Manifest manifest = new Manifest(policy.table(), partition, start + " 00:00:00+00", end + " 00:00:00+00", rows,
					exported.rowsSha256(), objectKey, exported.objectBytes(), exported.objectSha256(), keys.primaryKeyId(),
					columns(policy.schema(), partition), bound(policy.schema(), partition), Manifest.FORMAT,
					Instant.now().toString());
			byte[] json = JSON.writeValueAsBytes(manifest);
			this.store.put(manifestKey(objectKey), new java.io.ByteArrayInputStream(json), json.length);
			this.jdbc.execute("ALTER TABLE " + table.parent() + " DETACH PARTITION " + qualified);
			this.jdbc.execute("DROP TABLE " + qualified);
			new ArchiveLog(this.jdbc).completed(step, null, rows, exported.objectBytes(), objectKey,
					"sha256:" + exported.objectSha256());
			log.info("{}.{}: {} rows exported to {} ({} bytes) in {} ms, verified in {} ms, dropped", policy.schema(),
					partition, rows, objectKey, exported.objectBytes(), (exportedAt - started) / 1_000_000,
					(verifiedAt - exportedAt) / 1_000_000);
		}
		catch (IOException | SQLException | RuntimeException ex) {
			this.ownTransaction.executeWithoutResult(status -> new ArchiveLog(this.jdbc).failed(step,
					String.valueOf(ex.getMessage())));
			throw ex;
		}
	}

	static String manifestKey(String objectKey) {
		return objectKey.substring(0, objectKey.indexOf(".copy.zst.tink")) + ".manifest.json";
	}

	private List<String> columns(String schema, String partition) {
		return this.jdbc.queryForList("""
				SELECT format('%I %s', attname, format_type(atttypid, atttypmod)) FROM pg_attribute
				WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
				""", String.class, schema + "." + partition);
	}

	private String bound(String schema, String partition) {
		return this.jdbc.queryForObject("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = ?::regclass",
				String.class, schema + "." + partition);
	}

	private String tablespace(String schema, String partition) {
		return this.jdbc.queryForObject("""
				SELECT coalesce(t.spcname, 'pg_default') FROM pg_class c LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
				WHERE c.oid = ?::regclass
				""", String.class, schema + "." + partition);
	}

	private long count(String qualified) {
		return this.jdbc.queryForObject("SELECT count(*) FROM " + qualified, Long.class);
	}


}
