package dev.pgbatch.refresh;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * etl.view_refresh_log: one row per view and execution. What a job instance has refreshed is read back from it,
 * so a restart refreshes only the rest; the row of a refresh commits with the refresh itself.
 */
final class RefreshLog {

	static final String OK = "ok";

	static final String FAILED = "failed";

	static final String SKIPPED = "skipped";

	static final String CONCURRENTLY = "concurrently";

	static final String PLAIN = "plain";

	/** What an execution did, for its summary. */
	record Counts(long concurrently, long plain, long failed, long skipped) {

		long refreshed() {
			return this.concurrently + this.plain;
		}

	}

	private final JdbcTemplate jdbc;

	RefreshLog(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	void refreshed(long execution, String view, String mode, Instant started, long millis, long rows) {
		this.jdbc.update("""
				INSERT INTO etl.view_refresh_log (job_execution_id, view_name, mode, started_at, duration_ms, rows_after, status)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				""", execution, view, mode, Timestamp.from(started), millis, rows, OK);
	}

	/** A view that failed ({@link #FAILED}) or was not tried because one it reads failed ({@link #SKIPPED}). */
	void notRefreshed(long execution, String view, String status, Instant started, String error) {
		this.jdbc.update("""
				INSERT INTO etl.view_refresh_log (job_execution_id, view_name, started_at, status, error)
				VALUES (?, ?, ?, ?, ?)
				""", execution, view, Timestamp.from(started), status, error);
	}

	/** The views any execution of the job instance refreshed: a restart does not refresh them again. */
	List<String> refreshedByInstance(long instance) {
		return this.jdbc.queryForList("""
				SELECT l.view_name FROM etl.view_refresh_log l
				JOIN etl.batch_job_execution e ON e.job_execution_id = l.job_execution_id
				WHERE e.job_instance_id = ? AND l.status = 'ok'
				""", String.class, instance);
	}

	/** The views this execution failed or skipped, in that order, with why. */
	Map<String, String> notRefreshedBy(long execution) {
		Map<String, String> errors = new LinkedHashMap<>();
		this.jdbc.query("""
				SELECT view_name, error FROM etl.view_refresh_log WHERE job_execution_id = ? AND status <> 'ok'
				ORDER BY refresh_id
				""", row -> {
			errors.put(row.getString("view_name"), row.getString("error"));
		}, execution);
		return errors;
	}

	Counts counts(long execution) {
		return this.jdbc.queryForObject("""
				SELECT count(*) FILTER (WHERE status = 'ok' AND mode = 'concurrently'),
				       count(*) FILTER (WHERE status = 'ok' AND mode = 'plain'),
				       count(*) FILTER (WHERE status = 'failed'),
				       count(*) FILTER (WHERE status = 'skipped')
				FROM etl.view_refresh_log WHERE job_execution_id = ?
				""", (row, n) -> new Counts(row.getLong(1), row.getLong(2), row.getLong(3), row.getLong(4)), execution);
	}

}
