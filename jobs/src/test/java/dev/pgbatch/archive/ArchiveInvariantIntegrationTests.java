package dev.pgbatch.archive;

import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.cli.EtlProcess;
import dev.pgbatch.crypto.TestKeysets;
import dev.pgbatch.partition.PartitionRolloverJob;
import dev.pgbatch.partition.TestPolicies;
import dev.pgbatch.seed.SeedDataRuns;
import dev.pgbatch.store.CuttingProxy;
import dev.pgbatch.store.ObjectStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The data-safety invariant of DESIGN.md as a seeded random walk: rows inserted at random times (archived
 * intervals, warm ones, the current one, the future), partition-rollover and archive at random as-of days,
 * archive restore of a random archived partition, a seed-data reset now and then, the object store cut in
 * the middle of an archive, and bin/etl killed with SIGKILL in the middle of a run and restarted. After every
 * step, every row of ops.task_executions the walk has seen written is in PostgreSQL or in exactly one cold
 * segment that reads back through SealedObjects (authenticated) with its manifest beside it, never both,
 * never neither; every sales transaction is in retail.sales_transactions or its archive table, once.
 *
 * <p>The walk is reproducible from its seed (printed on failure, with today's date, since the windows count
 * from it): -Dpgbatch.walk.seed=N or ETL_TEST_WALK_SEED. Its length: -Dpgbatch.walk.steps or
 * ETL_TEST_WALK_STEPS (default 40), of which at most -Dpgbatch.walk.kills or ETL_TEST_WALK_KILLS (default 2)
 * start bin/etl to kill it (about 5 s each).
 */
class ArchiveInvariantIntegrationTests extends DatabaseIntegrationTest {

	private static final String TABLE = RowPlaces.TABLE;

	private static final long SEED = setting("pgbatch.walk.seed", "ETL_TEST_WALK_SEED", new Random().nextLong() >>> 20);

	private static final int STEPS = (int) setting("pgbatch.walk.steps", "ETL_TEST_WALK_STEPS", 40);

	private static final int KILLS = (int) setting("pgbatch.walk.kills", "ETL_TEST_WALK_KILLS", 2);

	private static final Path KEYSET = TestKeysets.fresh();

	private static final String PREFIX = "walk-" + UUID.randomUUID();

	/** Rows moved out of a default partition per transaction: small, so a kill can fall between them. */
	private static final String BATCH_ROWS = "4";

	private static final CuttingProxy STORE = CuttingProxy.inFrontOfTheStack();

	private static final Path POLICY = TestPolicies.oneWarmMonth();

	private static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);

	@DynamicPropertySource
	static void walk(DynamicPropertyRegistry registry) {
		registry.add("etl.keyset.path", KEYSET::toString);
		registry.add("etl.archive.prefix", () -> PREFIX);
		registry.add("etl.partition.batch-rows", () -> BATCH_ROWS);
		registry.add("etl.partition.policy", POLICY::toString);
		registry.add("etl.s3.endpoint", () -> "http://127.0.0.1:" + STORE.port());
	}

	@AfterAll
	static void close() throws IOException {
		STORE.close();
	}

	@Autowired
	ObjectStore store;

	@Autowired
	ArchivedPartitions archived;

	private final Random random = new Random(SEED);

	/** Every row of ops.task_executions written and not deliberately removed (by a reset): execution_id created_at. */
	private final Set<String> rows = new HashSet<>();

	private final Set<String> sales = new HashSet<>();

	private final List<String> history = new ArrayList<>();

	private int resets;

	private int kills;

	@Test
	void everyRowIsInPostgresqlOrInExactlyOneColdSegmentAfterEveryStep() throws Exception {
		System.out.printf("archive walk: seed %d, %d steps, today %s (rerun with -Dpgbatch.walk.seed=%d)%n", SEED, STEPS,
				TODAY, SEED);
		RowPlaces.startAfresh(this.jdbc);
		if (KILLS > 0) {
			// the first bin/etl after a build prepares its runner (a minute or more on a busy machine): not under a kill
			EtlProcess.run("jobs");
		}
		reset();
		check(0, "seed-data");
		for (int step = 1; step <= STEPS; step++) {
			String done = step();
			check(step, done);
		}
	}

	/** One step, chosen at random; what it did, for the history. */
	private String step() throws Exception {
		int roll = this.random.nextInt(100);
		if (roll < 30) {
			return insert();
		}
		if (roll < 45) {
			return job(PartitionRolloverJob.DEFINITION.name(), asOf());
		}
		if (roll < 65) {
			return job(ArchiveJob.NAME, asOf());
		}
		if (roll < 78) {
			return restore();
		}
		if (roll < 87) {
			return withTheStoreCut();
		}
		if (roll < 95 && this.kills < KILLS) {
			this.kills++;
			return killAndRestart(this.random.nextBoolean() ? ArchiveJob.NAME : PartitionRolloverJob.DEFINITION.name(),
					asOf());
		}
		if (roll >= 97) {
			return reset();
		}
		return insert();
	}

	/** A few rows at random times: an archived interval, a warm one, this month, or months ahead. */
	private String insert() {
		List<String> tasks = this.jdbc.queryForList("SELECT task_id || ' ' || assigned_agent FROM ops.tasks"
				+ " WHERE assigned_agent IS NOT NULL ORDER BY task_id LIMIT 50", String.class);
		List<String> stores = this.jdbc.queryForList("SELECT store_id FROM retail.stores ORDER BY store_id", String.class);
		int count = 1 + this.random.nextInt(4);
		List<String> when = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			int months = switch (this.random.nextInt(4)) {
				case 0 -> -15 - this.random.nextInt(10); // an archived interval, or older
				case 1 -> -3 - this.random.nextInt(12); // warm
				case 2 -> 0;
				default -> 1 + this.random.nextInt(8); // premade, or beyond: the default partition
			};
			LocalDate month = TODAY.withDayOfMonth(1).plusMonths(months);
			OffsetDateTime at = month.atStartOfDay()
				.plusSeconds(this.random.nextLong(month.lengthOfMonth() * 86_400L))
				.atOffset(ZoneOffset.UTC);
			UUID id = new UUID(this.random.nextLong(), this.random.nextLong());
			String[] task = tasks.get(this.random.nextInt(tasks.size())).split(" ");
			this.jdbc.update("INSERT INTO ops.task_executions (execution_id, task_id, agent_id, status, execution_time,"
					+ " created_at) VALUES (?, ?::uuid, ?::uuid, 'completed', 1.5, ?)", id, task[0], task[1], at);
			this.rows.add(id + " " + at.toEpochSecond());
			UUID sale = new UUID(this.random.nextLong(), this.random.nextLong());
			this.jdbc.update("INSERT INTO retail.sales_transactions (transaction_id, store_id, transaction_date, subtotal,"
					+ " total_amount) VALUES (?, ?, ?, 10, 10)", sale, stores.get(this.random.nextInt(stores.size())), at);
			this.sales.add(sale.toString());
			when.add(at.toLocalDate().toString());
		}
		return "insert " + String.join(" ", when);
	}

	/** partition-rollover or archive in this process. */
	private String job(String job, LocalDate asOf) {
		JobExecution run = JobRuns.run(this.runner, ArchiveJob.NAME.equals(job) ? ArchiveJob.DEFINITION
				: PartitionRolloverJob.DEFINITION, "as-of=" + asOf);
		return job + " as-of=" + asOf + ": " + outcome(run);
	}

	/** archive restore of a partition that archive_log lists as archived, as `bin/etl archive restore` does. */
	private String restore() {
		List<String> partitions = this.jdbc.queryForList("SELECT DISTINCT partition_name FROM ops.archive_log"
				+ " WHERE table_name = ? AND tier = 'cold' AND status = 'completed' ORDER BY 1", String.class, TABLE);
		if (partitions.isEmpty()) {
			return insert();
		}
		String partition = partitions.get(this.random.nextInt(partitions.size()));
		try {
			return "archive restore " + partition + ": " + this.archived.restore(TABLE, partition) + " rows";
		}
		catch (RuntimeException ex) {
			return "archive restore " + partition + ": refused: " + ex.getMessage();
		}
	}

	/** archive, or now and then archive restore, while the object store stops after a random number of bytes sent to it. */
	private String withTheStoreCut() {
		boolean restore = this.random.nextInt(3) == 0;
		LocalDate asOf = asOf();
		// a restore sends requests only, of a few hundred bytes each
		long bytes = this.random.nextInt(restore ? 4_000 : 60_000);
		STORE.stopAfter(bytes);
		try {
			String done = restore ? restore()
					: "archive as-of=" + asOf + ": " + outcome(JobRuns.run(this.runner, ArchiveJob.DEFINITION, "as-of=" + asOf));
			return done + ", the store stopping after " + bytes + " bytes" + (STORE.stopped() ? " (cut)" : "");
		}
		finally {
			STORE.resume();
		}
	}

	/**
	 * bin/etl run JOB killed with SIGKILL a random moment after its execution started, the invariant checked
	 * at once, then bin/etl restart.
	 */
	private String killAndRestart(String job, LocalDate asOf) throws Exception {
		Map<String, String> environment = Map.of("ETL_BACKUP_KEYSET", KEYSET.toString(), "ETL_ARCHIVE_PREFIX", PREFIX,
				"ETL_ROLLOVER_BATCH_ROWS", BATCH_ROWS, "ETL_PARTITION_POLICY", POLICY.toString());
		long before = newestExecution(job);
		long delay = this.random.nextInt(1500);
		EtlProcess run = EtlProcess.start(environment, "run", job, "as-of=" + asOf);
		long deadline = System.nanoTime() + 180_000_000_000L;
		while (run.isAlive() && newestExecution(job) == before && System.nanoTime() < deadline) {
			Thread.sleep(20);
		}
		Thread.sleep(delay);
		boolean killed = run.isAlive();
		if (killed) {
			run.kill();
		}
		else {
			run.await();
		}
		long execution = newestExecution(job);
		String status = execution == before ? "none" : status(execution);
		String what = "bin/etl run " + job + " as-of=" + asOf + (!killed ? " ended before its kill"
				: execution == before ? " killed before its execution started" : " killed " + delay
						+ " ms into execution " + execution + " (" + status + ")");
		check(-1, what);
		if (execution == before || "COMPLETED".equals(status)) {
			return what;
		}
		EtlProcess.Result restart = EtlProcess.start(environment, "restart", Long.toString(execution)).await();
		return what + "; bin/etl restart: exit " + restart.exitCode()
				+ (restart.exitCode() == 0 ? "" : " " + restart.stderr().strip().lines().reduce((a, b) -> b).orElse(""));
	}

	/**
	 * seed-data reset=true with a seed of its own (new ids; the old rows in cold segments stay there and stay
	 * counted): the rows in PostgreSQL before are removed on purpose, the seed's are new.
	 */
	private String reset() {
		this.rows.removeAll(RowPlaces.rowsOf(this.jdbc, TABLE));
		long seed = 42 + this.resets++;
		JobExecution run = SeedDataRuns.seed(this.runner, "scale=1", "reset=true", "seed=" + seed, "as-of=" + TODAY);
		this.rows.addAll(RowPlaces.rowsOf(this.jdbc, TABLE));
		this.sales.clear();
		this.sales.addAll(this.jdbc.queryForList("SELECT transaction_id::text FROM retail.sales_transactions"
				+ " UNION ALL SELECT transaction_id::text FROM retail.sales_transactions_archive", String.class));
		return "seed-data reset=true seed=" + seed + ": " + outcome(run);
	}

	/** An as-of inside the window around today: mostly the last few months, so that a few partitions move. */
	private LocalDate asOf() {
		return TODAY.minusDays(this.random.nextInt(120)).plusDays(this.random.nextInt(10) == 0 ? 45 : 0);
	}

	/**
	 * The invariant: every row the walk has seen written is in PostgreSQL (the table, or a table a job left
	 * beside it) or in one completed cold segment, and nowhere else; no row the walk never wrote appears.
	 */
	private void check(int step, String done) throws Exception {
		this.history.add((step < 0 ? "  " : step + ": ") + done);
		System.out.println("archive walk " + (step < 0 ? "  " : step + ": ") + done);
		List<String> problems = RowPlaces.now(this.jdbc, this.store, KEYSET).problems(this.rows);
		Map<String, Long> salesPlaces = new HashMap<>();
		for (String id : this.jdbc.queryForList("SELECT transaction_id::text FROM retail.sales_transactions UNION ALL"
				+ " SELECT transaction_id::text FROM retail.sales_transactions_archive", String.class)) {
			salesPlaces.merge(id, 1L, Long::sum);
		}
		this.sales.stream().filter(id -> salesPlaces.getOrDefault(id, 0L) != 1).limit(5)
			.forEach(id -> problems.add("sales transaction " + id + " is in " + salesPlaces.getOrDefault(id, 0L)
					+ " of retail.sales_transactions and its archive"));
		if (!problems.isEmpty()) {
			throw new AssertionError(String.format("archive walk seed %d (today %s) broke the invariant after %s:%n  %s%n"
					+ "%d problems, the first:%n  %s%nrerun: -Dpgbatch.walk.seed=%d -Dpgbatch.walk.steps=%d%n",
					SEED, TODAY, step < 0 ? "a kill in the last step" : "step " + step, String.join("\n  ", this.history),
					problems.size(), String.join("\n  ", problems.subList(0, Math.min(12, problems.size()))), SEED,
					Math.max(step, 1)));
		}
	}

	private long newestExecution(String job) {
		return this.jdbc.queryForObject("SELECT coalesce(max(e.job_execution_id), 0) FROM etl.batch_job_execution e"
				+ " JOIN etl.batch_job_instance i ON i.job_instance_id = e.job_instance_id WHERE i.job_name = ?",
				Long.class, job);
	}

	private String status(long execution) {
		return this.jdbc.queryForObject("SELECT status FROM etl.batch_job_execution WHERE job_execution_id = ?",
				String.class, execution);
	}

	private static String outcome(JobExecution run) {
		return run.getStatus() == BatchStatus.COMPLETED ? "COMPLETED"
				: run.getStatus() + " " + run.getExitStatus().getExitDescription().strip().lines().findFirst().orElse("");
	}

	private static long setting(String property, String variable, long otherwise) {
		String value = System.getProperty(property, System.getenv(variable));
		return value == null || value.isBlank() ? otherwise : Long.parseLong(value.strip());
	}

}
