package dev.pgbatch.backup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.pgbatch.RestoreTurns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.cli.EtlInProcess;
import dev.pgbatch.cli.EtlProcess;
import dev.pgbatch.core.ExecutionLock;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * backup verify --physical and backup drill against the stack's repository while a physical backup runs (its lock
 * held, as a run of it holds it): verify starts once the backup has ended (a logical backup's lock, held meanwhile
 * and after, is not waited for), and a drill whose wait
 * (ETL_PGBACKREST_LOCK_WAIT) runs out fails saying so, recorded as a failed drill (review 11 #6, #9; review 13 #2).
 */
class BackupWaitIntegrationTests {

	/**
	 * A backup set the drills can restore, whatever ran before this class: the stanza is the stack's, and on a fresh
	 * one no other class may have made a set yet (pgBackRest makes an incremental backup a full one when no full exists).
	 */
	@BeforeAll
	static void aBackupSet() {
		EtlProcess.Result backup = EtlInProcess.run("run", "backup", "type=incr");
		assertThat(backup.exitCode()).as(backup.stdout() + backup.stderr()).isZero();
	}

	@Test
	void verifyStartsOnceThePhysicalBackupHasEnded() throws Exception {
		Instant released;
		CompletableFuture<EtlProcess.Result> verify;
		EtlProcess.Result verified;
		try (Connection logical = TestDatabase.connect()) {
			holdTheLock(logical, BackupJob.NAME);
			try (Connection backup = TestDatabase.connect()) {
				holdTheLock(backup, BackupJob.PHYSICAL_LOCK);
				verify = CompletableFuture.supplyAsync(() -> EtlInProcess.run("backup", "verify", "--physical"));
				Thread.sleep(3_000);
				assertThat(verify).isNotDone();
				released = Instant.now();
			}
			verified = verify.get(10, TimeUnit.MINUTES);
		}

		assertThat(verified.exitCode()).as(verified.stdout() + verified.stderr()).isIn(0, 1);
		try (Connection connection = TestDatabase.connect();
				ResultSet row = connection.createStatement()
					.executeQuery("SELECT verified_at FROM etl.physical_verify ORDER BY id DESC LIMIT 1")) {
			assertThat(row.next()).isTrue();
			assertThat(row.getTimestamp(1).toInstant()).isAfterOrEqualTo(released);
		}
	}

	@Test
	void aDrillWhileTheBackupJobRunsPastTheWaitFailsRecordedAsFailed() throws Exception {
		String point = recordedPoint("wait-" + System.nanoTime());
		EtlProcess.Result drill;
		try (Connection backup = TestDatabase.connect()) {
			holdTheLock(backup, BackupJob.PHYSICAL_LOCK);
			drill = EtlInProcess.run(Map.of("ETL_PGBACKREST_LOCK_WAIT", "2s"), "backup", "drill", "--to", point);
		}

		String runs = "a backup of stanza pgbatch (a physical run of the backup job, or a pgBackRest backup) still"
				+ " runs after 2 s (ETL_PGBACKREST_LOCK_WAIT): a drill now would not restore the set it makes";
		assertThat(drill.exitCode()).as(drill.stdout() + drill.stderr()).isEqualTo(1);
		assertThat(drill.stdout() + drill.stderr()).contains(runs);
		// recorded as failed, nothing restored: the drill gauges read it
		try (Connection connection = TestDatabase.connect();
				PreparedStatement drills = connection.prepareStatement(
						"SELECT passed, problems, backup_label FROM etl.restore_drill WHERE target = ?")) {
			drills.setString(1, point);
			try (ResultSet row = drills.executeQuery()) {
				assertThat(row.next()).isTrue();
				assertThat(row.getBoolean(1)).isFalse();
				assertThat(row.getString(2)).startsWith(runs);
				assertThat(row.getString(3)).isNull();
				assertThat(row.next()).isFalse();
			}
		}
	}

	/**
	 * A drill with no point named drills the newest point as of the end of its wait: the backup it waited for makes
	 * its own point as it ends, and that set is the one the drill is for (review 13 #1).
	 */
	@Test
	void aDrillThatWaitedForABackupDrillsThePointTheBackupMadeAsItEnded() throws Exception {
		EtlProcess.Result before = EtlInProcess.run("backup", "point", "before-the-backup-" + System.nanoTime());
		assertThat(before.exitCode()).as(before.stdout() + before.stderr()).isZero();
		String made = "made-while-waiting-" + System.nanoTime();
		EtlProcess drill;
		try (Connection backup = TestDatabase.connect()) {
			holdTheLock(backup, BackupJob.PHYSICAL_LOCK);
			// a process of its own (in-process commands run one at a time), in its wait before the point is made
			drill = EtlProcess.start(Map.of(), "backup", "drill", "--json");
			EtlProcess waiting = drill;
			Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
				.until(() -> waiting.stderrSoFar().contains("backup drill waits up to"));
			EtlProcess.Result point = EtlInProcess.run("backup", "point", made);
			assertThat(point.exitCode()).as(point.stdout() + point.stderr()).isZero();
		}
		EtlProcess.Result drilled = drill.await();

		assertThat(drilled.exitCode()).as(drilled.stdout() + drilled.stderr()).isZero();
		try (Connection connection = TestDatabase.connect();
				ResultSet row = connection.createStatement()
					.executeQuery("SELECT target FROM etl.restore_drill ORDER BY id DESC LIMIT 1")) {
			assertThat(row.next()).isTrue();
			assertThat(row.getString(1)).isEqualTo(made);
		}
	}

	/**
	 * A physical backup's retention holds the server's restore lock for the seconds of its expire (a runner configured
	 * with another database, whose backup lock the drill's wait does not see, as a test class of another fork): a
	 * drill meeting it waits for it, up to ETL_PGBACKREST_LOCK_WAIT, and runs once it is released.
	 */
	@Test
	void aDrillWaitsForTheRestoreLockWhileABackupsRetentionHoldsIt() throws Exception {
		String point = "after-retention-" + System.nanoTime();
		EtlProcess.Result made = EtlInProcess.run("backup", "point", point);
		assertThat(made.exitCode()).as(made.stdout() + made.stderr()).isZero();
		EtlProcess drill;
		try (RestoreTurns.Turn turn = RestoreTurns.take(); Connection retention = holdingTheRestoreLockAsRetention()) {
			// a process of its own, watched while it waits (in-process commands run one at a time)
			drill = EtlProcess.start(Map.of(), "backup", "drill", "--to", point, "--json");
			EtlProcess waiting = drill;
			Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
				.until(() -> waiting.stderrSoFar().contains("backup drill waits until "));
			Thread.sleep(2_000);
			assertThat(drill.isAlive()).as(drill.stderrSoFar()).isTrue();
		}
		EtlProcess.Result drilled = drill.await();

		assertThat(drilled.exitCode()).as(drilled.stdout() + drilled.stderr()).isZero();
		assertThat(drilled.stderr()).contains("backup drill waits until ")
			.contains(" for pgbatch backup retention to release the lock of " + ClusterRestore.LOCK);
	}

	/**
	 * A drill's or a backup restore --to's wait for retention's hold of the restore lock that runs out is refused
	 * (exit 1) saying so, naming the holder (review 22 #6: not as "already running"); nothing made, the drill recorded
	 * as failed, as one a backup kept from running is.
	 */
	@Test
	void aDrillOrRestoreWhoseWaitForRetentionRunsOutIsRefusedNamingIt() throws Exception {
		String point = recordedPoint("retention-" + System.nanoTime());
		// not in /tmp (a clone under /tmp has its stack there), which a restore --to refuses before its wait
		Files.createDirectories(PointInTimeRestoreIntegrationTests.RESTORES);
		Path dir = Files.createTempDirectory(PointInTimeRestoreIntegrationTests.RESTORES, "retention-wait").resolve("restored");
		EtlProcess.Result drill;
		EtlProcess.Result restore;
		long started = System.nanoTime();
		try (RestoreTurns.Turn turn = RestoreTurns.take(); Connection retention = holdingTheRestoreLockAsRetention()) {
			drill = EtlInProcess.run(Map.of("ETL_PGBACKREST_LOCK_WAIT", "3s"), "backup", "drill", "--to", point);
			restore = EtlInProcess.run(Map.of("ETL_PGBACKREST_LOCK_WAIT", "3s"), "backup", "restore", "--to", point,
					"--data-dir", dir.toString());
		}

		assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(6));
		String outWaited = ExecutionLock.OUT_WAITED.formatted(ClusterRestore.LOCK, "pgbatch "
				+ BackupJobConfiguration.RETENTION + ", pid 1 on the test; connected from \\S+ since \\S+Z, server pid \\d+")
			.replace("(", "\\(").replace(")", "\\)");
		assertThat(restore.exitCode()).as(restore.stdout() + restore.stderr()).isEqualTo(1);
		assertThat(restore.stderr().strip().lines().reduce((first, last) -> last).orElseThrow())
			.matches("etl: " + outWaited);
		assertThat(restore.stderr()).contains("backup restore --to waits until ");
		assertThat(drill.exitCode()).as(drill.stdout() + drill.stderr()).isEqualTo(1);
		assertThat(dir).doesNotExist();
		try (Connection connection = TestDatabase.connect();
				PreparedStatement drills = connection
					.prepareStatement("SELECT passed, problems, backup_label FROM etl.restore_drill WHERE target = ?")) {
			drills.setString(1, point);
			try (ResultSet row = drills.executeQuery()) {
				assertThat(row.next()).isTrue();
				assertThat(row.getBoolean(1)).isFalse();
				assertThat(row.getString(2)).matches("(?s)" + outWaited + ".*");
				assertThat(row.getString(3)).isNull();
				assertThat(row.next()).isFalse();
			}
		}
	}

	/**
	 * Review 22 #2: backup restore --to checks its input before it waits for retention's hold of the restore lock: an
	 * unknown point is refused at once (exit 2), not after ETL_PGBACKREST_LOCK_WAIT.
	 */
	@Test
	void aRestoreWithAnUnknownPointIsRefusedWithoutWaitingForRetention() throws Exception {
		Files.createDirectories(PointInTimeRestoreIntegrationTests.RESTORES);
		Path dir = Files.createTempDirectory(PointInTimeRestoreIntegrationTests.RESTORES, "retention-typo").resolve("restored");
		EtlProcess.Result restore;
		long started;
		try (RestoreTurns.Turn turn = RestoreTurns.take(); Connection retention = holdingTheRestoreLockAsRetention()) {
			started = System.nanoTime();
			restore = EtlInProcess.run(Map.of("ETL_PGBACKREST_LOCK_WAIT", "60s"), "backup", "restore", "--to",
					"no-such-point", "--data-dir", dir.toString());
		}

		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
		assertThat(restore.exitCode()).as(restore.stdout() + restore.stderr()).isEqualTo(2);
		assertThat(restore.stderr().strip()).isEqualTo("etl: " + RestoreDrills.UNKNOWN_POINT.formatted("no-such-point"));
		assertThat(dir).doesNotExist();
	}

	/**
	 * The server's restore lock taken as a physical backup's retention takes it (RestoreLock: in the maintenance
	 * database, its session named as the runner names it), held until the connection closes.
	 */
	private static Connection holdingTheRestoreLockAsRetention() throws Exception {
		Connection session = TestDatabase.connect(ServerDatabases.MAINTENANCE);
		try (PreparedStatement lock = session.prepareStatement("SELECT set_config('application_name', ?, false),"
				+ " pg_try_advisory_lock(hashtext('pgbatch.job'), hashtext(?))")) {
			lock.setString(1, "pgbatch " + BackupJobConfiguration.RETENTION + ", pid 1 on the test");
			lock.setString(2, ClusterRestore.LOCK);
			// another class's physical backup holds it for the seconds of each expire of its retention
			await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
				try (ResultSet taken = lock.executeQuery()) {
					return taken.next() && taken.getBoolean(2);
				}
			});
		}
		catch (Exception ex) {
			session.close();
			throw ex;
		}
		return session;
	}

	/**
	 * The backup-verify and backup-drill jobs hold no transaction open during their long work (here the wait for
	 * the backup job, as during pgBackRest's verify or restore): no session of the database is idle in a transaction
	 * older than 2 s meanwhile (the launch's own are shorter), which a server's idle_in_transaction_session_timeout
	 * would end, failing the step (review 11 #7).
	 */
	@Test
	void theVerifyAndDrillJobsHoldNoTransactionDuringTheirWork() throws Exception {
		String point = recordedPoint("no-transaction-" + System.nanoTime());
		for (String job : List.of("backup-verify", "backup-drill")) {
			try (Connection backup = TestDatabase.connect(); Connection look = TestDatabase.connect()) {
				holdTheLock(backup, BackupJob.PHYSICAL_LOCK);
				// a wait that outlasts the eight looks below (4 s and the command's start) with some seconds to spare
				CompletableFuture<EtlProcess.Result> run = CompletableFuture
					.supplyAsync(() -> EtlInProcess.run(Map.of("ETL_PGBACKREST_LOCK_WAIT", "10s"), "run", job));
				int waiting = 0;
				int inTransaction = 0;
				// the command's start first (its Spring context), then a few seconds of its step's wait
				for (int i = 0; i < 240 && waiting < 8 && !run.isDone(); i++) {
					Thread.sleep(500);
					try (PreparedStatement sessions = look.prepareStatement("""
							SELECT count(*) FILTER (WHERE state LIKE 'idle in transaction%'
							    AND now() - xact_start > interval '2 seconds'),
							  count(*) FILTER (WHERE application_name LIKE 'pgbatch ' || ? || ',%')
							FROM pg_stat_activity WHERE datname = current_database()""")) {
						sessions.setString(1, job);
						try (ResultSet counted = sessions.executeQuery()) {
							counted.next();
							inTransaction = Math.max(inTransaction, counted.getInt(1));
							waiting += counted.getInt(2) > 0 ? 1 : 0;
						}
					}
				}
				assertThat(waiting).as(job + " running, its lock held").isEqualTo(8);
				assertThat(inTransaction).as(job + ": sessions idle in transaction for over 2 s").isZero();
				// the step's summary is still written (by the job repository, in a transaction of its own)
				EtlProcess.Result ran = run.get(10, TimeUnit.MINUTES);
				assertThat(ran.stdout()).as(ran.stdout() + ran.stderr())
					.contains(job.equals("backup-verify") ? "verify-id " : "still runs after 10 s");
			}
		}
	}

	/** A row of etl.restore_point only (no point in the WAL, no counts): enough for what happens before a restore. */
	private static String recordedPoint(String name) throws Exception {
		try (Connection connection = TestDatabase.connect();
				PreparedStatement insert = connection.prepareStatement(
						"INSERT INTO etl.restore_point (name, lsn, created_at) VALUES (?, pg_current_wal_lsn(), now())")) {
			insert.setString(1, name);
			insert.executeUpdate();
		}
		return name;
	}

	/**
	 * A lock of the backup job's runs (core/ExecutionLock: pgbatch.job, its name) taken on {@code session}, held until
	 * it closes.
	 */
	private static void holdTheLock(Connection session, String name) throws Exception {
		try (Statement statement = session.createStatement()) {
			statement.execute("SELECT pg_advisory_lock(hashtext('pgbatch.job'), hashtext('" + name + "'))");
		}
	}

}
