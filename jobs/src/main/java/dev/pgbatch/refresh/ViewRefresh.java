package dev.pgbatch.refresh;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.ProgressMonitor;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.refresh.MaterializedViews.View;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.StepContribution;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * refresh-views, one view per call: each call reads the catalog and the log afresh, takes the next view of the
 * run that neither this job instance has refreshed nor this execution has tried, and refreshes it in a
 * transaction of its own (with its log row, and lock_timeout set for it alone), or skips it when a view it
 * reads failed. A view that fails does not stop the others; the step fails at the end, naming them, and its
 * restart refreshes only those (the log says what the instance already refreshed).
 */
final class ViewRefresh implements Tasklet {

	private static final Logger log = LoggerFactory.getLogger(ViewRefresh.class);

	static final String LOCK_NOT_GRANTED = "%s: not refreshed, a lock was not granted within %s (another session holds the view or a table it reads; ETL_REFRESH_LOCK_TIMEOUT)";

	static final String REFRESH_FAILED = "%s: not refreshed: %s";

	static final String SKIPPED = "%s: skipped, it reads %s, which was not refreshed";

	static final String NOT_ALL_REFRESHED = "failed %d, skipped %d: %s";

	/** PostgreSQL's lock_not_available, raised when lock_timeout expires. */
	private static final String LOCK_NOT_AVAILABLE = "55P03";

	private final JdbcTemplate jdbc;

	private final TransactionTemplate ownTransaction;

	private final RefreshProperties properties;

	private final RefreshLog refreshLog;

	ViewRefresh(JdbcTemplate jdbc, TransactionTemplate ownTransaction, RefreshProperties properties) {
		this.jdbc = jdbc;
		this.ownTransaction = ownTransaction;
		this.properties = properties;
		this.refreshLog = new RefreshLog(jdbc);
	}

	@Override
	public RepeatStatus execute(StepContribution contribution, ChunkContext chunk) {
		StepExecution step = chunk.getStepContext().getStepExecution();
		long execution = step.getJobExecutionId();
		MaterializedViews catalog = MaterializedViews.read(this.jdbc);
		List<View> views = RefreshSelection.select(this.jdbc, catalog, this.properties,
				step.getJobParameters().getString(RefreshViewsJob.SCHEMA, ""),
				step.getJobParameters().getString(RefreshViewsJob.VIEWS, ""));
		List<String> done = this.refreshLog.refreshedByInstance(step.getJobExecution().getJobInstance().getInstanceId());
		Map<String, String> notRefreshed = this.refreshLog.notRefreshedBy(execution);
		List<View> left = views.stream()
			.filter(view -> !done.contains(view.name()) && !notRefreshed.containsKey(view.name()))
			.toList();
		// refreshed views are the step's writes, failed and skipped ones its skips
		step.getExecutionContext().putLong(ProgressMonitor.TOTAL, step.getWriteCount() + step.getSkipCount() + left.size());
		if (!left.isEmpty()) {
			View view = left.get(0);
			Set<String> upstream = catalog.upstream(view);
			Optional<String> failedUpstream = notRefreshed.keySet().stream().filter(upstream::contains).findFirst();
			if (failedUpstream.isPresent()) {
				String why = String.format(SKIPPED, view.name(), failedUpstream.get());
				log.warn(why);
				this.refreshLog.notRefreshed(execution, view.name(), RefreshLog.SKIPPED, Instant.now(), why);
				contribution.incrementProcessSkipCount();
			}
			else if (refresh(execution, view)) {
				contribution.incrementWriteCount(1);
			}
			else {
				contribution.incrementProcessSkipCount();
			}
			return RepeatStatus.CONTINUABLE;
		}
		RefreshLog.Counts counts = this.refreshLog.counts(execution);
		summarize(step.getExecutionContext(), counts);
		if (!notRefreshed.isEmpty()) {
			throw new ViewsNotRefreshedException(String.format(NOT_ALL_REFRESHED, counts.failed(), counts.skipped(),
					String.join("; ", notRefreshed.values())));
		}
		return RepeatStatus.FINISHED;
	}

	/**
	 * Concurrently when the view allows it (readers go on reading its old rows meanwhile), else plainly (readers
	 * wait). Failures are logged with the view's name and do not stop the run: false then.
	 */
	private boolean refresh(long execution, View view) {
		String mode = view.concurrently() ? RefreshLog.CONCURRENTLY : RefreshLog.PLAIN;
		Instant started = Instant.now();
		try {
			this.ownTransaction.executeWithoutResult(status -> {
				String quoted = SqlNames.quoteTable(view.name());
				// for this transaction only: a lock the refresh cannot get in time fails this view, not the run
				this.jdbc.queryForObject("SELECT set_config('lock_timeout', ?, true)", String.class,
						this.properties.lockTimeoutText());
				long start = System.nanoTime();
				this.jdbc.execute("REFRESH MATERIALIZED VIEW " + (view.concurrently() ? "CONCURRENTLY " : "") + quoted);
				long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
				long rows = this.jdbc.queryForObject("SELECT count(*) FROM " + quoted, Long.class);
				this.refreshLog.refreshed(execution, view.name(), mode, started, millis, rows);
				log.info("refreshed {} {} in {} ms: {} rows", view.name(), mode, millis, rows);
			});
			return true;
		}
		catch (DataAccessException | IllegalArgumentException ex) {
			String why = lockNotGranted(ex) ? String.format(LOCK_NOT_GRANTED, view.name(), this.properties.lockTimeoutText())
					: String.format(REFRESH_FAILED, view.name(), firstLine(ex));
			log.warn(why);
			this.refreshLog.notRefreshed(execution, view.name(), RefreshLog.FAILED, started, why);
			return false;
		}
	}

	private static boolean lockNotGranted(Exception ex) {
		return NestedExceptionUtils.getMostSpecificCause(ex) instanceof SQLException sql
				&& LOCK_NOT_AVAILABLE.equals(sql.getSQLState());
	}

	/** PostgreSQL's own message, first line: the rest is detail and hints, and Spring's prefix repeats the SQL. */
	private static String firstLine(Exception ex) {
		String message = String.valueOf(NestedExceptionUtils.getMostSpecificCause(ex).getMessage());
		return message.lines().findFirst().orElse(message).strip();
	}

	/**
	 * The step's failure when views failed or were skipped: an expected outcome that the message says in full,
	 * so no stack trace (Spring Batch logs the step's exception with one).
	 */
	static final class ViewsNotRefreshedException extends RuntimeException {

		ViewsNotRefreshedException(String message) {
			super(message, null, false, false);
		}

	}

	private static void summarize(ExecutionContext context, RefreshLog.Counts counts) {
		context.putLong(ExecutionReport.SUMMARY + "refreshed", counts.refreshed());
		context.putLong(ExecutionReport.SUMMARY + "refreshed-concurrently", counts.concurrently());
		context.putLong(ExecutionReport.SUMMARY + "refreshed-plain", counts.plain());
		context.putLong(ExecutionReport.SUMMARY + "failed", counts.failed());
		context.putLong(ExecutionReport.SUMMARY + "skipped", counts.skipped());
		log.info("refreshed {} ({} concurrently, {} plain), failed {}, skipped {}", counts.refreshed(),
				counts.concurrently(), counts.plain(), counts.failed(), counts.skipped());
	}

}
