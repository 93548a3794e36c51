package dev.pgbatch.archive;

import java.time.LocalDate;
import java.util.UUID;

import dev.pgbatch.partition.Tier;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * ops.archive_log: one row per step of one partition (hot to warm, warm to cold, restore). A step is started
 * in a transaction of its own, so a failure is recorded even when the step's work rolls back; times are
 * clock times, not transaction start times, for the same reason.
 */
final class ArchiveLog {

	private final JdbcTemplate jdbc;

	ArchiveLog(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	UUID start(String table, String partition, LocalDate from, LocalDate to, Tier sourceTier, Tier tier) {
		return this.jdbc.queryForObject("""
				INSERT INTO ops.archive_log (table_name, partition_name, range_start, range_end, source_tier, tier, started_at)
				VALUES (?, ?, ?::timestamptz, ?::timestamptz, ?, ?, clock_timestamp()) RETURNING archive_id
				""", UUID.class, table, partition, from + " 00:00:00+00", to + " 00:00:00+00", sourceTier.text(), tier.text());
	}

	void completed(UUID id, String tablespace, long rows, long bytes, String objectKey, String checksum) {
		this.jdbc.update("""
				UPDATE ops.archive_log SET status = 'completed', tablespace_name = ?, row_count = ?, bytes = ?,
				       object_key = ?, checksum = ?, finished_at = clock_timestamp()
				WHERE archive_id = ?
				""", tablespace, rows, bytes, objectKey, checksum, id);
	}

	/**
	 * Marks a step failed from a transaction of its own. A row that the failed (still open) transaction has
	 * updated is skipped, not waited for: that transaction waits for this call, so waiting would hang both
	 * with the table locked; its rollback leaves the row as it was before, never completed.
	 */
	void failed(UUID id, String error) {
		this.jdbc.update("""
				UPDATE ops.archive_log SET status = 'failed', error = ?, finished_at = clock_timestamp()
				WHERE archive_id = (SELECT archive_id FROM ops.archive_log WHERE archive_id = ? FOR UPDATE SKIP LOCKED)
				""", error, id);
	}

}
