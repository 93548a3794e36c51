package dev.pgbatch.core;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobCatalog;
import dev.pgbatch.JobRuns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.archive.ArchiveJob;
import dev.pgbatch.archive.ArchivedPartitions;
import dev.pgbatch.archive.RowPlaces;
import dev.pgbatch.crypto.TestKeysets;
import dev.pgbatch.embed.EmbedProductsJob;
import dev.pgbatch.partition.PartitionRolloverJob;
import dev.pgbatch.partition.TestPolicies;
import dev.pgbatch.seed.SeedDataJob;
import dev.pgbatch.seed.SeedDataRuns;
import dev.pgbatch.store.ObjectStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two jobs that touch the same tables at once, in both orders, while a long reader holds ops.task_executions
 * (ACCESS SHARE on the parent and every partition, as a report's SELECT does) for three lock waits of the
 * partition jobs' DDL (half a second each here, so those waits time out and are tried again), and
 * then commits: neither hangs (each ends within its lock timeouts and retries, {@link #BOUND}), none fails on a
 * deadlock that PostgreSQL had to break, and no row is lost: every row of ops.task_executions is afterwards
 * in PostgreSQL or in exactly one cold segment that reads back (a seed-data reset removes the rows inserted
 * after the seed, and puts the seed's own back). A job that failed or was refused because of the other one
 * finishes when run again alone; seed-data refused because archive left cold segments (it waits for archive's
 * partitions lock, then must see them) finishes once they are restored, as its message says. Not paired:
 * seed-data with archive restore, which take the same partitions lock and so run one after the other, the
 * reset refused while the restore's segments are there.
 */
class JobsAtOnceIntegrationTests extends DatabaseIntegrationTest {

	private static final Path KEYSET = TestKeysets.fresh();

	private static final Path POLICY = TestPolicies.oneWarmMonth();

	/** How long each of the two may take after the reader commits: lock timeouts with their retries, and slack. */
	private static final Duration BOUND = Duration.ofSeconds(Long.parseLong(
			System.getProperty("pgbatch.at-once.bound-seconds", System.getenv().getOrDefault("ETL_TEST_AT_ONCE_BOUND", "60"))));

	private static final Duration READER = Duration.ofMillis(1500);

	private static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);

	private static final String SEED = "seed=42";

	private static final String RESTORE = "archive-restore";

	private static final String RESTORED = " rows restored";

	private static final String DEADLOCK = "(deadlock detected)";

	/** The start of seed-data's refusal of a reset while cold segments are not restored. */
	private static final String COLD_SEGMENTS_REFUSED = "reset=true refused: ";

	/** A failure that is a programming error, not a refusal or a lock timeout. */
	private static final String BUG = "(programming error)";

	private static final ExecutorService THREADS = Executors.newCachedThreadPool();

	@DynamicPropertySource
	static void settings(DynamicPropertyRegistry registry) {
		registry.add("etl.keyset.path", KEYSET::toString);
		registry.add("etl.partition.policy", POLICY::toString);
		registry.add("etl.archive.prefix", () -> "at-once-" + UUID.randomUUID());
		registry.add("etl.backup.prefix", () -> "at-once-" + UUID.randomUUID());
		// two jobs at once, each with its lock's connection and archive's second one, and the test's own queries
		registry.add("spring.datasource.hikari.maximum-pool-size", () -> 16);
		// a third of what the reader holds on: the DDL's bounded waits time out and are tried again
		registry.add("etl.partition.lock-timeout", () -> "500ms");
	}

	@AfterAll
	static void stop() {
		THREADS.shutdownNow();
	}

	@Autowired
	ObjectStore store;

	@Autowired
	ArchivedPartitions partitions;


	@ParameterizedTest(name = "{0} then {1}")
	@CsvSource({ "partition-rollover, archive", "archive, partition-rollover", "archive, backup", "backup, archive",
			"archive, archive-restore", "archive-restore, archive", "seed-data, archive", "archive, seed-data",
			"seed-data, partition-rollover", "partition-rollover, seed-data", "refresh-views, seed-data",
			"seed-data, refresh-views", "partition-rollover, archive-restore", "archive-restore, partition-rollover",
			"backup, partition-rollover", "partition-rollover, backup", "backup, seed-data", "seed-data, backup",
			"backup, archive-restore", "archive-restore, backup", "refresh-views, archive", "archive, refresh-views",
			"embed-products, seed-data", "seed-data, embed-products" })
	void neitherHangsNorDeadlocksNorLosesARow(String first, String second) throws Exception {
		Set<String> late = new HashSet<>();
		boolean reseeds = first.equals(SeedDataJob.NAME) || second.equals(SeedDataJob.NAME);
		String restorable = prepare(late, reseeds);
		Set<String> rows = new HashSet<>(RowPlaces.now(this.jdbc, this.store, KEYSET).places.keySet());
		if (reseeds) {
			// a reset removes them on purpose; the seed's own come back
			rows.removeAll(late);
		}

		List<String> outcomes = new ArrayList<>();
		List<String> hung = new ArrayList<>();
		try (Connection reader = TestDatabase.connect(); Statement statement = reader.createStatement()) {
			reader.setAutoCommit(false);
			statement.executeQuery("SELECT count(*) FROM ops.task_executions").close();
			long readerStarted = System.nanoTime();
			Future<String> one = THREADS.submit(action(first, restorable));
			awaitWaitingOrDone(one);
			Future<String> two = THREADS.submit(action(second, restorable));
			awaitWaitingOrDone(two);
			Thread.sleep(Math.max(0, READER.toMillis() - (System.nanoTime() - readerStarted) / 1_000_000));
			reader.commit();
			long deadline = System.nanoTime() + BOUND.toNanos();
			for (Map.Entry<String, Future<String>> job : Map.of(first, one, second, two).entrySet()) {
				try {
					outcomes.add(job.getKey() + ": " + job.getValue().get(Math.max(0, deadline - System.nanoTime()),
							TimeUnit.NANOSECONDS));
				}
				catch (TimeoutException ex) {
					hung.add(job.getKey() + " " + waits());
				}
			}
		}
		System.out.printf("jobs at once: %s then %s: %s%s%n", first, second, outcomes, hung.isEmpty() ? "" : ", hung: " + hung);
		if (!hung.isEmpty()) {
			// end the hang, so the next case starts clean
			this.jdbc.queryForList("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
					+ " AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
		}
		assertThat(hung).as("%s then %s, with a reader in the way: still running %s after the reader committed (%s)",
				first, second, BOUND, outcomes).isEmpty();
		assertThat(outcomes).as("no deadlock left to PostgreSQL to break").noneMatch(o -> o.contains(DEADLOCK));
		assertThat(outcomes).as("a job meeting the other fails cleanly, if at all").noneMatch(o -> o.contains(BUG));
		for (String job : List.of(first, second)) {
			if (outcomes.stream().anyMatch(o -> o.startsWith(job + ": ") && o.contains(COLD_SEGMENTS_REFUSED))) {
				// the segments archive left before it, still there (nothing changed); restored, as the refusal says
				long segments = this.jdbc.queryForObject("SELECT count(*) FROM ops.archive_log WHERE tier = 'cold'"
						+ " AND status = 'completed'", Long.class);
				assertThat(outcomes).as("refused for the segments there").anyMatch(o -> o.contains(SeedDataRuns
					.refusedForColdSegments(segments, "ops.task_executions").substring("prepare: ".length())));
				restoreEverySegment();
			}
			if (outcomes.stream().noneMatch(o -> o.startsWith(job + ": ") && succeeded(o))) {
				assertThat(action(job, restorable).call()).as("%s run again alone, after %s", job, outcomes)
					.matches(JobsAtOnceIntegrationTests::succeeded);
			}
		}
		assertThat(RowPlaces.now(this.jdbc, this.store, KEYSET).problems(rows)).as("%s", outcomes).isEmpty();
	}

	/** Every interval with cold segments brought back through archive restore. */
	private void restoreEverySegment() {
		for (String partition : this.jdbc.queryForList("SELECT DISTINCT partition_name FROM ops.archive_log"
				+ " WHERE tier = 'cold' AND status = 'completed'", String.class)) {
			this.partitions.restore("ops.task_executions", partition);
		}
	}

	/**
	 * The seed's 19 months (partitions of other tests dropped), a partition archived already (its name is
	 * returned, for restore; restored again when {@code reseeds}, since a reset is refused while cold segments
	 * are not restored), and rows in the default partition (added to {@code late}) for an interval archive
	 * moved out and for one past the premade ones, for partition-rollover. The seed and the archive run once: later
	 * cases start from a copy of the database they left (seconds instead of two runs; the cold objects it names
	 * stay in the store, which no job of these deletes from).
	 */
	private String prepare(Set<String> late, boolean reseeds) throws SQLException {
		TestDatabase.madeOnce("archived", this.dataSource, () -> {
			RowPlaces.startAfresh(this.jdbc);
			assertThat(run(SeedDataJob.NAME)).isEqualTo("COMPLETED");
			// the two oldest months archived; the next ones are left for the archive under test
			assertThat(run(ArchiveJob.NAME, "as-of=" + TODAY.minusMonths(2))).isEqualTo("COMPLETED");
		});
		String restorable = this.jdbc.queryForObject("SELECT min(partition_name) FROM ops.archive_log WHERE tier = 'cold'"
				+ " AND status = 'completed'", String.class);
		assertThat(restorable).isNotNull();
		if (reseeds) {
			TestDatabase.madeOnce("restored", this.dataSource, this::restoreEverySegment);
		}
		String[] task = this.jdbc.queryForObject("SELECT task_id || ' ' || assigned_agent FROM ops.tasks"
				+ " WHERE assigned_agent IS NOT NULL ORDER BY task_id LIMIT 1", String.class).split(" ");
		for (int months : new int[] { -17, -17, 7, 7 }) {
			OffsetDateTime at = TODAY.withDayOfMonth(10).plusMonths(months).atStartOfDay().atOffset(ZoneOffset.UTC);
			late.add(this.jdbc.queryForObject("INSERT INTO ops.task_executions (execution_id, task_id, agent_id, status,"
					+ " created_at) VALUES (gen_random_uuid(), ?::uuid, ?::uuid, 'completed', ?) RETURNING execution_id || ' '"
					+ " || extract(epoch FROM created_at)::bigint", String.class, task[0], task[1], at));
		}
		return restorable;
	}

	private Callable<String> action(String job, String restorable) {
		return switch (job) {
			case RESTORE -> () -> {
				try {
					return this.partitions.restore("ops.task_executions", restorable) + RESTORED;
				}
				catch (RuntimeException ex) {
					return "refused: " + ex.getMessage();
				}
			};
			case ArchiveJob.NAME, PartitionRolloverJob.NAME -> () -> run(job, "as-of=" + TODAY);
			// more products than ETL_EMBED_BULK_LOAD_ROWS: the run drops the model's index and builds it again
			case EmbedProductsJob.NAME -> () -> run(job, "limit=150");
			default -> () -> run(job);
		};
	}

	private String run(String job, String... parameters) {
		List<String> all = new ArrayList<>(List.of(parameters));
		if (job.equals(SeedDataJob.NAME)) {
			all.addAll(List.of("scale=1", "reset=true", SEED, "as-of=" + TODAY));
		}
		try {
			JobExecution run = JobRuns.run(this.runner, JobCatalog.get(job), all.toArray(String[]::new));
			if (run.getStatus() == BatchStatus.COMPLETED) {
				return "COMPLETED";
			}
			String outcome = run.getStatus().toString();
			for (Throwable failure : run.getAllFailureExceptions()) {
				outcome += " " + failure.getMessage();
				for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
					if (String.valueOf(cause.getMessage()).contains("deadlock detected")) {
						outcome += " " + DEADLOCK;
						break;
					}
					if (cause instanceof NullPointerException || cause instanceof IndexOutOfBoundsException
							|| cause instanceof ClassCastException) {
						outcome += " " + BUG + " " + cause + " at " + cause.getStackTrace()[0];
						break;
					}
				}
			}
			return outcome;
		}
		catch (RuntimeException ex) {
			return "refused: " + ex.getMessage();
		}
	}

	private static boolean succeeded(String outcome) {
		return outcome.endsWith("COMPLETED") || outcome.endsWith(RESTORED);
	}

	/** Until a session of the test database waits for a lock, or the job is done, or two seconds passed. */
	private void awaitWaitingOrDone(Future<String> job) throws InterruptedException {
		long deadline = System.nanoTime() + 2_000_000_000L;
		int waiting = waiting();
		while (!job.isDone() && waiting() <= waiting && System.nanoTime() < deadline) {
			Thread.sleep(20);
		}
	}

	private int waiting() {
		return this.jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
				+ " AND wait_event_type = 'Lock'", Integer.class);
	}

	/** Who waits for a lock, on what statement: for the message of a hang. */
	private List<String> waits() {
		return this.jdbc.queryForList("SELECT application_name || ' [' || pid || '] waits for ' || pg_blocking_pids(pid)::text"
				+ " || ': ' || left(query, 80) FROM pg_stat_activity WHERE datname = current_database()"
				+ " AND wait_event_type = 'Lock'", String.class);
	}

}
