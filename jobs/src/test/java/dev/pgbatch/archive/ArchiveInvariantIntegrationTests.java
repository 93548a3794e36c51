package dev.pgbatch.archive;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
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
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.cli.EtlProcess;
import dev.pgbatch.core.ExecutionReport;
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
import static org.awaitility.Awaitility.await;

/**
 * The data-safety invariant (every row is in PostgreSQL or in exactly one restorable cold segment, never both,
 * never neither; docs/testing.md, "Invariants") as a seeded random walk: rows inserted at random times (archived
 * intervals, warm ones, the current one, the future), late rows into intervals archive moved out,
 * partition-rollover and archive at random as-of days, archive restore of a random archived interval (and
 * archive of it again later, so that an interval gets several segments), a seed-data reset now and then (refused
 * while cold segments are not restored; every other time every segment is restored first, and the reset runs), the
 * object store down from the start of an archive or cut in its middle (or a restore's), and bin/etl killed
 * with SIGKILL in the middle of a run and restarted. After every step, every row of ops.task_executions the
 * walk has seen written is in PostgreSQL or in exactly one cold segment that reads back through SealedObjects
 * (authenticated) with its manifest beside it, never both, never neither; every sales transaction is in
 * retail.sales_transactions or its archive table, once. A restore may fail only while the walk has the object
 * store down under it; any other refusal fails the walk. At the end every segment is restored through archive
 * restore, and every row the walk wrote (and did not remove with a reset) must be in ops.task_executions once.
 *
 * <p>Every step but the kills runs in this process, as bin/etl would run it (the same JobRunner and
 * ArchivedPartitions); a killed run is a bin/etl process, since a kill is the point there. A segment is read
 * whole once, when it appears (see {@link RowPlaces.ColdSegments}), and every segment again every
 * {@value #REREAD_EVERY} steps and after the last.
 *
 * <p>The walk is reproducible from its seed (printed on failure, with today's date, since the windows count
 * from it): -Dpgbatch.walk.seed=N or ETL_TEST_WALK_SEED. Its length: -Dpgbatch.walk.steps or
 * ETL_TEST_WALK_STEPS (default 250), of which -Dpgbatch.walk.kills or ETL_TEST_WALK_KILLS (default 4) start
 * bin/etl to kill it (a few seconds each).
 */
class ArchiveInvariantIntegrationTests extends DatabaseIntegrationTest {

	private static final String TABLE = RowPlaces.TABLE;

	private static final long SEED = setting("pgbatch.walk.seed", "ETL_TEST_WALK_SEED", new Random().nextLong() >>> 20);

	private static final int STEPS = (int) setting("pgbatch.walk.steps", "ETL_TEST_WALK_STEPS", 250);

	private static final int KILLS = (int) setting("pgbatch.walk.kills", "ETL_TEST_WALK_KILLS", 4);

	/** Every cold segment is read whole again every this many steps: between, a listing shows each is there. */
	private static final int REREAD_EVERY = 125;

	/** One seed-data reset every this many steps. */
	private static final int RESET_EVERY = 125;

	private static final Path KEYSET = TestKeysets.fresh();

	private static final String PREFIX = "walk-" + UUID.randomUUID();

	/** Rows moved out of a default partition per transaction: small, so a kill can fall between them. */
	private static final String BATCH_ROWS = "4";

	private static final CuttingProxy STORE = CuttingProxy.inFrontOfTheStack();

	private static final Path POLICY = TestPolicies.oneWarmMonth();

	private static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);

	/** The kinds of step that send nothing to the object store: the segments read before stay as they were. */
	private static final Set<String> QUIET = Set.of("insert", "insert late", "partition-rollover", "seed-data reset",
			"seed-data, the start");

	/** The partitions with cold segments not restored. */
	private static final String LIVE_PARTITIONS = "SELECT DISTINCT partition_name FROM ops.archive_log"
			+ " WHERE table_name = ? AND tier = 'cold' AND status = 'completed' ORDER BY 1";

	/** Every sales transaction, where it may be. */
	private static final String SALES = "SELECT transaction_id::text AS k FROM retail.sales_transactions UNION ALL"
			+ " SELECT transaction_id::text FROM retail.sales_transactions_archive";

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

	/** The digests of {@link #rows} and {@link #sales}, kept with them. */
	private RowPlaces.Digest written = RowPlaces.Digest.NONE;

	private RowPlaces.Digest salesWritten = RowPlaces.Digest.NONE;

	/** Whether the last step sent anything to the object store (archive, restore, a killed run). */
	private boolean storeTouched = true;

	private final List<String> history = new ArrayList<>();

	/** Each kind of step: how many ran, and their time in ns; the checks' time under "check". */
	private final Map<String, long[]> kinds = new TreeMap<>();

	private RowPlaces.ColdSegments segments;

	private int resets;

	/** Rows inserted into an interval that had a completed cold segment and no partition then. */
	private int lateRows;

	/** Restores that brought back more than one segment of an interval. */
	private int multiSegmentRestores;

	/** Resets refused for cold segments not restored; restores refused with the store down under them. */
	private int refusedResets;

	private int refusedRestores;

	/** Reset steps that found cold segments: every other one restores them all and resets. */
	private int resetsWithSegments;

	/** The step under way, for the message of a failure. */
	private int step;

	@Test
	void everyRowIsInPostgresqlOrInExactlyOneColdSegmentAfterEveryStep() throws Exception {
		System.out.printf("archive walk: seed %d, %d steps, today %s (rerun with -Dpgbatch.walk.seed=%d)%n", SEED, STEPS,
				TODAY, SEED);
		long started = System.nanoTime();
		this.segments = new RowPlaces.ColdSegments(this.store, KEYSET);
		RowPlaces.startAfresh(this.jdbc);
		Set<Integer> killAt = new TreeSet<>();
		while (killAt.size() < Math.min(KILLS, STEPS)) {
			killAt.add(1 + this.random.nextInt(STEPS));
		}
		// a reset costs as much as a dozen other steps: one every RESET_EVERY, at random places
		Set<Integer> resetAt = new TreeSet<>();
		while (resetAt.size() < Math.min(STEPS / RESET_EVERY, STEPS - killAt.size())) {
			int step = 1 + this.random.nextInt(STEPS);
			if (!killAt.contains(step)) {
				resetAt.add(step);
			}
		}
		// the first bin/etl after a build prepares its runner (a minute or more on a busy machine): not under a
		// kill, and meanwhile the walk goes on
		CompletableFuture<Void> prepared = KILLS == 0 ? CompletableFuture.completedFuture(null)
				: CompletableFuture.runAsync(() -> {
					try {
						EtlProcess.run("jobs");
					}
					catch (IOException | InterruptedException ex) {
						throw new IllegalStateException(ex);
					}
				});
		check(0, timed("seed-data, the start", this::reseed), false);
		for (int step = 1; step <= STEPS; step++) {
			this.step = step;
			String done;
			if (killAt.contains(step)) {
				prepared.join();
				String job = this.random.nextBoolean() ? ArchiveJob.NAME : PartitionRolloverJob.DEFINITION.name();
				done = timed("kill and restart", () -> killAndRestart(job, asOf()));
			}
			else if (resetAt.contains(step)) {
				done = timed("seed-data reset", this::reset);
			}
			else {
				done = step();
			}
			check(step, done, step % REREAD_EVERY == 0 || step == STEPS);
		}
		// restorable through the real path, not only through the scratch table's read
		this.step = STEPS + 1;
		check(STEPS + 1, timed("restore every segment", this::restoreAll), false);
		everyRowIsInTheTableOnce();
		summary(System.nanoTime() - started);
	}

	/** One step, chosen at random; what it did, for the history. */
	private String step() throws Exception {
		int roll = this.random.nextInt(100);
		if (roll < 36) {
			return timed("insert", this::insert);
		}
		if (roll < 50) {
			return timed("insert late", this::late);
		}
		if (roll < 62) {
			return timed("partition-rollover", () -> job(PartitionRolloverJob.DEFINITION.name(), asOf()));
		}
		if (roll < 76) {
			return timed("archive", () -> job(ArchiveJob.NAME, asOf()));
		}
		if (roll < 88) {
			return timed("archive restore", () -> restore(false));
		}
		return withTheStoreDown();
	}

	/** A step, timed and counted under its kind. */
	private String timed(String kind, Callable<String> step) throws Exception {
		this.storeTouched = !QUIET.contains(kind);
		long started = System.nanoTime();
		try {
			return step.call();
		}
		finally {
			long[] counts = this.kinds.computeIfAbsent(kind, k -> new long[2]);
			counts[0]++;
			counts[1] += System.nanoTime() - started;
		}
	}

	/** A few rows at random times: an archived interval, a warm one, this month, or months ahead. */
	private String insert() {
		int count = 1 + this.random.nextInt(4);
		List<String> when = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			int months = switch (this.random.nextInt(4)) {
				case 0 -> -15 - this.random.nextInt(10); // an archived interval, or older
				case 1 -> -3 - this.random.nextInt(12); // warm
				case 2 -> 0;
				default -> 1 + this.random.nextInt(8); // premade, or beyond: the default partition
			};
			when.add(insertIn(TODAY.withDayOfMonth(1).plusMonths(months)));
		}
		return "insert " + String.join(" ", when);
	}

	/**
	 * A row or two into an interval archive moved out (it has a completed cold segment): they wait in the
	 * default partition until partition-rollover makes the interval's partition again and archive exports it
	 * as another segment, or a restore merges them.
	 */
	private String late() {
		List<LocalDate> archivedMonths = this.jdbc.queryForList("SELECT DISTINCT range_start::date FROM ops.archive_log"
				+ " WHERE table_name = ? AND tier = 'cold' AND status = 'completed' ORDER BY 1", LocalDate.class, TABLE);
		if (archivedMonths.isEmpty()) {
			return insert();
		}
		LocalDate month = archivedMonths.get(this.random.nextInt(archivedMonths.size()));
		String partition = this.jdbc.queryForObject("SELECT to_regclass(?)::text", String.class,
				"ops.task_executions_p" + month.getYear() + "_" + String.format("%02d", month.getMonthValue()));
		int count = 1 + this.random.nextInt(2);
		List<String> when = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			when.add(insertIn(month));
		}
		if (partition == null) {
			this.lateRows += count;
		}
		return "insert late " + String.join(" ", when) + (partition == null ? "" : " (into the restored " + partition + ")");
	}

	/** One row of ops.task_executions (and one sale) at a random time in the month; the day, for the history. */
	private String insertIn(LocalDate month) {
		List<String> tasks = this.jdbc.queryForList("SELECT task_id || ' ' || assigned_agent FROM ops.tasks"
				+ " WHERE assigned_agent IS NOT NULL ORDER BY task_id LIMIT 50", String.class);
		List<String> stores = this.jdbc.queryForList("SELECT store_id FROM retail.stores ORDER BY store_id", String.class);
		OffsetDateTime at = month.atStartOfDay()
			.plusSeconds(this.random.nextLong(month.lengthOfMonth() * 86_400L))
			.atOffset(ZoneOffset.UTC);
		UUID id = new UUID(this.random.nextLong(), this.random.nextLong());
		String[] task = tasks.get(this.random.nextInt(tasks.size())).split(" ");
		this.jdbc.update("INSERT INTO ops.task_executions (execution_id, task_id, agent_id, status, execution_time,"
				+ " created_at) VALUES (?, ?::uuid, ?::uuid, 'completed', 1.5, ?)", id, task[0], task[1], at);
		String row = id + " " + at.toEpochSecond();
		this.rows.add(row);
		this.written = this.written.plus(RowPlaces.Digest.of(List.of(row)));
		UUID sale = new UUID(this.random.nextLong(), this.random.nextLong());
		this.jdbc.update("INSERT INTO retail.sales_transactions (transaction_id, store_id, transaction_date, subtotal,"
				+ " total_amount) VALUES (?, ?, ?, 10, 10)", sale, stores.get(this.random.nextInt(stores.size())), at);
		this.sales.add(sale.toString());
		this.salesWritten = this.salesWritten.plus(RowPlaces.Digest.of(List.of(sale.toString())));
		return at.toLocalDate().toString();
	}

	/** partition-rollover or archive in this process. */
	private String job(String job, LocalDate asOf) {
		JobExecution run = JobRuns.run(this.runner, ArchiveJob.NAME.equals(job) ? ArchiveJob.DEFINITION
				: PartitionRolloverJob.DEFINITION, "as-of=" + asOf);
		return job + " as-of=" + asOf + ": " + outcome(run);
	}

	/**
	 * archive restore of a partition that archive_log lists as archived, as `bin/etl archive restore` does. It
	 * may be refused only when {@code storeDown} and the store was cut under it: any other refusal fails the walk.
	 */
	private String restore(boolean storeDown) {
		List<String> partitions = this.jdbc.queryForList(LIVE_PARTITIONS, String.class, TABLE);
		if (partitions.isEmpty()) {
			return insert();
		}
		String partition = partitions.get(this.random.nextInt(partitions.size()));
		int segmentCount = this.jdbc.queryForObject("SELECT count(*) FROM ops.archive_log WHERE table_name = ?"
				+ " AND partition_name = ? AND tier = 'cold' AND status = 'completed'", Integer.class, TABLE, partition);
		String what = "archive restore " + partition + (segmentCount > 1 ? " (" + segmentCount + " segments)" : "");
		try {
			long added = this.archived.restore(TABLE, partition);
			if (segmentCount > 1) {
				this.multiSegmentRestores++;
			}
			return what + ": " + added + " rows";
		}
		catch (RuntimeException ex) {
			if (storeDown && STORE.stopped()) {
				this.refusedRestores++;
				return what + ": refused: " + ex.getMessage();
			}
			throw broken(what + ": refused: " + ex.getMessage(), ex);
		}
	}

	/** Every interval with cold segments brought back through archive restore, each of which must succeed. */
	private String restoreAll() {
		this.storeTouched = true;
		List<String> partitions = this.jdbc.queryForList(LIVE_PARTITIONS, String.class, TABLE);
		long added = 0;
		for (String partition : partitions) {
			try {
				added += this.archived.restore(TABLE, partition);
			}
			catch (RuntimeException ex) {
				throw broken("restoring every segment: archive restore " + partition + " refused: " + ex.getMessage(), ex);
			}
		}
		List<String> left = this.jdbc.queryForList(LIVE_PARTITIONS, String.class, TABLE);
		if (!left.isEmpty()) {
			throw broken("restoring every segment: segments of " + left + " are left", null);
		}
		return "archive restore of every archived interval (" + partitions.size() + "): " + added + " rows";
	}

	/** After every segment is restored: each row the walk wrote and did not remove is in the table, once. */
	private void everyRowIsInTheTableOnce() {
		Map<String, Long> inTable = new HashMap<>();
		RowPlaces.rowsOf(this.jdbc, TABLE).forEach(row -> inTable.merge(row, 1L, Long::sum));
		List<String> problems = new ArrayList<>();
		this.rows.stream().filter(row -> inTable.getOrDefault(row, 0L) != 1).limit(12)
			.forEach(row -> problems.add("row " + row + " is " + inTable.getOrDefault(row, 0L) + " times in " + TABLE));
		inTable.keySet().stream().filter(row -> !this.rows.contains(row)).limit(5)
			.forEach(row -> problems.add("row " + row + " is in " + TABLE + " but was never written"));
		if (!problems.isEmpty()) {
			throw broken("after every segment was restored: " + String.join("; ", problems), null);
		}
	}

	/** The walk's failure at the step under way, with its history and how to run it again. */
	private AssertionError broken(String what, Throwable cause) {
		return new AssertionError(String.format("archive walk seed %d (today %s) failed at step %d:%n  %s%n%s%n"
				+ "rerun: -Dpgbatch.walk.seed=%d -Dpgbatch.walk.steps=%d%n", SEED, TODAY, this.step,
				String.join("\n  ", this.history), what, SEED, Math.max(1, Math.min(this.step, STEPS))), cause);
	}

	/**
	 * archive, or now and then archive restore, with the object store down: from the start, or stopping after
	 * a random number of bytes sent to it.
	 */
	private String withTheStoreDown() throws Exception {
		boolean restore = this.random.nextInt(3) == 0;
		LocalDate asOf = asOf();
		// a restore sends requests only, of a few hundred bytes each
		long bytes = this.random.nextInt(4) == 0 ? 0 : this.random.nextInt(restore ? 4_000 : 60_000);
		if (bytes == 0) {
			STORE.cut();
		}
		else {
			STORE.stopAfter(bytes);
		}
		try {
			String done = restore ? timed("archive restore, the store down", () -> restore(true))
					: timed("archive, the store down", () -> "archive as-of=" + asOf + ": "
							+ outcome(JobRuns.run(this.runner, ArchiveJob.DEFINITION, "as-of=" + asOf)));
			return done + (bytes == 0 ? ", the store down from the start"
					: ", the store stopping after " + bytes + " bytes" + (STORE.stopped() ? " (cut)" : ""));
		}
		finally {
			STORE.resume();
		}
	}

	/**
	 * bin/etl run JOB killed with SIGKILL a random moment after its execution started, the invariant checked
	 * at once, then the restart bin/etl restart makes (JobRunner.restart), in this process.
	 */
	private String killAndRestart(String job, LocalDate asOf) throws Exception {
		Map<String, String> environment = Map.of("ETL_BACKUP_KEYSET", KEYSET.toString(), "ETL_ARCHIVE_PREFIX", PREFIX,
				"ETL_ROLLOVER_BATCH_ROWS", BATCH_ROWS, "ETL_PARTITION_POLICY", POLICY.toString());
		long before = newestExecution(job);
		long delay = this.random.nextInt(1500);
		EtlProcess run = EtlProcess.start(environment, "run", job, "as-of=" + asOf);
		await(job + " starts or ends").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(20))
			.until(() -> !run.isAlive() || newestExecution(job) != before);
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
		check(-1, what, false);
		if (execution == before || "COMPLETED".equals(status)) {
			return what;
		}
		JobExecution restarted;
		try {
			restarted = this.runner.restart(execution);
		}
		catch (RuntimeException ex) {
			throw broken(what + "; restart refused: " + ex.getMessage(), ex);
		}
		// the restart finishes the work: nothing else runs beside it here
		if (restarted.getStatus() != BatchStatus.COMPLETED) {
			throw broken(what + "; restart: " + outcome(restarted), null);
		}
		return what + "; restart: " + outcome(restarted);
	}

	/**
	 * seed-data reset=true, refused while cold segments are not restored (their rows would lose their parents, or
	 * come back beside their export): nothing may change then. Every other reset step that meets segments
	 * restores them all first (each restore must succeed), and every one that meets none resets.
	 */
	private String reset() {
		List<String> done = new ArrayList<>();
		long segments = this.jdbc.queryForObject("SELECT count(*) FROM ops.archive_log WHERE table_name = ?"
				+ " AND tier = 'cold' AND status = 'completed'", Long.class, TABLE);
		if (segments > 0) {
			String before = untouched();
			JobExecution refused = seed(42 + this.resets);
			if (refused.getStatus() != BatchStatus.FAILED || !SeedDataRuns.refusedForColdSegments(segments, TABLE)
				.equals(ExecutionReport.of(refused, false).exitDescription())) {
				throw broken("seed-data reset=true with " + segments + " cold segments not restored: " + outcome(refused), null);
			}
			if (!untouched().equals(before)) {
				throw broken("seed-data reset=true refused, yet the tables or the archive log changed", null);
			}
			this.refusedResets++;
			done.add("seed-data reset=true refused (" + segments + " cold segments)");
			if (this.resetsWithSegments++ % 2 == 1) {
				return String.join("; ", done);
			}
			done.add(restoreAll());
		}
		done.add(reseed());
		return String.join("; ", done);
	}

	/**
	 * seed-data reset=true with a seed of its own (new ids), which must complete: the rows in PostgreSQL before
	 * are removed on purpose, the seed's are new.
	 */
	private String reseed() {
		this.rows.removeAll(RowPlaces.rowsOf(this.jdbc, TABLE));
		long seed = 42 + this.resets++;
		JobExecution run = seed(seed);
		if (run.getStatus() != BatchStatus.COMPLETED) {
			throw broken("seed-data reset=true seed=" + seed + ": " + outcome(run), null);
		}
		this.rows.addAll(RowPlaces.rowsOf(this.jdbc, TABLE));
		this.sales.clear();
		this.sales.addAll(this.jdbc.queryForList(SALES, String.class));
		this.written = RowPlaces.Digest.of(this.rows);
		this.salesWritten = RowPlaces.Digest.of(this.sales);
		return "seed-data reset=true seed=" + seed + ": " + outcome(run);
	}

	private JobExecution seed(long seed) {
		return SeedDataRuns.seed(this.runner, "scale=1", "reset=true", "seed=" + seed, "as-of=" + TODAY);
	}

	/** What a refused reset must leave as it was: the archive log, the agents, the rows of the table. */
	private String untouched() {
		return this.jdbc.queryForObject("SELECT (SELECT count(*) || ' ' || md5(coalesce(string_agg(a::text, ',' ORDER BY"
				+ " archive_id), '')) FROM ops.archive_log a) || ' ' || (SELECT count(*) || ' ' || md5(coalesce(string_agg("
				+ "agent_id::text, ',' ORDER BY agent_id), '')) FROM ops.agents)", String.class) + " "
				+ RowPlaces.Digest.in(this.jdbc, "SELECT execution_id::text || created_at::text AS k FROM " + TABLE);
	}

	/** An as-of inside the window around today: mostly the last few months, so that a few partitions move. */
	private LocalDate asOf() {
		return TODAY.minusDays(this.random.nextInt(120)).plusDays(this.random.nextInt(10) == 0 ? 45 : 0);
	}

	/**
	 * The invariant: every row the walk has seen written is in PostgreSQL (the table, or a table a job left
	 * beside it) or in one completed cold segment, and nowhere else; no row the walk never wrote appears. Each
	 * segment is read whole when it first appears, and every segment again when {@code reread}.
	 */
	private void check(int step, String done, boolean reread) throws Exception {
		long started = System.nanoTime();
		this.history.add((step < 0 ? "  " : step + ": ") + done);
		System.out.println("archive walk " + (step < 0 ? "  " : step + ": ") + done);
		List<String> problems = new ArrayList<>();
		// counted in PostgreSQL first; which rows are wrong is looked for only when the counts differ, and at
		// every reread, so that the two ways of looking are compared too
		if (reread || !RowPlaces.digest(this.jdbc, this.segments, this.storeTouched, problems).equals(this.written)
				|| !problems.isEmpty() || !RowPlaces.Digest.in(this.jdbc, SALES).equals(this.salesWritten)) {
			problems.clear();
			problems.addAll(RowPlaces.now(this.jdbc, this.segments, reread).problems(this.rows));
			Map<String, Long> salesPlaces = new HashMap<>();
			for (String id : this.jdbc.queryForList(SALES, String.class)) {
				salesPlaces.merge(id, 1L, Long::sum);
			}
			this.sales.stream().filter(id -> salesPlaces.getOrDefault(id, 0L) != 1).limit(5)
				.forEach(id -> problems.add("sales transaction " + id + " is in " + salesPlaces.getOrDefault(id, 0L)
						+ " of retail.sales_transactions and its archive"));
			if (problems.isEmpty() && !reread) {
				problems.add("the rows counted in PostgreSQL differ from those the walk wrote, yet none is found missing"
						+ " or doubled");
			}
		}
		if (!problems.isEmpty()) {
			throw new AssertionError(String.format("archive walk seed %d (today %s) broke the invariant after %s:%n  %s%n"
					+ "%d problems, the first:%n  %s%nrerun: -Dpgbatch.walk.seed=%d -Dpgbatch.walk.steps=%d%n",
					SEED, TODAY, step < 0 ? "a kill in the last step" : "step " + step, String.join("\n  ", this.history),
					problems.size(), String.join("\n  ", problems.subList(0, Math.min(12, problems.size()))), SEED,
					Math.max(step, 1)));
		}
		long[] checks = this.kinds.computeIfAbsent("(check)", k -> new long[2]);
		checks[0]++;
		checks[1] += System.nanoTime() - started;
	}

	/** What the walk did: each kind of step, how often and how long, and how often the paths that matter ran. */
	private void summary(long nanos) {
		long reexports = this.jdbc.queryForObject("""
				SELECT count(*) FROM ops.archive_log later WHERE later.table_name = ? AND later.tier = 'cold'
				  AND later.status IN ('completed', 'restored') AND EXISTS (SELECT 1 FROM ops.archive_log earlier
				    WHERE earlier.table_name = later.table_name AND earlier.partition_name = later.partition_name
				      AND earlier.tier = 'cold' AND earlier.status = 'restored' AND earlier.restored_at < later.started_at)
				""", Long.class, TABLE);
		StringBuilder out = new StringBuilder(String.format("archive walk: seed %d, %d steps in %.1f s;", SEED, STEPS,
				nanos / 1e9));
		this.kinds.forEach((kind, counts) -> out.append(String.format(" %s %d (%.1f s),", kind, counts[0], counts[1] / 1e9)));
		out.append(String.format(" late rows into archived intervals %d, restores of several segments %d,"
				+ " segments exported after an earlier one of their interval was restored %d, segments read whole %d,"
				+ " seeds (the first included) %d, resets refused %d, restores refused with the store down %d", this.lateRows,
				this.multiSegmentRestores, reexports, this.segments.reads(), this.resets, this.refusedResets,
				this.refusedRestores));
		System.out.println(out);
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
