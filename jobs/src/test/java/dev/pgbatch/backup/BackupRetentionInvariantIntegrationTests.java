package dev.pgbatch.backup;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.crypto.TestKeysets;
import dev.pgbatch.store.ObjectStore;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The backups invariant (retention acts per database and server, and never removes the newest backup or the
 * newest verified one of any database; docs/jobs/backup.md, "Retention"), as a seeded random walk: backups of two databases with
 * random retention numbers, and random verifies. After every step each database keeps its newest backup
 * and its newest verified one, and a step on one database leaves the other's backups as they were. A
 * failure names its seed: -Dpgbatch.invariant.seed=N replays it, -Dpgbatch.invariant.backup-steps=N walks
 * longer (a few dozen steps by default, on tiny databases).
 */
class BackupRetentionInvariantIntegrationTests extends DatabaseIntegrationTest {

	private static final Path KEYSET = TestKeysets.fresh();

	private static final String PREFIX = "test-backup-invariant-" + UUID.randomUUID();

	private static final List<String> DATABASES = List.of(TestDatabase.PREFIX + "_walk_a", TestDatabase.PREFIX + "_walk_b");

	@DynamicPropertySource
	static void backups(DynamicPropertyRegistry registry) {
		registry.add("etl.keyset.path", KEYSET::toString);
		registry.add("etl.backup.prefix", () -> PREFIX);
	}

	@Autowired
	BackupCatalog catalog;

	@Autowired
	BackupRestorer restorer;

	@Autowired
	ObjectStore store;

	@Test
	void everyDatabaseKeepsItsNewestAndItsNewestVerifiedBackupAndNoStepTouchesAnotherDatabase() throws Exception {
		long seed = Long.getLong("pgbatch.invariant.seed", System.nanoTime());
		int steps = Integer.getInteger("pgbatch.invariant.backup-steps", 24);
		System.out.println("backup retention walk: seed " + seed + ", " + steps + " steps");
		Random random = new Random(seed);
		Map<String, String> newest = new HashMap<>();
		Map<String, String> newestVerified = new HashMap<>();
		for (String database : DATABASES) {
			TestDatabase.dropDatabase(database);
			this.jdbc.execute("CREATE DATABASE " + database);
			try (Connection connection = TestDatabase.connect(database); Statement statement = connection.createStatement()) {
				statement.execute("CREATE TABLE t AS SELECT generate_series(1, 5) AS n");
			}
		}
		try {
			for (int step = 0; step < steps; step++) {
				Map<String, Set<String>> before = backupsByDatabase();
				String database = DATABASES.get(random.nextInt(DATABASES.size()));
				String what;
				if (before.get(database).isEmpty() || random.nextInt(3) > 0) {
					int last = 1 + random.nextInt(3);
					int daily = random.nextInt(3);
					int weekly = random.nextInt(3);
					what = "backup of " + database + " keep-last=" + last + " keep-daily=" + daily + " keep-weekly=" + weekly;
					assertThat(JobRuns.run(this.runner, BackupJob.DEFINITION, "database=" + database, "keep-last=" + last,
							"keep-daily=" + daily, "keep-weekly=" + weekly).getStatus())
						.as(context(seed, step, what))
						.isEqualTo(BatchStatus.COMPLETED);
					Set<String> now = backupsByDatabase().get(database);
					newest.put(database, now.stream().max(String::compareTo).orElseThrow());
					assertThat(now).as(context(seed, step, what) + ": only its new backup is added").isSubsetOf(union(before.get(database), newest.get(database)));
				}
				else {
					List<String> ids = List.copyOf(before.get(database));
					String id = ids.get(random.nextInt(ids.size()));
					what = "verify " + id + " of " + database;
					this.restorer.verify(id, false);
					newestVerified.merge(database, id, (a, b) -> a.compareTo(b) >= 0 ? a : b);
				}
				Map<String, Set<String>> after = backupsByDatabase();
				for (String each : DATABASES) {
					String context = context(seed, step, what) + ", " + each;
					if (newest.containsKey(each)) {
						assertThat(after.get(each)).as(context + ": its newest backup").contains(newest.get(each));
					}
					if (newestVerified.containsKey(each)) {
						assertThat(after.get(each)).as(context + ": its newest verified backup").contains(newestVerified.get(each));
					}
					if (!each.equals(database)) {
						assertThat(after.get(each)).as(context + ": another database's backups").isEqualTo(before.get(each));
					}
				}
			}
		}
		finally {
			for (String database : DATABASES) {
				TestDatabase.dropDatabase(database);
			}
			this.store.list(PREFIX + "/").forEach(object -> this.store.delete(object.key()));
		}
	}

	private static String context(long seed, int step, String what) {
		return "seed " + seed + " (-Dpgbatch.invariant.seed=" + seed + "), step " + step + " (" + what + ")";
	}

	private static Set<String> union(Set<String> ids, String id) {
		Set<String> union = new TreeSet<>(ids);
		union.add(id);
		return union;
	}

	private Map<String, Set<String>> backupsByDatabase() {
		Map<String, Set<String>> byDatabase = this.catalog.list()
			.stream()
			.collect(Collectors.groupingBy(entry -> entry.manifest().database(),
					Collectors.mapping(entry -> entry.manifest().id(), Collectors.toCollection(TreeSet::new))));
		for (String database : DATABASES) {
			byDatabase.putIfAbsent(database, new TreeSet<>());
		}
		return byDatabase;
	}

}
