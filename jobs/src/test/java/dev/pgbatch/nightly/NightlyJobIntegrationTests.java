package dev.pgbatch.nightly;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.archive.ArchiveJob;
import dev.pgbatch.backup.BackupCatalog;
import dev.pgbatch.cli.EtlProcess;
import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.crypto.TestKeysets;
import dev.pgbatch.refresh.RefreshViewsJob;
import dev.pgbatch.seed.SeedDataRuns;
import dev.pgbatch.store.ObjectStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * nightly on seed-data's scale 0.1 as of 2026-06-30, with the built-in partition policy (so archive moves
 * April 2025 to March 2026 to the warm tablespace and exports December 2024 to March 2025), a keyset and
 * object-store folders of its own. A lock timeout of 1 s keeps the refresh failure short, a wait of 5 s for a
 * job running elsewhere the step that gives up on it. The as-of is a fixed calendar (the partitions the
 * assertions name), so every run passes force=true: from mid-2027 on it is more than a year from today.
 */
@TestPropertySource(properties = { "etl.refresh.lock-timeout=1s", "etl.nightly.wait-for-running=5s" })
class NightlyJobIntegrationTests extends DatabaseIntegrationTest {

	private static final LocalDate AS_OF = LocalDate.of(2026, 6, 30);

	private static final List<String> CHILDREN = List.of("partition-rollover", "archive", "refresh-views", "backup");

	/** The children's steps, then the run's restore point. */
	private static final List<String> STEPS = List.of("partition-rollover", "archive", "refresh-views", "backup",
			"restore-point");

	private static final Path KEYSET = TestKeysets.fresh();

	private static final String PREFIX = "test-nightly-" + UUID.randomUUID();

	@DynamicPropertySource
	static void settings(DynamicPropertyRegistry registry) {
		registry.add("etl.keyset.path", KEYSET::toString);
		registry.add("etl.backup.prefix", () -> PREFIX + "/backup");
		registry.add("etl.archive.prefix", () -> PREFIX + "/archive");
	}

	@Autowired
	BackupCatalog catalog;

	@Autowired
	ObjectStore store;

	@Autowired
	ExecutionLock lock;

	@BeforeEach
	void seed() throws SQLException {
		TestDatabase.madeOnce("seeded", this.dataSource, () -> assertThat(
				SeedDataRuns.seed(this.runner, "scale=0.1", "reset=true", "as-of=" + AS_OF, "force=true").getStatus())
			.isEqualTo(BatchStatus.COMPLETED));
	}

	@AfterEach
	void clean() {
		this.store.list(PREFIX + "/").forEach(object -> this.store.delete(object.key()));
	}

	@Test
	void theFourJobsRunInOrderEachAsAChildExecutionWithTheNightlysAsOfUnderItsOwnLock() throws Exception {
		// made by partition-rollover again (empty: the seed ends at as-of)
		this.jdbc.execute("DROP TABLE IF EXISTS ops.task_executions_p2026_10");
		// archive only row-wise: its parameter check reads no partitioned table, which the waiting detach has locked
		JobExecution nightly = nightlyWhileArchiveWaits(() -> assertThatThrownBy(() -> JobRuns.run(this.runner,
				ArchiveJob.DEFINITION, "as-of=" + AS_OF, "force=true", "table=retail.sales_transactions"))
			.isInstanceOf(RefusedException.class)
			.hasMessageStartingWith("job archive is already running (pgbatch archive, pid "));

		assertThat(nightly.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		List<JobExecution> children = children(nightly);
		assertThat(children).extracting(child -> child.getJobInstance().getJobName()).containsExactlyElementsOf(CHILDREN);
		assertThat(children).allSatisfy(child -> assertThat(child.getStatus()).isEqualTo(BatchStatus.COMPLETED));
		assertThat(children.get(0).getJobParameters().getLocalDate("as-of")).isEqualTo(AS_OF);
		assertThat(children.get(1).getJobParameters().getLocalDate("as-of")).isEqualTo(AS_OF);
		ExecutionReport report = ExecutionReport.of(nightly, false);
		assertThat(report.steps()).extracting(ExecutionReport.StepReport::step).containsExactlyElementsOf(STEPS);
		// its own restore point, after the backup, with every managed table's rows at it
		String point = report.steps().get(4).summary().get("point").toString();
		assertThat(point).matches("nightly-\\d{8}-\\d{6}\\.\\d{3}, \\d+ tables counted");
		String name = point.substring(0, point.indexOf(','));
		assertThat(this.jdbc.queryForObject("SELECT row_count FROM etl.restore_point_count WHERE point = ?"
				+ " AND table_name = 'ops.tasks'", Long.class, name))
			.isEqualTo(this.jdbc.queryForObject("SELECT count(*) FROM ops.tasks", Long.class));
		assertThat(this.jdbc.queryForObject("SELECT created_at FROM etl.restore_point WHERE name = ?",
				java.sql.Timestamp.class, name).toInstant())
			.isAfter(children.get(3).getEndTime().atZone(java.time.ZoneId.systemDefault()).toInstant());
		for (int i = 0; i < CHILDREN.size(); i++) {
			assertThat(report.steps().get(i).summary().get("child").toString())
				.startsWith("execution " + children.get(i).getId() + " COMPLETED");
		}
		// partition-rollover: partitions up to as-of + 4 months
		assertThat(report.steps().get(0).summary().get("child").toString()).contains("partitions-created 1");
		assertThat(this.jdbc.queryForObject("SELECT to_regclass('ops.task_executions_p2026_10')", String.class)).isNotNull();
		// archive: the oldest month exported, verified and dropped
		assertThat(this.jdbc.queryForObject("SELECT to_regclass('ops.task_executions_p2024_12')", String.class)).isNull();
		assertThat(this.jdbc.queryForObject("SELECT status FROM ops.archive_log WHERE partition_name = 'task_executions_p2024_12'"
				+ " AND tier = 'cold'", String.class)).isEqualTo("completed");
		// refresh-views: every view of its execution refreshed
		assertThat(this.jdbc.queryForList("SELECT DISTINCT status FROM etl.view_refresh_log WHERE job_execution_id = ?",
				String.class, children.get(2).getId())).containsExactly("ok");
		// backup: one backup, the one the step names
		List<BackupCatalog.StoredBackup> backups = this.catalog.list();
		assertThat(backups).hasSize(1);
		assertThat(report.steps().get(3).summary().get("child").toString())
			.contains("dump: backup " + backups.get(0).manifest().id() + " of " + TestDatabase.name());
	}

	@Test
	void aFailedViewRefreshStillLetsTheBackupRunEndsTheNightlyFailedAndItsRestartRunsOnlyThatStepAgain()
			throws Exception {
		JobExecution failed;
		try (Connection holder = TestDatabase.connect(); Statement statement = holder.createStatement()) {
			// a plain refresh holds its view's ACCESS EXCLUSIVE lock until it commits: refresh-views cannot have it
			holder.setAutoCommit(false);
			statement.execute("REFRESH MATERIALIZED VIEW retail.product_sales_30d");
			long after = lastStepExecution();
			CompletableFuture<JobExecution> running = CompletableFuture.supplyAsync(this::nightly);
			// released once refresh-views has failed: the backup's pg_dump would wait for that lock too
			// FAILED, or ABANDONED for the moment between the flow moving on and the listener setting it back
			awaitUntil(() -> step(after, "refresh-views", BatchStatus.FAILED) || step(after, "refresh-views", BatchStatus.ABANDONED)
					|| running.isDone());
			holder.rollback();
			failed = running.get(2, TimeUnit.MINUTES);
		}

		assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
		ExecutionReport report = ExecutionReport.of(failed, false);
		assertThat(report.steps()).extracting(ExecutionReport.StepReport::step).containsExactlyElementsOf(STEPS);
		assertThat(report.steps()).extracting(ExecutionReport.StepReport::status)
			.containsExactly("COMPLETED", "COMPLETED", "FAILED", "COMPLETED", "COMPLETED");
		assertThat(report.exitDescription()).startsWith("refresh-views: execution ")
			.contains(" FAILED: refresh: failed 1")
			.contains("retail.product_sales_30d: not refreshed, a lock was not granted within 1s");
		List<JobExecution> before = children(failed);
		assertThat(before).extracting(JobExecution::getStatus)
			.containsExactly(BatchStatus.COMPLETED, BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.COMPLETED);
		// the night still has its backup
		assertThat(this.catalog.list()).hasSize(1);

		JobExecution restarted = this.runner.restart(failed.getId());

		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(restarted.getJobInstance().getInstanceId()).isEqualTo(failed.getJobInstance().getInstanceId());
		assertThat(ExecutionReport.of(restarted, false).steps()).extracting(ExecutionReport.StepReport::step)
			.containsExactly("refresh-views");
		List<JobExecution> after = children(failed);
		assertThat(after).extracting(child -> child.getJobInstance().getJobName())
			.containsExactly("partition-rollover", "archive", "refresh-views", "backup", "refresh-views");
		assertThat(after.subList(0, 4)).extracting(JobExecution::getId)
			.containsExactlyElementsOf(before.stream().map(JobExecution::getId).toList());
		// the failed child's own instance continued: it refreshed what it had not
		JobExecution refreshAgain = after.get(4);
		assertThat(refreshAgain.getJobInstance().getInstanceId()).isEqualTo(before.get(2).getJobInstance().getInstanceId());
		assertThat(refreshAgain.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(this.jdbc.queryForList("SELECT view_name FROM etl.view_refresh_log WHERE job_execution_id = ?",
				String.class, refreshAgain.getId())).containsExactly("retail.product_sales_30d");
		assertThat(this.catalog.list()).hasSize(1);
	}

	@Test
	void aStepWhoseJobRunsElsewhereWaitsForThatRunToEndThenRunsItsJob() throws Exception {
		JobExecution nightly;
		try (ExecutionLock.Held elsewhere = this.lock.acquire(RefreshViewsJob.NAME)) {
			long after = lastStepExecution();
			CompletableFuture<JobExecution> running = CompletableFuture.supplyAsync(this::nightly);
			// the hourly refresh still going when the nightly's refresh-views step comes
			awaitUntil(() -> step(after, "refresh-views", BatchStatus.STARTED) || running.isDone());
			await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(2))
				.untilAsserted(() -> assertThat(running).as("the step waits for the other run").isNotDone());
			elsewhere.close();
			nightly = running.get(2, TimeUnit.MINUTES);
		}

		assertThat(nightly.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(children(nightly)).extracting(child -> child.getJobInstance().getJobName())
			.containsExactlyElementsOf(CHILDREN);
		assertThat(this.catalog.list()).hasSize(1);
	}

	@Test
	void aStepWhoseJobRunsElsewhereLongerThanTheWaitFailsAsAlreadyRunningTheOthersRunAndTheRestartRunsIt() {
		JobExecution failed;
		try (ExecutionLock.Held elsewhere = this.lock.acquire(ArchiveJob.NAME)) {
			failed = nightly();
		}

		assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
		assertThat(ExecutionReport.of(failed, false).exitDescription())
			.matches("archive: job archive is already running \\(pgbatch archive, pid \\d+ on .*\\); a second run is refused"
					+ " \\(waited up to 5s for it to end\\)");
		assertThat(children(failed)).extracting(child -> child.getJobInstance().getJobName())
			.containsExactly("partition-rollover", "refresh-views", "backup");

		JobExecution restarted = this.runner.restart(failed.getId());

		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(ExecutionReport.of(restarted, false).steps()).extracting(ExecutionReport.StepReport::step)
			.containsExactly("archive");
		assertThat(children(failed)).extracting(child -> child.getJobInstance().getJobName())
			.containsExactly("partition-rollover", "refresh-views", "backup", "archive");
	}

	@Test
	void aNightlyStoppedWhileAStepWaitsForItsJobRunningElsewhereEndsStoppedAndItsRestartContinuesThere()
			throws Exception {
		JobExecution stopped;
		try (ExecutionLock.Held elsewhere = this.lock.acquire(ArchiveJob.NAME)) {
			long after = lastStepExecution();
			CompletableFuture<JobExecution> running = CompletableFuture.supplyAsync(this::nightly);
			awaitUntil(() -> step(after, ArchiveJob.NAME, BatchStatus.STARTED) || running.isDone());
			assertThat(running).as("the archive step waits for the other run").isNotDone();
			this.runner.stop(newest(NightlyJob.NAME));
			stopped = running.get(2, TimeUnit.MINUTES);
		}

		assertThat(stopped.getStatus()).isEqualTo(BatchStatus.STOPPED);
		assertThat(ExecutionReport.of(stopped, false).steps()).extracting(ExecutionReport.StepReport::status)
			.containsExactly("COMPLETED", "STOPPED");
		JobExecution restarted = this.runner.restart(stopped.getId());
		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(ExecutionReport.of(restarted, false).steps()).extracting(ExecutionReport.StepReport::step)
			.containsExactly("archive", "refresh-views", "backup", "restore-point");
	}

	@ParameterizedTest
	@ValueSource(strings = { NightlyJob.NAME, ArchiveJob.NAME })
	void stoppingTheNightlyOrTheJobUnderWayStopsBothAndTheRestartContinuesThatJobsExecution(String job)
			throws Exception {
		JobExecution stopped = nightlyWhileArchiveWaits(() -> {
			this.runner.stop(newest(job));
			// the nightly passes its stop on to the job it runs
			awaitUntil(() -> this.runner.execution(newest(ArchiveJob.NAME)).getStatus() == BatchStatus.STOPPING);
		});

		assertThat(stopped.getStatus()).isEqualTo(BatchStatus.STOPPED);
		assertThat(ExecutionReport.of(stopped, false).steps()).extracting(ExecutionReport.StepReport::status)
			.containsExactly("COMPLETED", "STOPPED");
		JobExecution restarted = this.runner.restart(stopped.getId());
		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(ExecutionReport.of(restarted, false).steps()).extracting(ExecutionReport.StepReport::step)
			.containsExactly("archive", "refresh-views", "backup", "restore-point");
		List<JobExecution> children = children(stopped);
		assertThat(children).extracting(JobExecution::getStatus)
			.containsExactly(BatchStatus.COMPLETED, BatchStatus.STOPPED, BatchStatus.COMPLETED, BatchStatus.COMPLETED,
					BatchStatus.COMPLETED);
		assertThat(children.get(2).getJobInstance().getInstanceId())
			.isEqualTo(children.get(1).getJobInstance().getInstanceId());
	}

	@Test
	void aNightlyKilledWithSigkillInsideAChildIsRestartedContinuingThatChildsInstance() throws Exception {
		// the detach waits for the reader for as long as the test needs (its waits are bounded now)
		Map<String, String> environment = Map.of("ETL_BACKUP_KEYSET", KEYSET.toString(), "ETL_BACKUP_PREFIX",
				PREFIX + "/backup", "ETL_ARCHIVE_PREFIX", PREFIX + "/archive", "ETL_PARTITION_LOCK_TIMEOUT", "10m");
		long id;
		try (Connection reader = readerOfTheOldestPartition()) {
			EtlProcess run = EtlProcess.start(environment, "run", "nightly", "as-of=" + AS_OF, "force=true");
			awaitUntil(() -> archiveWaitsForTheReader() || !run.isAlive());
			assertThat(run.isAlive()).as("bin/etl run nightly waits in its archive step").isTrue();
			run.kill();
			reader.rollback();
			id = newest(NightlyJob.NAME);
		}
		JobExecution killed = this.runner.execution(id);
		assertThat(children(killed)).extracting(JobExecution::getStatus)
			.containsExactly(BatchStatus.COMPLETED, BatchStatus.STARTED);

		// as bin/etl restart does (the process that ran both executions is gone: their locks are free)
		JobExecution restarted = this.runner.restart(id);

		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(this.runner.execution(id).getStatus()).isEqualTo(BatchStatus.FAILED);
		List<JobExecution> children = children(killed);
		assertThat(children).extracting(child -> child.getJobInstance().getJobName())
			.containsExactly("partition-rollover", "archive", "archive", "refresh-views", "backup");
		assertThat(children).extracting(JobExecution::getStatus)
			.containsExactly(BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.COMPLETED, BatchStatus.COMPLETED,
					BatchStatus.COMPLETED);
		assertThat(children.get(2).getJobInstance().getInstanceId())
			.isEqualTo(children.get(1).getJobInstance().getInstanceId());
		assertThat(this.jdbc.queryForObject("SELECT to_regclass('ops.task_executions_p2024_12')", String.class)).isNull();
	}

	@Test
	void aNightlyThatAChildWouldRefuseIsRefusedBeforeAnythingIsWritten() throws Exception {
		long executions = this.jdbc.queryForObject("SELECT count(*) FROM etl.batch_job_execution", Long.class);
		Path away = Files.move(KEYSET, KEYSET.resolveSibling("moved-away.json"));
		try {
			assertThatThrownBy(this::nightly).isInstanceOf(RefusedException.class).hasMessageContaining("there is no keyset");
		}
		finally {
			Files.move(away, KEYSET);
		}
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM etl.batch_job_execution", Long.class))
			.isEqualTo(executions);
	}

	private JobExecution nightly() {
		return JobRuns.run(this.runner, NightlyJob.DEFINITION, "as-of=" + AS_OF, "force=true");
	}

	/** The executions of the nightly's children, oldest first: those that share its run.id. */
	private List<JobExecution> children(JobExecution nightly) {
		return this.jdbc.queryForList("""
				SELECT p.job_execution_id FROM etl.batch_job_execution_params p
				JOIN etl.batch_job_execution e ON e.job_execution_id = p.job_execution_id
				JOIN etl.batch_job_instance i ON i.job_instance_id = e.job_instance_id
				WHERE p.parameter_name = ? AND p.parameter_value = ? AND i.job_name <> ?
				ORDER BY p.job_execution_id
				""", Long.class, JobParametersParser.RUN_ID,
				nightly.getJobParameters().getLong(JobParametersParser.RUN_ID).toString(), NightlyJob.NAME)
			.stream()
			.map(this.runner::execution)
			.toList();
	}

	/**
	 * Runs a nightly whose archive step waits for a reader (see {@link #readerOfTheOldestPartition}), does
	 * {@code meanwhile}, lets archive go on, and returns the nightly's execution once it has ended.
	 */
	private JobExecution nightlyWhileArchiveWaits(Meanwhile meanwhile) throws Exception {
		try (Connection reader = readerOfTheOldestPartition()) {
			CompletableFuture<JobExecution> running = CompletableFuture.supplyAsync(this::nightly);
			awaitUntil(() -> archiveWaitsForTheReader() || running.isDone());
			assertThat(running).as("nightly waits in its archive step").isNotDone();
			meanwhile.run();
			reader.rollback();
			return running.get(2, TimeUnit.MINUTES);
		}
	}

	@FunctionalInterface
	private interface Meanwhile {

		void run() throws Exception;

	}

	/**
	 * A transaction that has read the oldest partition of ops.task_executions: archive exports it beside the
	 * reader, then waits to detach it until the transaction ends. The archive step, and so nightly, is held up.
	 */
	private static Connection readerOfTheOldestPartition() throws SQLException {
		Connection reader = TestDatabase.connect();
		reader.setAutoCommit(false);
		try (Statement statement = reader.createStatement()) {
			statement.execute("LOCK TABLE ops.task_executions_p2024_12 IN ACCESS SHARE MODE");
		}
		return reader;
	}

	private long lastStepExecution() {
		return this.jdbc.queryForObject("SELECT coalesce(max(step_execution_id), 0) FROM etl.batch_step_execution",
				Long.class);
	}

	/** Whether a nightly's step of that name recorded after that step execution is in that status. */
	private boolean step(long after, String name, BatchStatus status) {
		return this.jdbc.queryForObject("SELECT count(*) FROM etl.batch_step_execution WHERE step_execution_id > ?"
				+ " AND step_name = ? AND status = ?", Long.class, after, name, status.name()) > 0;
	}

	private long newest(String job) {
		return this.jdbc.queryForObject("SELECT max(e.job_execution_id) FROM etl.batch_job_execution e"
				+ " JOIN etl.batch_job_instance i ON i.job_instance_id = e.job_instance_id WHERE i.job_name = ?", Long.class,
				job);
	}

	private boolean archiveWaitsForTheReader() {
		return this.jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
				+ " AND wait_event_type = 'Lock' AND query LIKE '%DETACH PARTITION%task_executions_p2024_12%'", Long.class) == 1;
	}

	private static void awaitUntil(Callable<Boolean> condition) {
		await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50)).until(condition);
	}

}
