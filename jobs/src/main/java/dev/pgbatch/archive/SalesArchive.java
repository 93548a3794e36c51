package dev.pgbatch.archive;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.ExecutionReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The row-wise archive: sales transactions older than the window, with their items, move to the archive
 * tables in the cold tablespace, a bounded batch per transaction (the seed's archive_old_data moved them
 * all in one statement, holding its locks and its WAL for the whole table). A killed run leaves whole
 * batches moved and the rest in place; the next batch simply continues.
 */
final class SalesArchive {

	private static final Logger log = LoggerFactory.getLogger(SalesArchive.class);

	static final String TABLE = "retail.sales_transactions";

	static final String MOVED = ExecutionReport.SUMMARY + "sales-transactions-archived";

	static final String MOVED_ITEMS = ExecutionReport.SUMMARY + "sales-items-archived";

	/** Items first, then their transactions, in one statement: the foreign key holds at its end. */
	private static final String MOVE_BATCH = """
			WITH batch AS (
			    SELECT transaction_id FROM retail.sales_transactions WHERE transaction_date < ?
			    ORDER BY transaction_date, transaction_id LIMIT ? FOR UPDATE),
			items AS (
			    DELETE FROM retail.sales_transaction_items i USING batch b WHERE i.transaction_id = b.transaction_id
			    RETURNING i.*),
			archived_items AS (INSERT INTO retail.sales_transaction_items_archive SELECT * FROM items RETURNING 1),
			transactions AS (
			    DELETE FROM retail.sales_transactions t USING batch b WHERE t.transaction_id = b.transaction_id
			    RETURNING t.*),
			archived AS (INSERT INTO retail.sales_transactions_archive SELECT * FROM transactions RETURNING 1)
			SELECT (SELECT count(*) FROM archived) AS transactions, (SELECT count(*) FROM archived_items) AS items
			""";

	private final JdbcTemplate jdbc;

	private final ArchiveProperties properties;

	private final TablespaceMover tablespaces;

	SalesArchive(JdbcTemplate jdbc, ArchiveProperties properties, BoundedLocks locks) {
		this.jdbc = jdbc;
		this.properties = properties;
		this.tablespaces = new TablespaceMover(jdbc, locks);
	}

	/** Moves the next batch; false when nothing older than the window is left. */
	boolean next(LocalDate asOf, boolean dryRun, ExecutionContext counts) {
		// never today's sales or later ones, whatever as-of says
		LocalDate before = asOf.minusDays(this.properties.salesDays());
		OffsetDateTime cutoff = (before.isAfter(PartitionArchiver.today()) ? PartitionArchiver.today() : before).atStartOfDay()
			.atOffset(ZoneOffset.UTC);
		if (dryRun) {
			counts.putLong(ExecutionReport.SUMMARY + "would-archive-sales-transactions", this.jdbc.queryForObject(
					"SELECT count(*) FROM retail.sales_transactions WHERE transaction_date < ?", Long.class, cutoff));
			return false;
		}
		counts.putLong(MOVED, counts.getLong(MOVED, 0));
		counts.putLong(MOVED_ITEMS, counts.getLong(MOVED_ITEMS, 0));
		moveArchiveTablesToCold();
		// the archive log says what moved; an audit row per archived row would double the table it archives
		this.jdbc.execute("SET LOCAL pgbatch.skip_audit = 'on'");
		Map<String, Object> moved = this.jdbc.queryForMap(MOVE_BATCH, cutoff, this.properties.salesBatchRows());
		long transactions = ((Number) moved.get("transactions")).longValue();
		counts.putLong(MOVED, counts.getLong(MOVED, 0) + transactions);
		counts.putLong(MOVED_ITEMS, counts.getLong(MOVED_ITEMS, 0) + ((Number) moved.get("items")).longValue());
		if (transactions > 0) {
			log.debug("archived {} sales transactions older than {}", transactions, cutoff);
		}
		return transactions > 0;
	}

	private void moveArchiveTablesToCold() {
		String cold = this.properties.coldTablespace();
		// names that need no quotes: the lock's message names them as written
		for (String table : new String[] { "retail.sales_transactions_archive", "retail.sales_transaction_items_archive" }) {
			if (!this.tablespaces.allIn(table, cold)) {
				this.tablespaces.move(table, cold);
			}
		}
	}

}
