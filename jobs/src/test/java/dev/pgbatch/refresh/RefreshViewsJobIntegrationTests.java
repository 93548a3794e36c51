package dev.pgbatch.refresh;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.cli.EtlProcess;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.seed.SeedDataRuns;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * refresh-views on seed-data's scale 0.2 (as-of today, so the last 30 days hold sales), with the views of V8 and
 * ops.agent_task_summary, and test views made on top of them (named test_*, dropped after each test). A lock
 * timeout of 1 s keeps the lock test short.
 */
@TestPropertySource(properties = "etl.refresh.lock-timeout=1s")
class RefreshViewsJobIntegrationTests extends DatabaseIntegrationTest {

	private static final String DAILY = "retail.daily_store_sales";

	private static final String PRODUCTS_30D = "retail.product_sales_30d";

	private static final String AGENTS = "ops.agent_task_summary";

	@BeforeEach
	void seededData() {
		// once in the class's own database; no test here changes the seeded tables
		if (count("ops.agents") == 0) {
			assertThat(SeedDataRuns.seed(this.runner, "scale=0.2", "reset=true").getStatus())
				.isEqualTo(BatchStatus.COMPLETED);
		}
	}

	@AfterEach
	void dropTestViews() {
		this.jdbc.execute("DROP SCHEMA IF EXISTS refresh_test CASCADE");
		for (String view : this.jdbc.queryForList("SELECT schemaname || '.' || viewname FROM pg_views"
				+ " WHERE viewname LIKE 'test\\_%'", String.class)) {
			this.jdbc.execute("DROP VIEW IF EXISTS " + view + " CASCADE");
		}
		for (String view : this.jdbc.queryForList("SELECT schemaname || '.' || matviewname FROM pg_matviews"
				+ " WHERE matviewname LIKE 'test\\_%'", String.class)) {
			this.jdbc.execute("DROP MATERIALIZED VIEW IF EXISTS " + view + " CASCADE");
		}
	}

	@Test
	void aViewBuiltOnAnotherIsRefreshedAfterItEvenThroughAPlainViewAndASchemaNotRefreshed() {
		// retail.test_a_store_ranking (first by name) <- plain view retail.test_store_totals
		// <- refresh_test.store_totals (schema not refreshed) <- retail.daily_store_sales
		refresh("views=" + DAILY);
		this.jdbc.execute("CREATE SCHEMA refresh_test");
		this.jdbc.execute("CREATE MATERIALIZED VIEW refresh_test.store_totals AS SELECT store_id, sum(revenue) AS revenue"
				+ " FROM retail.daily_store_sales GROUP BY store_id");
		this.jdbc.execute("CREATE VIEW retail.test_store_totals AS SELECT * FROM refresh_test.store_totals");
		this.jdbc.execute("CREATE MATERIALIZED VIEW retail.test_a_store_ranking AS SELECT store_id,"
				+ " rank() OVER (ORDER BY revenue DESC) AS rank FROM retail.test_store_totals WITH NO DATA");

		JobExecution run = refresh();

		List<String> order = loggedViews(run);
		assertThat(order).as("refresh_test.store_totals is not refreshed")
			.containsExactlyInAnyOrder(AGENTS, DAILY, PRODUCTS_30D, "retail.test_a_store_ranking");
		assertThat(order.indexOf("retail.test_a_store_ranking")).isGreaterThan(order.indexOf(DAILY));
	}

	@Test
	void aConcurrentRefreshNeverBlocksAReaderHoldingItsViewOpen() throws Exception {
		refresh("views=" + DAILY);
		AtomicBoolean refreshing = new AtomicBoolean(true);
		AtomicLong reads = new AtomicLong();
		try (Connection reader = TestDatabase.connect(); Statement holding = reader.createStatement()) {
			// an open transaction that has read the view holds ACCESS SHARE on it until it ends
			reader.setAutoCommit(false);
			long before = sum(holding);
			CompletableFuture<Void> looping = CompletableFuture.runAsync(() -> readInALoop(refreshing, reads));

			JobExecution run = refresh("views=" + DAILY);
			refreshing.set(false);
			looping.get(10, TimeUnit.SECONDS);

			assertThat(run.getStatus()).isEqualTo(BatchStatus.COMPLETED);
			assertThat(log(run)).singleElement().satisfies(row -> assertThat(row).containsEntry("mode", "concurrently"));
			assertThat(this.jdbc.queryForObject("""
					SELECT count(*) FROM pg_locks WHERE pid = ? AND relation = 'retail.daily_store_sales'::regclass
					  AND mode = 'AccessShareLock' AND granted
					""", Long.class, pid(reader))).as("the reader held its lock through the refresh").isOne();
			assertThat(sum(holding)).as("the reader's transaction still reads, unblocked").isEqualTo(before);
			assertThat(reads.get()).as("reads of a second reader during the refresh, none failed").isPositive();
			reader.rollback();
		}
	}

	@Test
	void aViewWhoseLockIsNotGrantedInTimeFailsAloneAndTheRestartRefreshesOnlyItAndWhatWasSkipped() throws Exception {
		this.jdbc.execute("CREATE MATERIALIZED VIEW retail.test_top_products AS SELECT store_id, max(revenue) AS revenue"
				+ " FROM retail.product_sales_30d GROUP BY store_id WITH NO DATA");
		JobExecution failed;
		try (Connection holder = TestDatabase.connect(); Statement statement = holder.createStatement()) {
			holder.setAutoCommit(false);
			// LOCK TABLE does not take materialized views; a plain refresh holds ACCESS EXCLUSIVE until it commits
			statement.execute("REFRESH MATERIALIZED VIEW retail.product_sales_30d");
			assertThat(this.jdbc.queryForObject("""
					SELECT count(*) FROM pg_locks WHERE pid = ? AND relation = 'retail.product_sales_30d'::regclass
					  AND mode = 'AccessExclusiveLock' AND granted
					""", Long.class, pid(holder))).isOne();

			failed = JobRuns.run(this.runner, RefreshViewsJob.DEFINITION);

			holder.rollback();
		}

		assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
		Map<String, String> statuses = statuses(failed);
		assertThat(statuses).containsEntry(AGENTS, "ok")
			.containsEntry(DAILY, "ok")
			.containsEntry(PRODUCTS_30D, "failed")
			.containsEntry("retail.test_top_products", "skipped");
		assertThat(error(failed, PRODUCTS_30D)).isEqualTo("retail.product_sales_30d: not refreshed, a lock was not granted"
				+ " within 1s (another session holds the view or a table it reads; ETL_REFRESH_LOCK_TIMEOUT)");
		assertThat(error(failed, "retail.test_top_products"))
			.isEqualTo("retail.test_top_products: skipped, it reads retail.product_sales_30d, which was not refreshed");
		assertThat(ExecutionReport.of(failed, false).exitDescription()).startsWith("refresh: failed 1, skipped 1: ")
			.contains("retail.product_sales_30d: not refreshed").doesNotContain("\n");
		assertThat(summary(failed, "refreshed")).isEqualTo(2);
		assertThat(failed.getStepExecutions().iterator().next()).satisfies(step -> {
			assertThat(step.getWriteCount()).as("refreshed").isEqualTo(2);
			assertThat(step.getSkipCount()).as("failed or skipped").isEqualTo(2);
		});

		JobExecution restarted = this.runner.restart(failed.getId());

		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(restarted.getJobInstance().getId()).isEqualTo(failed.getJobInstance().getId());
		assertThat(loggedViews(restarted)).containsExactly(PRODUCTS_30D, "retail.test_top_products");
		assertThat(statuses(restarted).values()).containsOnly("ok");
		assertThat(populated("retail.test_top_products")).isTrue();
	}

	@Test
	void aRunKilledWithSigkillMidRefreshIsRestartedWithoutRefreshingAgainWhatItCommitted() throws Exception {
		long before = this.jdbc.queryForObject("SELECT coalesce(max(job_execution_id), 0) FROM etl.batch_job_execution",
				Long.class);
		EtlProcess.Result restart;
		long id;
		try (Connection holder = TestDatabase.connect(); Statement statement = holder.createStatement()) {
			holder.setAutoCommit(false);
			statement.execute("REFRESH MATERIALIZED VIEW retail.product_sales_30d");
			EtlProcess run = EtlProcess.start(Map.of("ETL_REFRESH_LOCK_TIMEOUT", "300s"), "run", RefreshViewsJob.NAME);
			// killed while it waits for the lock of its third view, the first two committed
			awaitUntil(run, () -> this.jdbc.queryForObject("""
					SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'REFRESH MATERIALIZED VIEW%product_sales_30d%'
					""", Long.class) == 1);
			id = this.jdbc.queryForObject("SELECT max(job_execution_id) FROM etl.batch_job_execution", Long.class);
			assertThat(id).isGreaterThan(before);
			run.kill();
			holder.rollback();
		}

		restart = EtlProcess.run("restart", Long.toString(id));

		assertThat(restart.exitCode()).as(restart.stderr()).isZero();
		assertThat(this.jdbc.queryForList("SELECT view_name FROM etl.view_refresh_log WHERE job_execution_id = ?",
				String.class, id)).containsExactlyInAnyOrder(AGENTS, DAILY);
		assertThat(this.jdbc.queryForList("""
				SELECT l.view_name FROM etl.view_refresh_log l JOIN etl.batch_job_execution e USING (job_execution_id)
				WHERE e.job_instance_id = (SELECT job_instance_id FROM etl.batch_job_execution WHERE job_execution_id = ?)
				  AND l.job_execution_id <> ?
				""", String.class, id, id)).as("what the restart refreshed").containsExactly(PRODUCTS_30D);
	}

	@Test
	void anUnpopulatedViewIsRefreshedPlainlyFirstAndConcurrentlyAfter() {
		this.jdbc.execute("REFRESH MATERIALIZED VIEW retail.daily_store_sales WITH NO DATA");

		JobExecution first = refresh("views=" + DAILY);
		JobExecution second = refresh("views=" + DAILY);

		assertThat(log(first)).singleElement().satisfies(row -> assertThat(row).containsEntry("mode", "plain"));
		assertThat(log(second)).singleElement().satisfies(row -> assertThat(row).containsEntry("mode", "concurrently"));
		assertThat(summary(first, "refreshed-plain")).isOne();
		assertThat(summary(second, "refreshed-concurrently")).isOne();
	}

	@Test
	void aViewWhoseOnlyUniqueIndexIsPartialIsRefreshedPlainly() {
		// PostgreSQL refuses CONCURRENTLY without a unique index on plain columns that covers every row
		refresh("views=" + DAILY);
		this.jdbc.execute("CREATE MATERIALIZED VIEW retail.test_store_days AS SELECT store_id, sales_day, revenue"
				+ " FROM retail.daily_store_sales");
		this.jdbc.execute("CREATE UNIQUE INDEX ON retail.test_store_days (store_id, sales_day) WHERE revenue > 0");
		this.jdbc.execute("CREATE UNIQUE INDEX ON retail.test_store_days (lower(store_id), sales_day)");

		JobExecution run = refresh("views=retail.test_store_days");

		assertThat(log(run)).singleElement().satisfies(row -> assertThat(row).containsEntry("mode", "plain"));
	}

	@Test
	void viewsAndSchemaNarrowTheRun() {
		JobExecution two = refresh("views=" + PRODUCTS_30D + ", " + AGENTS);
		JobExecution ops = refresh("schema=ops");

		assertThat(loggedViews(two)).containsExactly(AGENTS, PRODUCTS_30D);
		assertThat(loggedViews(ops)).containsExactly(AGENTS);
	}

	@Test
	void anUnknownViewOrSchemaIsRefusedBeforeAnythingIsWritten() {
		long instances = count("etl.batch_job_instance");
		long logged = count("etl.view_refresh_log");

		assertThatThrownBy(() -> refresh("views=retail.no_such_view")).isInstanceOf(UsageException.class)
			.hasMessageStartingWith("views: 'retail.no_such_view' is not a materialized view of ops, retail (there: ");
		assertThatThrownBy(() -> refresh("views=retail.products")).isInstanceOf(UsageException.class)
			.hasMessageStartingWith("views: 'retail.products' is not a materialized view");
		assertThatThrownBy(() -> refresh("schema=etl")).isInstanceOf(UsageException.class)
			.hasMessage("schema: 'etl' is not one of ETL_REFRESH_SCHEMAS (ops, retail)");
		assertThatThrownBy(() -> refresh("schema=ops", "views=" + DAILY)).isInstanceOf(UsageException.class)
			.hasMessageStartingWith("views: 'retail.daily_store_sales' is not a materialized view of ops");
		assertThatThrownBy(() -> refresh("views=retail.Daily;drop")).isInstanceOf(UsageException.class)
			.hasMessageContaining("is not a plain schema-qualified table name");

		assertThat(count("etl.batch_job_instance")).isEqualTo(instances);
		assertThat(count("etl.view_refresh_log")).isEqualTo(logged);
	}

	@Test
	void everyRefreshIsLoggedWithItsModeDurationAndRows() {
		JobExecution run = refresh();

		List<Map<String, Object>> rows = log(run);
		assertThat(rows).extracting(row -> row.get("view_name")).containsExactlyInAnyOrder(AGENTS, DAILY, PRODUCTS_30D);
		for (Map<String, Object> row : rows) {
			assertThat(row.get("status")).isEqualTo("ok");
			assertThat(row.get("mode")).isIn("concurrently", "plain");
			assertThat((Long) row.get("duration_ms")).isNotNegative();
			assertThat(row.get("rows_after")).as("%s", row.get("view_name")).isEqualTo(count((String) row.get("view_name")));
		}
		assertThat(count(DAILY)).isPositive();
		assertThat(this.jdbc.queryForObject("SELECT sum(units_sold) FROM retail.product_sales_30d", Long.class))
			.as("the seed's last 30 days sold something").isPositive();
		assertThat(summary(run, "refreshed")).isEqualTo(3);
		assertThat(summary(run, "refreshed-concurrently") + summary(run, "refreshed-plain")).isEqualTo(3);
		assertThat(summary(run, "failed") + summary(run, "skipped")).isZero();
	}

	private JobExecution refresh(String... parameters) {
		JobExecution run = JobRuns.run(this.runner, RefreshViewsJob.DEFINITION, parameters);
		assertThat(run.getStatus()).as("%s", run.getExitStatus()).isEqualTo(BatchStatus.COMPLETED);
		return run;
	}

	private List<Map<String, Object>> log(JobExecution run) {
		return this.jdbc.queryForList("SELECT * FROM etl.view_refresh_log WHERE job_execution_id = ? ORDER BY refresh_id",
				run.getId());
	}

	private List<String> loggedViews(JobExecution run) {
		return log(run).stream().map(row -> (String) row.get("view_name")).toList();
	}

	private Map<String, String> statuses(JobExecution run) {
		return log(run).stream()
			.collect(java.util.stream.Collectors.toMap(row -> (String) row.get("view_name"), row -> (String) row.get("status")));
	}

	private String error(JobExecution run, String view) {
		return log(run).stream().filter(row -> view.equals(row.get("view_name"))).map(row -> (String) row.get("error"))
			.findFirst().orElseThrow();
	}

	private static long summary(JobExecution run, String count) {
		return run.getStepExecutions().iterator().next().getExecutionContext().getLong(ExecutionReport.SUMMARY + count, -1L);
	}

	private long count(String relation) {
		return this.jdbc.queryForObject("SELECT count(*) FROM " + relation, Long.class);
	}

	private boolean populated(String view) {
		return this.jdbc.queryForObject("SELECT relispopulated FROM pg_class WHERE oid = ?::regclass", Boolean.class, view);
	}

	private static long sum(Statement statement) throws Exception {
		try (ResultSet result = statement.executeQuery("SELECT count(*) + sum(transactions) FROM retail.daily_store_sales")) {
			result.next();
			return result.getLong(1);
		}
	}

	private static int pid(Connection connection) throws Exception {
		try (Statement statement = connection.createStatement();
				ResultSet result = statement.executeQuery("SELECT pg_backend_pid()")) {
			result.next();
			return result.getInt(1);
		}
	}

	private static void awaitUntil(EtlProcess run, Callable<Boolean> condition) {
		await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50)).until(() -> {
			assertThat(run.isAlive()).as("the run ended early").isTrue();
			return condition.call();
		});
	}

	/** A second reader, one short query after another, until the refresh is over; any failure fails the test. */
	private static void readInALoop(AtomicBoolean refreshing, AtomicLong reads) {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			statement.setQueryTimeout(5);
			while (refreshing.get()) {
				sum(statement);
				reads.incrementAndGet();
				Thread.sleep(5);
			}
		}
		catch (Exception ex) {
			throw new IllegalStateException("a reader failed during the concurrent refresh", ex);
		}
	}

}
