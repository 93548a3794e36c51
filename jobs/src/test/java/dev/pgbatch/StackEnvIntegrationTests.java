package dev.pgbatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.pgbatch.cli.EtlInProcess;
import dev.pgbatch.cli.EtlProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * bin/stack env, as CI runs it: `eval "$(bin/stack env)"` traced with bash -x (as a CI log shows it) gives
 * the secrets as the files that hold them, never their values; and it names pgBackRest's configuration and stanza,
 * enough for `pgbackrest info` by hand. Also pgBackRest through bin/etl: physical backups, drills and verify, all
 * here because they make and count sets in the stack's one repository, which test classes running side by side
 * would otherwise disturb.
 */
class StackEnvIntegrationTests {

	private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

	private static final Path STACK = Path.of(System.getenv("ETL_STACK_DIR"));

	private static final Path CONFIG = STACK.resolve("pgbackrest/pgbackrest.conf");

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/**
	 * The class's database made (on first use) before any command: made inside the first command in this JVM, the
	 * template's migration would log (Flyway, on stdout until Spring Boot sets logging up) into that command's output,
	 * and its --json document would no longer parse.
	 */
	@BeforeAll
	static void makeTheDatabaseFirst() {
		TestDatabase.name();
	}

	@Test
	void aTracedEvalOfTheStacksEnvironmentShowsNoSecret() throws Exception {
		Path secrets = STACK.resolve("secrets");
		// pgBackRest's: the S3 keystore's password and the repository's cipher passphrase
		assertThat(secrets.resolve("s3-keystore-password")).isNotEmptyFile();
		assertThat(secrets.resolve("pgbackrest-cipher-pass")).isNotEmptyFile();
		List<String> values;
		try (Stream<Path> files = Files.list(secrets)) {
			values = files.filter(file -> !file.getFileName().toString().equals("pgpass"))
				.map(file -> read(file).strip())
				.toList();
		}
		assertThat(values).as("the stack's secrets").hasSizeGreaterThanOrEqualTo(3).allMatch(value -> value.length() >= 8);
		String output = run("bash", "-x", "-c", "eval \"$(bin/stack env)\" && env");

		// the trace and the environment it made: the files are named, the settings are there
		assertThat(output).contains("PGPASSFILE=", "ETL_DB_PASSWORD_FILE=" + secrets.resolve("db-password"),
				"ETL_S3_SECRET_KEY_FILE=" + secrets.resolve("s3-secret"), "ETL_DB_URL=",
				"PGBACKREST_CONFIG=" + STACK.resolve("pgbackrest/pgbackrest.conf"), "PGBACKREST_STANZA=pgbatch");
		assertThat(values).allSatisfy(value -> assertThat(output).doesNotContain(value));
	}

	/**
	 * The files that hold pgBackRest's secrets are the owner's only, and `pgbackrest info` as the docs give it (as
	 * postgres, who runs archive_command) needs nothing beyond bin/stack env: it finds the stanza and its WAL archive.
	 */
	@Test
	void pgbackrestInfoByHandFindsTheStanzaAndItsWalArchive() throws Exception {
		for (Path file : List.of(STACK.resolve("pgbackrest/pgbackrest.conf"), STACK.resolve("tls/s3-key.pem"),
				STACK.resolve("tls/s3-keystore.p12"))) {
			assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).as(file.toString())
				.isEqualTo("rw-------");
		}
		String output = run("bash", "-c",
				"eval \"$(bin/stack env)\" && runuser -u postgres -- pgbackrest --log-level-file=off info");

		assertThat(output).contains("stanza: pgbatch", "cipher: aes-256-cbc", "wal archive min/max");
	}

	/**
	 * bin/etl backup check, with the settings of bin/stack env (ETL_PGBACKREST_CONFIG and _STANZA): the stack archives
	 * its WAL through pgBackRest, end to end, and warns that the configuration is another user's. Given another stanza,
	 * no configuration or no pgbackrest at ETL_PGBACKREST_BIN, it names each thing missing.
	 */
	@Test
	void backupCheckPassesOnTheStackAndNamesWhatIsMissingElsewhere() throws Exception {
		EtlProcess.Result passed = EtlInProcess.run("backup", "check");
		assertThat(passed.exitCode()).as(passed.stdout() + passed.stderr()).isZero();
		assertThat(passed.stdout()).isEqualTo("stanza pgbatch: WAL archiving through pgBackRest works (pgbackrest check passed)\n");
		// the stack's configuration is postgres's: run by another user (root, here), the check says so
		String owner = Files.getOwner(STACK.resolve("pgbackrest/pgbackrest.conf")).getName();
		assertThat(owner).isEqualTo("postgres");
		if (!owner.equals(System.getProperty("user.name"))) {
			assertThat(passed.stderr()).contains("warning: pgBackRest's configuration "
					+ STACK.resolve("pgbackrest/pgbackrest.conf") + " belongs to postgres, not to " + System.getProperty("user.name"));
		}

		EtlProcess.Result noBin = EtlInProcess.run(Map.of("ETL_PGBACKREST_BIN", "/no/such/pgbackrest"), "backup", "check");
		assertThat(noBin.exitCode()).isEqualTo(1);
		assertThat(noBin.stdout()).startsWith("missing: pgbackrest cannot be run (")
			.endsWith("install it on this host (Debian: pgbackrest) or set ETL_PGBACKREST_BIN\n");

		EtlProcess.Result otherStanza = EtlInProcess.run(Map.of("ETL_PGBACKREST_STANZA", "nosuch"), "backup", "check");
		assertThat(otherStanza.exitCode()).as(otherStanza.stdout() + otherStanza.stderr()).isEqualTo(1);
		assertThat(otherStanza.stdout().lines().toList()).allMatch(line -> line.startsWith("missing: "))
			.anyMatch(line -> line.startsWith("missing: archive_command does not push to stanza nosuch through pgBackRest"))
			.anyMatch(line -> line.startsWith("missing: pgbackrest check failed: ["));

		EtlProcess.Result noConfig = EtlInProcess.run(Map.of("ETL_PGBACKREST_CONFIG", "/no/such/pgbackrest.conf"), "backup",
				"check");
		assertThat(noConfig.exitCode()).isEqualTo(1);
		assertThat(noConfig.stdout())
			.isEqualTo("missing: pgBackRest's configuration /no/such/pgbackrest.conf (ETL_PGBACKREST_CONFIG) cannot be read\n");
	}

	/**
	 * bin/etl run backup type=full, then type=incr: pgBackRest's backups of the stack's cluster, reported (--json) as
	 * pgbackrest info lists them, the incr on the full (retention's dry run: PgBackRestTests).
	 */
	@Test
	void physicalBackupsFullThenIncrAreReportedAsPgBackRestListsThem() throws Exception {
		JsonNode full = physicalBackup("type=full").get(0).path("summary");
		JsonNode incr = physicalBackup("type=incr").get(0).path("summary");
		// review 20 #3: what lets a verify it overlapped excuse the sets its expire removed
		assertThat(lastRetentionContext()).containsEntry("expire.ran", "true");

		assertThat(full.path("type").asString()).isEqualTo("full");
		assertThat(full.path("prior").asString()).isEmpty();
		assertThat(full.path("label").asString()).endsWith("F");
		assertThat(incr.path("type").asString()).isEqualTo("incr");
		assertThat(incr.path("prior").asString()).isEqualTo(full.path("label").asString());
		assertThat(incr.path("label").asString()).startsWith(full.path("label").asString() + "_").endsWith("I");
		// an incr copies what changed since: far less than the cluster
		assertThat(incr.path("delta-bytes").asLong()).isPositive().isLessThan(full.path("delta-bytes").asLong() / 2);
		JsonNode listed = info(incr.path("label").asString());
		assertThat(listed.path("prior").asString()).isEqualTo(full.path("label").asString());
		assertThat(listed.path("info").path("size").asLong()).isEqualTo(incr.path("database-bytes").asLong());
		assertThat(listed.path("info").path("repository").path("delta").asLong())
			.isEqualTo(incr.path("repository-delta-bytes").asLong());
		assertThat(listed.path("archive").path("start").asString()).isEqualTo(incr.path("wal-start").asString())
			.isLessThanOrEqualTo(incr.path("wal-stop").asString());
		// each ends with a restore point of its own, recorded with the set's label
		for (JsonNode made : List.of(full, incr)) {
			String label = made.path("label").asString();
			assertThat(made.path("point").asString()).isEqualTo("backup-" + label);
			try (java.sql.Connection connection = TestDatabase.connect();
					java.sql.PreparedStatement point = connection
						.prepareStatement("SELECT backup_label FROM etl.restore_point WHERE name = ?")) {
				point.setString(1, "backup-" + label);
				try (java.sql.ResultSet recorded = point.executeQuery()) {
					assertThat(recorded.next()).as("etl.restore_point of " + label).isTrue();
					assertThat(recorded.getString(1)).isEqualTo(label);
				}
			}
		}
	}

	/**
	 * bin/etl run backup type=incr killed with SIGKILL while its pgbackrest runs: pgbackrest goes on (paused here
	 * until the restart has looked at the repository, so that the restart finds it running), the restart waits for it
	 * instead of failing on pgBackRest's lock, and reports the set it finished: the one set made, no second backup.
	 * While the backup job's own lock is held (a logical backup, or a runner of the version before that ran the
	 * physical backup under it) the killed execution may be alive: status does not call it orphaned and its restart
	 * is refused; once that lock is free, status says its process is gone, and the restart goes on.
	 */
	@Test
	void aPhysicalBackupKilledWithSigkillIsFinishedByItsRestart() throws Exception {
		List<String> before = labels();
		EtlProcess run = EtlProcess.start(Map.of(), "run", "backup", "type=incr");
		ProcessHandle orphan = awaitPgbackrestBackup(run);
		// paused before the kill, so that it is still running when the restart looks (an incr takes 2 s); its workers
		// wait for it
		assertThat(signal("STOP", orphan)).isTrue();
		java.util.concurrent.CompletableFuture<EtlProcess.Result> restart;
		try {
			run.kill();
			long execution;
			try (java.sql.Connection connection = TestDatabase.connect();
					java.sql.ResultSet newest = connection.createStatement()
						.executeQuery("SELECT max(job_execution_id) FROM etl.batch_job_execution")) {
				newest.next();
				execution = newest.getLong(1);
			}
			try (Connection logical = holdingTheBackupJobsLock()) {
				EtlProcess.Result status = EtlInProcess.run("status", Long.toString(execution), "--json");
				assertThat(JSON.readTree(status.stdout()).path("orphaned").asBoolean()).as(status.stdout()).isFalse();
				EtlProcess.Result refused = EtlInProcess.run("restart", Long.toString(execution));
				assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(1);
				assertThat(refused.stderr()).startsWith("etl: execution " + execution + " of backup may still run: the"
						+ " job's own lock is held (");
			}
			EtlProcess.Result status = EtlInProcess.run("status", Long.toString(execution), "--json");
			assertThat(JSON.readTree(status.stdout()).path("orphaned").asBoolean()).as(status.stdout()).isTrue();
			restart = java.util.concurrent.CompletableFuture
				.supplyAsync(() -> EtlInProcess.run("restart", Long.toString(execution), "--json"));
			// the restart's first look at the repository (pgbackrest info) while the orphan holds the lock, and some
			// more
			for (int i = 0; i < 600 && pgbackrest(ProcessHandle.current().descendants(), "info").isEmpty(); i++) {
				Thread.sleep(100);
			}
			Thread.sleep(3_000);
			assertThat(orphan.isAlive()).as("the killed run's pgbackrest goes on").isTrue();
		}
		finally {
			// never left paused: it holds the stanza's backup lock
			signal("CONT", orphan);
		}
		EtlProcess.Result restarted = restart.get(5, TimeUnit.MINUTES);

		assertThat(restarted.exitCode()).as(restarted.stdout() + restarted.stderr()).isZero();
		assertThat(setsOfTheRunThatMade(reportedLabel(restarted), before)).singleElement();
	}

	/**
	 * Physical backups take a lock of their own (issue 15): one runs to COMPLETED while the backup job's own lock is
	 * held (a logical backup or a nightly under way), and a second one while it runs is refused, naming it.
	 */
	@Test
	void aPhysicalBackupRunsWhileALogicalOneHoldsTheJobsLockAndASecondOneIsRefused() throws Exception {
		List<String> before = labels();
		EtlProcess.Result first;
		try (Connection logical = holdingTheBackupJobsLock()) {
			EtlProcess run = EtlProcess.start(Map.of(), "run", "backup", "type=incr", "--json");
			ProcessHandle backup = awaitPgbackrestBackup(run);
			// paused, so that the first is still running when the second is launched
			assertThat(signal("STOP", backup)).isTrue();
			EtlProcess.Result second;
			try {
				second = EtlInProcess.run("run", "backup", "type=full");
			}
			finally {
				signal("CONT", backup);
			}
			assertThat(second.exitCode()).isEqualTo(1);
			assertThat(second.stderr().strip()).matches("etl: job backup physical is already running \\(pgbatch backup"
					+ " physical, pid \\d+ on .*\\); a second run is refused");
			first = run.await();
		}

		assertThat(first.exitCode()).as(first.stdout() + first.stderr()).isZero();
		assertThat(JSON.readTree(first.stdout()).path("status").asString()).isEqualTo("COMPLETED");
		assertThat(setsOfTheRunThatMade(reportedLabel(first), before)).singleElement();
	}

	/**
	 * A physical backup's own point meets a managed table locked for longer than its tries (an archive move's ALTER
	 * TABLE ... SET TABLESPACE): tried again up to ETL_PGBACKREST_LOCK_WAIT, then given up; the run still expires and
	 * ends COMPLETED with its set, and says (summary, one WARN line) that the point is missing.
	 */
	@Test
	void aPhysicalBackupWhosePointStaysLockedStillRunsItsRetentionAndSaysThePointIsMissing() throws Exception {
		EtlProcess.Result run;
		try (Connection mover = TestDatabase.connect(); java.sql.Statement statement = mover.createStatement()) {
			mover.setAutoCommit(false);
			statement.execute("LOCK TABLE retail.stores IN ACCESS EXCLUSIVE MODE");
			run = EtlInProcess.run(Map.of("ETL_BACKUP_POINT_LOCK_TIMEOUT", "200ms", "ETL_PGBACKREST_LOCK_WAIT", "1s"),
					"run", "backup", "type=incr", "--json");
			mover.rollback();
		}

		assertThat(run.exitCode()).as(run.stdout() + run.stderr()).isZero();
		JsonNode report = JSON.readTree(run.stdout());
		assertThat(report.path("status").asString()).isEqualTo("COMPLETED");
		String label = report.path("steps").get(0).path("summary").path("label").asString();
		String missing = "none: restore point backup-" + label + " was not made within 1 s (ETL_PGBACKREST_LOCK_WAIT):"
				+ " restore point backup-" + label + ": a managed table stayed locked by another session for 200 ms"
				+ " (ETL_BACKUP_POINT_LOCK_TIMEOUT): nothing was made; ";
		assertThat(report.path("steps").get(0).path("summary").path("point").asString()).startsWith(missing)
			.endsWith("; make one with bin/etl backup point NAME");
		assertThat(run.stderr().lines().filter(line -> line.contains("WARN") && line.contains(missing))).hasSize(1);
		assertThat(report.path("steps").get(1).path("summary").path("retention").asString()).startsWith("expired ");
		try (Connection connection = TestDatabase.connect();
				java.sql.PreparedStatement point = connection
					.prepareStatement("SELECT 1 FROM etl.restore_point WHERE name = ?")) {
			point.setString(1, "backup-" + label);
			try (ResultSet recorded = point.executeQuery()) {
				assertThat(recorded.next()).isFalse();
			}
		}
	}

	/**
	 * Retention's expire does not remove sets under a drill or a backup restore --to (the server's restore lock held):
	 * it is skipped this time, said, and the run ends COMPLETED with its set.
	 */
	@Test
	void aPhysicalBackupsExpireIsSkippedWhileADrillOrRestoreHoldsTheRestoreLock() throws Exception {
		EtlProcess.Result run;
		try (Connection drill = TestDatabase.connect("postgres");
				java.sql.Statement statement = drill.createStatement()) {
			statement.execute(
					"SELECT pg_advisory_lock(hashtext('pgbatch.job'), hashtext('backup drill or restore --data-dir'))");
			run = EtlInProcess.run("run", "backup", "type=incr", "--json");
		}

		assertThat(run.exitCode()).as(run.stdout() + run.stderr()).isZero();
		JsonNode report = JSON.readTree(run.stdout());
		assertThat(report.path("status").asString()).isEqualTo("COMPLETED");
		String skipped = "skipped: a drill or backup restore --to reads the backup sets (the server's restore lock is"
				+ " held); the next physical backup's retention expires what is due";
		assertThat(report.path("steps").get(1).path("summary").path("retention").asString()).isEqualTo(skipped);
		assertThat(run.stderr().lines().filter(line -> line.contains("WARN") && line.contains(skipped + ": ")))
			.hasSize(1);
		// review 20 #3: a skipped expire does not excuse removals a verify it overlapped sees
		assertThat(lastRetentionContext()).doesNotContainKey("expire.ran");
	}

	/** The context of the newest retention step in the test database, as Spring Batch reads it. */
	private static Map<String, Object> lastRetentionContext() throws Exception {
		try (Connection connection = TestDatabase.connect();
				java.sql.Statement statement = connection.createStatement();
				ResultSet row = statement.executeQuery("""
						SELECT coalesce(c.SERIALIZED_CONTEXT, c.SHORT_CONTEXT) FROM etl.BATCH_STEP_EXECUTION_CONTEXT c
						  JOIN etl.BATCH_STEP_EXECUTION s ON s.STEP_EXECUTION_ID = c.STEP_EXECUTION_ID
						  WHERE s.STEP_NAME = 'retention' ORDER BY s.STEP_EXECUTION_ID DESC LIMIT 1""")) {
			assertThat(row.next()).as("a retention step").isTrue();
			return new org.springframework.batch.core.repository.dao.DefaultExecutionContextSerializer()
				.deserialize(new java.io.ByteArrayInputStream(row.getString(1).getBytes(StandardCharsets.ISO_8859_1)));
		}
	}

	/** The backup job's own lock (core/ExecutionLock: pgbatch.job, backup), held until the connection closes. */
	private static Connection holdingTheBackupJobsLock() throws Exception {
		Connection session = TestDatabase.connect();
		try (java.sql.Statement statement = session.createStatement()) {
			statement.execute("SELECT pg_advisory_lock(hashtext('pgbatch.job'), hashtext('backup'))");
		}
		catch (java.sql.SQLException ex) {
			session.close();
			throw ex;
		}
		return session;
	}

	/** The pgbackrest backup that bin/etl's run starts, once it runs. */
	private static ProcessHandle awaitPgbackrestBackup(EtlProcess run) throws InterruptedException {
		ProcessHandle backup = null;
		for (int i = 0; i < 600 && backup == null; i++) {
			Thread.sleep(100);
			backup = pgbackrest(run.descendants(), "backup").orElse(null);
			assertThat(run.isAlive() || backup != null).as("bin/etl ended before its pgbackrest started").isTrue();
		}
		assertThat(backup).as("no pgbackrest backup under bin/etl within 60 s").isNotNull();
		return backup;
	}

	private static String reportedLabel(EtlProcess.Result run) throws Exception {
		return JSON.readTree(run.stdout()).path("steps").get(0).path("summary").path("label").asString();
	}

	/**
	 * The sets made since before by the run that made the reported one (pgbatch's annotation names the run): other
	 * test classes back up into the stack's repository meanwhile, so counting every new set is not enough.
	 */
	private static List<JsonNode> setsOfTheRunThatMade(String reported, List<String> before) throws Exception {
		List<JsonNode> made = new java.util.ArrayList<>();
		info().forEach(set -> {
			if (!before.contains(set.path("label").asString())) {
				made.add(set);
			}
		});
		String annotation = made.stream()
			.filter(set -> set.path("label").asString().equals(reported))
			.map(set -> set.path("annotation").path(RUN_ANNOTATION).asString())
			.findFirst()
			.orElseThrow(() -> new AssertionError("the reported set " + reported + " is not among the new ones: " + made));
		return made.stream().filter(set -> set.path("annotation").path(RUN_ANNOTATION).asString().equals(annotation)).toList();
	}

	/**
	 * Issue 15's fault of the object store down for a while, for WAL archiving (WalArchivingOutage): archive_command
	 * fails, the segment it could not push stays in pg_wal, a restore point made meanwhile is recorded; once the
	 * store is back the backlog is archived in order, and a drill to that point passes (its WAL was not lost). The
	 * scheduler's health during such an outage: SchedulerIntegrationTests.
	 */
	@Test
	void aPointMadeWhileWalArchivingFailsIsDrilledOnceTheBacklogIsArchived() throws Exception {
		physicalBackup("type=incr");
		String point = "outage-" + System.nanoTime();
		String kept;
		try (WalArchivingOutage outage = WalArchivingOutage.start(TestDatabase.name())) {
			WalArchivingOutage.awaitSwitchingSegments(TestDatabase.name(), () -> archiver("last_failed_time > "
					+ "coalesce(last_archived_time, '-infinity')").equals("true"));
			kept = archiver("last_failed_wal");
			EtlProcess.Result made = EtlInProcess.run("backup", "point", point);
			assertThat(made.exitCode()).as(made.stdout() + made.stderr()).isZero();
			// nothing lost: the segment that could not be pushed waits in pg_wal
			assertThat(StackSuperuser.query(TestDatabase.name(),
					"SELECT count(*) FROM pg_ls_waldir() WHERE name = '" + kept + "'")).isEqualTo("1");
		}
		WalArchivingOutage.awaitSwitchingSegments(TestDatabase.name(),
				() -> archiver("last_archived_time > last_failed_time AND last_archived_wal >= last_failed_wal").equals("true"));

		EtlProcess.Result drill = EtlInProcess.run("backup", "drill", "--to", point);

		assertThat(drill.exitCode()).as(drill.stdout() + drill.stderr()).isZero();
		assertThat(drill.stdout()).contains("to restore point " + point).contains(": passed");
	}

	/** A column or condition of pg_stat_archiver, as text. */
	private static String archiver(String expression) throws Exception {
		return StackSuperuser.query(TestDatabase.name(), "SELECT (" + expression + ")::text FROM pg_stat_archiver");
	}

	/**
	 * bin/etl backup drill: the newest set before the point is restored into a scratch cluster, which replays to the
	 * point; every managed table's rows are compared with the point's counts, one of which is made wrong here, so
	 * that the drill names exactly that table (all others equal, pg_amcheck clean), exits 1 and is recorded as
	 * failed; its scratch cluster is gone, directory and processes, and so is the one a killed drill left.
	 */
	@Test
	void aDrillRestoresThePointIntoAScratchClusterAndNamesTheTableWhoseCountDiffers() throws Exception {
		String set = physicalBackup("type=incr").get(0).path("summary").path("label").asString();
		String point = "drill-" + System.nanoTime();
		assertThat(EtlInProcess.run("backup", "point", point).exitCode()).isZero();
		long tasks;
		try (java.sql.Connection connection = TestDatabase.connect();
				java.sql.Statement statement = connection.createStatement()) {
			try (java.sql.ResultSet rs = statement.executeQuery("SELECT count(*) FROM ops.tasks")) {
				rs.next();
				tasks = rs.getLong(1);
			}
			// the point says ops.tasks had one row more than it had
			statement.executeUpdate("UPDATE etl.restore_point_count SET row_count = row_count + 1 WHERE point = '"
					+ point + "' AND table_name = 'ops.tasks'");
		}

		String scratch;
		try (java.sql.Connection connection = TestDatabase.connect();
				java.sql.ResultSet oid = connection.createStatement()
					.executeQuery("SELECT (SELECT system_identifier FROM pg_control_system()), oid FROM pg_database"
							+ " WHERE datname = current_database()")) {
			oid.next();
			scratch = "drill-pgbatch-" + oid.getLong(1) + "-" + oid.getLong(2) + "-";
		}
		// what a drill killed with SIGKILL leaves (its postgres stopped meanwhile)
		Path drills = Path.of("/var/tmp/pgbatch-drills");
		Path leftover = Files.createDirectories(drills.resolve(scratch + "1/data"));
		Files.writeString(leftover.resolve("PG_VERSION"), "15\n");

		EtlProcess.Result drill = EtlInProcess.run("backup", "drill", "--to", point, "--json");

		assertThat(drill.exitCode()).as(drill.stdout() + drill.stderr()).isEqualTo(1);
		JsonNode report = JSON.readTree(drill.stdout());
		assertThat(report.path("set").asString()).isEqualTo(set);
		assertThat(report.path("problems").toString())
			.isEqualTo("[\"ops.tasks: " + (tasks + 1) + " rows at the point, " + tasks + " restored\"]");
		try (java.sql.Connection connection = TestDatabase.connect();
				java.sql.ResultSet recorded = connection.createStatement()
					.executeQuery("SELECT passed, target, backup_label, restore_seconds > 0 FROM etl.restore_drill WHERE id = "
							+ report.path("id").asLong())) {
			assertThat(recorded.next()).isTrue();
			assertThat(recorded.getBoolean(1)).isFalse();
			assertThat(recorded.getString(2)).isEqualTo(point);
			assertThat(recorded.getString(3)).isEqualTo(set);
			assertThat(recorded.getBoolean(4)).isTrue();
		}
		// backup list --physical: the set among the stanza's, the drill as the last one
		EtlProcess.Result listed = EtlInProcess.run("backup", "list", "--physical", "--json");
		assertThat(listed.exitCode()).as(listed.stderr()).isZero();
		JsonNode listing = JSON.readTree(listed.stdout());
		assertThat(listing.path("sets").findValuesAsString("label")).contains(set);
		assertThat(listing.path("walMax").asString()).isGreaterThanOrEqualTo(listing.path("walMin").asString()).isNotEmpty();
		assertThat(listing.path("lastDrill").path("id").asLong()).isEqualTo(report.path("id").asLong());
		assertThat(listing.path("lastDrill").path("passed").asBoolean(true)).isFalse();
		// the leftover and its own scratch cluster both removed
		try (Stream<Path> left = Files.exists(drills) ? Files.list(drills) : Stream.empty()) {
			assertThat(left.map(path -> path.getFileName().toString())).noneMatch(name -> name.startsWith(scratch));
		}
		assertThat(ProcessHandle.allProcesses()
			.map(process -> process.info().commandLine().orElse(""))
			.filter(line -> line.contains("pgbatch-drills/drill-pgbatch-")))
			.isEmpty();
	}

	/**
	 * bin/etl run backup-drill, the job the weekly schedule runs: its drill to the newest point (the physical backup's
	 * own, made just before) passes, and the run completes with the drill in its summary, recorded as passed; a drill
	 * that fails (here its drills directory is one any user may write, which a drill refuses) fails the run with the
	 * drill's problem as its exit description, recorded as failed.
	 */
	@Test
	void theBackupDrillJobCompletesWhenItsDrillPassesAndFailsWithTheDrillsProblemWhenItFails() throws Exception {
		String set = physicalBackup("type=incr").get(0).path("summary").path("label").asString();

		EtlProcess.Result passed = EtlInProcess.run("run", "backup-drill", "--json");

		assertThat(passed.exitCode()).as(passed.stdout() + passed.stderr()).isZero();
		JsonNode report = JSON.readTree(passed.stdout());
		assertThat(report.path("status").asString()).isEqualTo("COMPLETED");
		JsonNode summary = report.path("steps").get(0).path("summary");
		assertThat(summary.path("point").asString()).isEqualTo("backup-" + set);
		assertThat(summary.path("set").asString()).isEqualTo(set);
		assertThat(summary.path("result").asString()).startsWith("passed (restore ");
		assertThat(drillPassed(summary.path("id").asLong())).isTrue();

		Path unsafe = Files.createTempDirectory("drills");
		Files.setPosixFilePermissions(unsafe, PosixFilePermissions.fromString("rwxrwxrwx"));
		EtlProcess.Result failed = EtlInProcess.run(Map.of("ETL_PGBACKREST_DRILL_DIR", unsafe.toString()), "run",
				"backup-drill", "--json");

		assertThat(failed.exitCode()).as(failed.stdout() + failed.stderr()).isEqualTo(1);
		JsonNode failure = JSON.readTree(failed.stdout());
		assertThat(failure.path("status").asString()).isEqualTo("FAILED");
		long id = failure.path("steps").get(0).path("summary").path("id").asLong();
		assertThat(failure.path("exitDescription").asString()).isEqualTo("drill: drill " + id + " to restore point backup-"
				+ set + " failed: ETL_PGBACKREST_DRILL_DIR: " + unsafe + " may be written by its group or other users:"
				+ " chmod go-w it, or name another (drills remove what they find there)");
		assertThat(drillPassed(id)).isFalse();
	}

	/** Whether etl.restore_drill records drill {@code id} as passed. */
	private static boolean drillPassed(long id) throws Exception {
		try (java.sql.Connection connection = TestDatabase.connect();
				java.sql.ResultSet recorded = connection.createStatement()
					.executeQuery("SELECT passed FROM etl.restore_drill WHERE id = " + id)) {
			assertThat(recorded.next()).as("etl.restore_drill " + id).isTrue();
			return recorded.getBoolean(1);
		}
	}

	/**
	 * pgBackRest writes its lock file's content only after it takes the lock, and info does not count a lock without
	 * it: a backup started in that moment fails on the lock (exit 50). A run that meets it waits for the lock, as for
	 * a backup info shows running, and then makes its set. The lock is held here by flock(1), content-less.
	 */
	@Test
	void aBackupWaitsForAStanzaLockThatInfoDoesNotShow() throws Exception {
		List<String> before = labels();
		Process holder = holdingTheBackupLock();
		java.util.concurrent.CompletableFuture<EtlProcess.Result> run;
		try {
			run = java.util.concurrent.CompletableFuture
				.supplyAsync(() -> EtlInProcess.run("run", "backup", "type=incr", "--json"));
			// released once the run's pgbackrest backup has met the lock (or the run ended on it)
			boolean met = false;
			for (int i = 0; i < 6_000 && !met && !run.isDone(); i++) {
				met = pgbackrest(ProcessHandle.current().descendants(), "backup").isPresent();
				Thread.sleep(met ? 1_500 : 10);
			}
			assertThat(met || run.isDone()).as("the run's pgbackrest backup within 60 s").isTrue();
		}
		finally {
			release(holder);
		}
		EtlProcess.Result finished = run.get(5, TimeUnit.MINUTES);

		assertThat(finished.exitCode()).as(finished.stdout() + finished.stderr()).isZero();
		assertThat(setsOfTheRunThatMade(reportedLabel(finished), before)).singleElement();
	}

	// backup verify --physical, and the faults of issue 15 point 10 that concern the repository: a tampered file, a
	// segment gone from the WAL archive, a wrong cipher passphrase, a drill whose restore fails. In this class, whose
	// tests run one after another, as the tests above count the sets they make: the repository is the stack's, shared
	// by every test class. What is tampered with is a copy of it (taken while the stanza's backup lock is held, so that
	// no backup or expire is half done in it) under another path of the same bucket, which a copy of the stack's
	// pgBackRest configuration names (ETL_PGBACKREST_CONFIG); the copy is removed after.

	/** What bin/etl says of a repository read with a wrong cipher passphrase (PgBackRest.UNREADABLE). */
	private static final String UNREADABLE = " (it reads as garbage: is repo1-cipher-pass the repository's? Else the file is damaged)";

	/** A WAL segment file in an archive id's directory. */
	private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}-[0-9a-f]{40}(\\.[a-z0-9]+)?");

	/** A copy of the stack's repository: its repo1-path, and where S3Proxy keeps it. */
	private record Copy(String repoPath, Path directory) {

		Path stanza(String kind) {
			return this.directory.resolve(kind).resolve("pgbatch");
		}

	}

	/**
	 * A sound copy passes, with the range it checked; then a byte flipped in a bundle of a full set, a segment
	 * removed from the middle of the archive, the newest segment replaced by an older one's content under its name
	 * (and that content's checksum) and the newest set's manifests deleted (info still lists it; verify itself counts
	 * no error for it): verify exits 1 and names the file (with the bundle that holds it), the segments and the set,
	 * and both results are recorded, the last one shown by backup list --physical.
	 */
	@Test
	void verifyPassesOnASoundRepositoryAndNamesATamperedFileAndAMissingSegment(@TempDir Path dir) throws Exception {
		// a set, and WAL after it: each backup check makes the server switch to a new segment and waits for it
		assertThat(EtlInProcess.run("run", "backup", "type=incr").exitCode()).isZero();
		for (int i = 0; i < 3; i++) {
			EtlProcess.Result check = EtlInProcess.run("backup", "check");
			assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
		}
		Copy copy = copy();
		try {
			Map<String, String> settings = Map.of("ETL_PGBACKREST_CONFIG", config(dir, copy, Map.of(), "").toString());

			EtlProcess.Result passed = EtlInProcess.run(settings, "backup", "verify", "--physical");
			// other classes' tests make the server archive WAL meanwhile: a segment archived after the copy was taken
			// is rightly missing from it (verify reads the server first, before anything of the repository); a new
			// copy then
			for (int tries = 1; tries < 4 && passed.exitCode() == 1 && passed.stdout().lines()
				.allMatch(problem -> problem.contains("which the server of ETL_DB_URL says it archived last")); tries++) {
				remove(copy);
				copy = copy();
				settings = Map.of("ETL_PGBACKREST_CONFIG", config(dir, copy, Map.of(), "").toString());
				passed = EtlInProcess.run(settings, "backup", "verify", "--physical");
			}

			assertThat(passed.exitCode()).as(passed.stdout() + passed.stderr()).isZero();
			assertThat(passed.stdout()).matches("verified: [1-9][0-9]* sets, WAL [0-9A-F]{24}\\.\\.[0-9A-F]{24}, no gap\n");
			assertThat(lastVerify()).isEqualTo("true ");

			String full;
			try (Stream<Path> sets = Files.list(copy.stanza("backup"))) {
				full = sets.map(path -> path.getFileName().toString())
					.filter(name -> name.matches("[0-9]{8}-[0-9]{6}F"))
					.sorted()
					.findFirst()
					.orElseThrow();
			}
			Path bundle = copy.stanza("backup").resolve(full).resolve("bundle/1");
			flip(bundle, Files.size(bundle) / 2);
			String newest;
			try (Stream<Path> sets = Files.list(copy.stanza("backup"))) {
				newest = sets.map(path -> path.getFileName().toString())
					.filter(name -> name.matches("[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?"))
					.max(Comparator.comparing(name -> name.substring(name.length() - 16)))
					.orElseThrow();
			}
			assertThat(newest).isNotEqualTo(full);
			Files.delete(copy.stanza("backup").resolve(newest).resolve("backup.manifest"));
			Files.delete(copy.stanza("backup").resolve(newest).resolve("backup.manifest.copy"));
			String archiveId;
			List<Path> segments = new ArrayList<>();
			try (Stream<Path> ids = Files.list(copy.stanza("archive"))) {
				archiveId = ids.filter(Files::isDirectory).map(path -> path.getFileName().toString()).sorted()
					.reduce((older, newer) -> newer).orElseThrow();
			}
			try (Stream<Path> files = Files.walk(copy.stanza("archive").resolve(archiveId))) {
				files.filter(path -> SEGMENT.matcher(path.getFileName().toString()).matches()).forEach(segments::add);
			}
			segments.sort(Comparator.comparing(path -> path.getFileName().toString()));
			// the one before the newest: the checks above put three after the newest set's
			Path removed = segments.get(segments.size() - 2);
			Files.delete(removed);
			// the newest replaced by an older one's content under its name: the checksum in the name is the content's
			Path newestSegment = segments.get(segments.size() - 1);
			Path older = segments.get(segments.size() - 3);
			String copiedName = newestSegment.getFileName().toString().substring(0, 24)
					+ older.getFileName().toString().substring(24);
			Files.delete(newestSegment);
			Files.copy(older, newestSegment.resolveSibling(copiedName));

			EtlProcess.Result failed = EtlInProcess.run(settings, "backup", "verify", "--physical", "--json");

			assertThat(failed.exitCode()).as(failed.stdout() + failed.stderr()).isEqualTo(1);
			JsonNode report = JSON.readTree(failed.stdout());
			List<String> problems = report.path("problems").valueStream().map(JsonNode::asString).toList();
			String tampered = "backup/pgbatch/" + full + "/";
			assertThat(problems).anyMatch(problem -> problem.matches("pgbackrest verify: invalid (checksum|size|result) "
					+ Pattern.quote(tampered) + "\\S+ \\(stored in " + Pattern.quote(tampered + "bundle/1") + "\\).*"))
				.contains("WAL archive " + archiveId + ": segment " + removed.getFileName().toString().substring(0, 24)
						+ " missing")
				.anyMatch(problem -> problem.startsWith("WAL archive " + archiveId + ": segment "
						+ copiedName.substring(0, 24) + " holds other WAL than its name says (its first page is at "))
				.anyMatch(problem -> problem.startsWith("pgbackrest verify") && problem.contains("backup set " + newest + " "));
			assertThat(lastVerify()).isEqualTo("false " + String.join("\n", problems));
			EtlProcess.Result listed = EtlInProcess.run(settings, "backup", "list", "--physical", "--json");
			assertThat(listed.exitCode()).as(listed.stderr()).isZero();
			JsonNode last = JSON.readTree(listed.stdout()).path("lastVerify");
			assertThat(last.path("id").asLong()).isEqualTo(report.path("id").asLong());
			assertThat(last.path("passed").asBoolean(true)).isFalse();
		}
		finally {
			remove(copy);
		}
	}

	/**
	 * A configuration whose repo1-cipher-pass is not the repository's: a physical backup, verify and a drill each
	 * exit 1 saying so on one line, with no stack trace, and neither that passphrase nor the right one is printed.
	 */
	@Test
	void aWrongCipherPassphraseFailsBackupVerifyAndDrillWithOneLineEach(@TempDir Path dir) throws Exception {
		String point = "verify-wrong-pass-" + System.nanoTime();
		assertThat(EtlInProcess.run("backup", "point", point).exitCode()).isZero();
		String right = Files.readString(STACK.resolve("secrets/pgbackrest-cipher-pass")).strip();
		String wrong = UUID.randomUUID().toString().replace("-", "");
		Copy copy = copy();
		try {
			Map<String, String> settings = Map.of("ETL_PGBACKREST_CONFIG",
					config(dir, copy, Map.of("repo1-cipher-pass", wrong), "").toString());
			for (String[] command : List.of(new String[] { "run", "backup", "type=incr" },
					new String[] { "backup", "verify", "--physical" }, new String[] { "backup", "drill", "--to", point })) {

				EtlProcess.Result result = EtlInProcess.run(settings, command);

				String output = result.stdout() + result.stderr();
				assertThat(result.exitCode()).as(String.join(" ", command) + ": " + output).isEqualTo(1);
				assertThat(output).doesNotContain(wrong).doesNotContain(right);
				assertThat(output.lines()).as(output).noneMatch(line -> line.startsWith("\tat "));
				assertThat(result.stdout().lines().filter(line -> line.endsWith(UNREADABLE)))
					.as(String.join(" ", command) + ": " + result.stdout())
					.singleElement();
			}
		}
		finally {
			remove(copy);
		}
	}

	/**
	 * A drill whose restore fails part way (the set's bundles are missing from the repository it restores from, a
	 * copy that only restore is pointed at): the drill exits 1 naming pgBackRest's failure, and leaves no directory
	 * under the drills' directory and no process running from one.
	 */
	@Test
	void aDrillWhoseRestoreFailsLeavesNoProcessAndNoDirectoryBehind(@TempDir Path dir) throws Exception {
		assertThat(EtlInProcess.run("run", "backup", "type=incr").exitCode()).isZero();
		String point = "verify-restore-fails-" + System.nanoTime();
		assertThat(EtlInProcess.run("backup", "point", point).exitCode()).isZero();
		Copy copy = copy();
		try {
			try (Stream<Path> sets = Files.list(copy.stanza("backup"))) {
				for (Path set : sets.filter(path -> Files.isDirectory(path.resolve("bundle"))).toList()) {
					deleteTree(set.resolve("bundle"));
				}
			}
			// the stack's repository for all but the restore, whose file jobs are tried again without pgBackRest's
			// 15 s between tries (job-retry-interval): a missing bundle fails them all the same, half a minute sooner
			Path config = config(dir, null, Map.of(),
					"\n[global:restore]\nrepo1-path=" + copy.repoPath() + "\njob-retry-interval=0\n");
			String scratch;
			try (Connection connection = TestDatabase.connect();
					ResultSet oid = connection.createStatement()
						.executeQuery("SELECT (SELECT system_identifier FROM pg_control_system()), oid FROM pg_database"
								+ " WHERE datname = current_database()")) {
				oid.next();
				scratch = "drill-pgbatch-" + oid.getLong(1) + "-" + oid.getLong(2) + "-";
			}

			EtlProcess.Result drill = EtlInProcess.run(Map.of("ETL_PGBACKREST_CONFIG", config.toString()), "backup",
					"drill", "--to", point, "--json");

			assertThat(drill.exitCode()).as(drill.stdout() + drill.stderr()).isEqualTo(1);
			JsonNode report = JSON.readTree(drill.stdout());
			assertThat(report.path("set").asString()).isNotEmpty();
			assertThat(report.path("problems").valueStream().map(JsonNode::asString).toList()).singleElement()
				.satisfies(problem -> assertThat(problem).startsWith("pgbackrest restore failed: ").contains("/bundle/"));
			Path drills = Path.of(System.getenv().getOrDefault("ETL_PGBACKREST_DRILL_DIR", "/var/tmp/pgbatch-drills"));
			try (Stream<Path> left = Files.exists(drills) ? Files.list(drills) : Stream.empty()) {
				assertThat(left.map(path -> path.getFileName().toString())).noneMatch(name -> name.startsWith(scratch));
			}
			assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
				.noneMatch(line -> line.contains(drills.resolve(scratch).toString()));
		}
		finally {
			remove(copy);
		}
	}

	/**
	 * A copy of the stack's repository beside it in the bucket, taken while the stanza's backup lock is held
	 * ({@link #holdingTheBackupLock}): no set half made or half expired in it. WAL is pushed meanwhile; S3Proxy writes
	 * each object under a name of its own (NAME-UUID) and renames it whole, so such names are left out.
	 */
	private static Copy copy() throws Exception {
		Path repository = s3Data().resolve(setting("repo1-s3-bucket")).resolve(setting("repo1-path").substring(1));
		String repoPath = setting("repo1-path") + "-verify-" + System.nanoTime();
		Path target = repository.resolveSibling(repoPath.substring(1));
		Process holder = holdingTheBackupLock();
		try {
			Pattern inFlight = Pattern.compile(".*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
			try (Stream<Path> files = Files.walk(repository)) {
				for (Path file : files.toList()) {
					Path copied = target.resolve(repository.relativize(file).toString());
					if (Files.isDirectory(file)) {
						Files.createDirectories(copied);
					}
					else if (!inFlight.matcher(file.getFileName().toString()).matches()) {
						Files.copy(file, copied, StandardCopyOption.COPY_ATTRIBUTES);
					}
				}
			}
		}
		finally {
			release(holder);
		}
		return new Copy(repoPath, target);
	}

	/** pgBackRest's lock file of the stanza's backups (and expires): it makes it as it locks, and removes it after. */
	private static final Path BACKUP_LOCK = STACK.resolve("pgbackrest/lock/pgbatch-backup.lock");

	/**
	 * The stanza's backup lock, held by flock(1) until {@link #release}, as the configuration's owner: flock makes the
	 * lock file when it is missing, and one made by root is a file that pgBackRest, run as the owner, cannot open (each
	 * backup after fails on the lock, and waits). -o: flock holds it itself, not its sleep, so that ending flock frees it
	 * however the two end (a sleep that outlived its flock held it for 10 minutes). Waited for up to 5 minutes (a backup
	 * of another test class may hold it meanwhile); not held by then, it fails naming who holds it. A flock that could
	 * not open the file is started again: pgbackrest run as root (bin/etl in this JVM, as root) makes it root's, mode
	 * 0640, for as long as it holds it (before, that flock ended at once and the wait for it ran its 5 minutes). A
	 * lock taken on the file pgBackRest removed as it let go is let go and taken again: a backup may lock the new
	 * file meanwhile.
	 */
	private static Process holdingTheBackupLock() throws Exception {
		List<String> holding = new ArrayList<>(List.of("flock", "-o", BACKUP_LOCK.toString(), "sleep", "600"));
		String owner = Files.getOwner(CONFIG).getName();
		if (!owner.equals(System.getProperty("user.name"))) {
			holding.addAll(0, List.of("runuser", "-u", owner, "--"));
		}
		long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
		String ended = "";
		while (true) {
			Process holder = new ProcessBuilder(holding).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
			try {
				// flock runs sleep once it holds the lock
				while (holder.isAlive() && holder.descendants().noneMatch(process -> running(process, "sleep"))) {
					notPast(deadline, ended);
					Thread.sleep(100);
				}
				if (holder.isAlive() && lockedFileIsNamed(holder)) {
					return holder;
				}
				if (!holder.isAlive()) {
					ended = "the last flock ended " + holder.exitValue() + ": "
							+ new String(holder.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip() + "; ";
					notPast(deadline, ended);
					Thread.sleep(100);
				}
			}
			catch (Exception | Error ex) {
				release(holder);
				throw ex;
			}
			release(holder);
		}
	}

	/** Fails naming who holds the backup lock once the wait for it is past {@code deadline} (System.nanoTime()). */
	private static void notPast(long deadline, String ended) {
		if (System.nanoTime() > deadline) {
			throw new AssertionError("the backup lock " + BACKUP_LOCK + " not held within 5 minutes; " + ended
					+ whoHolds(BACKUP_LOCK));
		}
	}

	/**
	 * Whether the holder's flock has the lock file open under its name (not one pgBackRest removed since); false when
	 * it has ended.
	 */
	private static boolean lockedFileIsNamed(Process holder) {
		return Stream.concat(Stream.of(holder.toHandle()), holder.descendants())
			.filter(process -> running(process, "flock"))
			.anyMatch(flock -> {
				try (Stream<Path> descriptors = Files.list(Path.of("/proc", Long.toString(flock.pid()), "fd"))) {
					return descriptors.anyMatch(descriptor -> BACKUP_LOCK.toString().equals(link(descriptor)));
				}
				catch (IOException ex) {
					return false;
				}
			});
	}

	private static boolean running(ProcessHandle process, String program) {
		return process.info().command().orElse("").endsWith("/" + program);
	}

	private static void release(Process holder) throws InterruptedException {
		holder.descendants().forEach(ProcessHandle::destroy);
		holder.destroy();
		holder.waitFor();
	}

	/**
	 * Who holds or waits for the flock of {@code file}, for a failure message: the file's owner, each process that
	 * /proc/locks names for its inode and each that has it open, by pid, user and command line.
	 */
	private static String whoHolds(Path file) {
		List<String> found = new ArrayList<>();
		try {
			long inode = (Long) Files.getAttribute(file, "unix:ino");
			found.add("the file is " + Files.getOwner(file).getName() + "'s");
			for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
				List<String> fields = new ArrayList<>(List.of(line.strip().split("\\s+")));
				boolean waiting = fields.remove("->");
				// id, class (FLOCK, POSIX, OFDLCK), ADVISORY, READ|WRITE, pid, major:minor:inode, start, end
				if (fields.size() > 5 && fields.get(5).endsWith(":" + inode)) {
					found.add((waiting ? "waiting for it: " : "holding it: ") + fields.get(1) + " of "
							+ described(Long.parseLong(fields.get(4))));
				}
			}
		}
		catch (IOException | RuntimeException ex) {
			found.add("its lock is not known (" + ex + ")");
		}
		try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
			for (Path process : processes.filter(path -> path.getFileName().toString().matches("[0-9]+")).toList()) {
				try (Stream<Path> descriptors = Files.list(process.resolve("fd"))) {
					if (descriptors.anyMatch(descriptor -> opens(descriptor, file))) {
						found.add("open in " + described(Long.parseLong(process.getFileName().toString())));
					}
				}
				catch (IOException ex) {
					// gone, or not ours to look into
				}
			}
		}
		catch (IOException ex) {
			found.add("the processes that have it open are not known (" + ex + ")");
		}
		return String.join("; ", found);
	}

	/** Whether the file descriptor is one of {@code file}, or of its name since removed. */
	private static boolean opens(Path descriptor, Path file) {
		return link(descriptor).startsWith(file.toString());
	}

	/** What a file descriptor in /proc is of ("PATH (deleted)" for a file since removed), or "" when unknown. */
	private static String link(Path descriptor) {
		try {
			return Files.readSymbolicLink(descriptor).toString();
		}
		catch (IOException ex) {
			return "";
		}
	}

	/** A process by pid, user and command line, as /proc shows it. */
	private static String described(long pid) {
		String user = ProcessHandle.of(pid).flatMap(process -> process.info().user()).orElse("?");
		try {
			String line = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
					StandardCharsets.UTF_8).replace('\0', ' ').strip();
			return "pid " + pid + " (" + user + "): " + line;
		}
		catch (IOException ex) {
			return "pid " + pid + " (gone)";
		}
	}

	/**
	 * The stack's pgBackRest configuration with the copy's repo1-path (none: the stack's), these settings replaced,
	 * {@code more} appended, and a lock directory of its own; the owner's, mode 0600, like the stack's.
	 */
	private static Path config(Path dir, Copy copy, Map<String, String> replaced, String more) throws IOException {
		Path locks = Files.createDirectories(dir.resolve("lock"));
		StringBuilder text = new StringBuilder();
		for (String line : Files.readAllLines(CONFIG)) {
			String name = line.contains("=") ? line.substring(0, line.indexOf('=')) : "";
			if (name.equals("repo1-path") && copy != null) {
				line = name + "=" + copy.repoPath();
			}
			else if (name.equals("lock-path")) {
				line = name + "=" + locks;
			}
			else if (replaced.containsKey(name)) {
				line = name + "=" + replaced.get(name);
			}
			text.append(line).append('\n');
		}
		Path config = dir.resolve("pgbackrest.conf");
		Files.writeString(config, text.append(more).toString());
		Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
		Files.setOwner(config, Files.getOwner(CONFIG));
		return config;
	}

	/** A setting of the stack's pgBackRest configuration. */
	private static String setting(String name) throws IOException {
		return Files.readAllLines(CONFIG).stream()
			.filter(line -> line.startsWith(name + "="))
			.map(line -> line.substring(name.length() + 1))
			.findFirst()
			.orElseThrow();
	}

	/** Where S3Proxy keeps the stack's buckets (bin/stack's filesystem backend). */
	private static Path s3Data() {
		return STACK.resolve("s3/data");
	}

	/** The newest etl.physical_verify row of this database: passed, a space, its problems. */
	private static String lastVerify() throws Exception {
		try (Connection connection = TestDatabase.connect();
				ResultSet row = connection.createStatement()
					.executeQuery("SELECT passed, problems FROM etl.physical_verify ORDER BY id DESC LIMIT 1")) {
			assertThat(row.next()).isTrue();
			return row.getBoolean(1) + " " + row.getString(2);
		}
	}

	/** Inverts 16 bytes of the file at {@code offset}. */
	private static void flip(Path file, long offset) throws IOException {
		try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
			ByteBuffer bytes = ByteBuffer.allocate(16);
			channel.read(bytes, offset);
			for (int i = 0; i < bytes.limit(); i++) {
				bytes.put(i, (byte) ~bytes.get(i));
			}
			bytes.rewind();
			channel.write(bytes, offset);
		}
	}

	private static void remove(Copy copy) throws IOException {
		deleteTree(copy.directory());
	}

	private static void deleteTree(Path top) throws IOException {
		if (!Files.exists(top)) {
			return;
		}
		try (Stream<Path> files = Files.walk(top)) {
			for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
				Files.delete(file);
			}
		}
	}

	/** The first of these processes that is pgbackrest running {@code command}. */
	private static java.util.Optional<ProcessHandle> pgbackrest(Stream<ProcessHandle> processes, String command) {
		return processes
			.filter(process -> process.info().command().orElse("").endsWith("/pgbackrest")
					&& process.info().arguments().map(arguments -> List.of(arguments).contains(command)).orElse(false))
			.findFirst();
	}

	/** Whether kill -NAME of the process succeeded. */
	private static boolean signal(String name, ProcessHandle process) throws Exception {
		return new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor() == 0;
	}

	/** The labels of the stanza's sets, as `pgbackrest info` lists them. */
	private static List<String> labels() throws Exception {
		List<String> labels = new java.util.ArrayList<>();
		info().forEach(set -> labels.add(set.path("label").asString()));
		return labels;
	}

	/** The steps of a completed bin/etl run backup (in process) with --json. */
	private static JsonNode physicalBackup(String... parameters) {
		List<String> arguments = new java.util.ArrayList<>(List.of("run", "backup"));
		arguments.addAll(List.of(parameters));
		arguments.add("--json");
		EtlProcess.Result run = EtlInProcess.run(arguments.toArray(String[]::new));
		assertThat(run.exitCode()).as(run.stdout() + run.stderr()).isZero();
		JsonNode report = JSON.readTree(run.stdout());
		assertThat(report.path("status").asString()).isEqualTo("COMPLETED");
		return report.path("steps");
	}

	/** The set of that label as `pgbackrest info --output=json` lists it (run as postgres), or a missing node. */
	private static JsonNode info(String label) throws Exception {
		for (JsonNode set : info()) {
			if (set.path("label").asString().equals(label)) {
				return set;
			}
		}
		return tools.jackson.databind.node.MissingNode.getInstance();
	}

	/** The annotation pgbatch gives each set: the run that asked for it (backup/PhysicalBackups). */
	private static final String RUN_ANNOTATION = "pgbatch-run";

	private static JsonNode info() throws Exception {
		return JSON.readTree(run("bash", "-c",
				"eval \"$(bin/stack env)\" && runuser -u postgres -- pgbackrest --log-level-console=error info --output=json"))
			.get(0)
			.path("backup");
	}

	/**
	 * Runs a command in the checkout, without the pgBackRest settings of this JVM's environment (the command's eval
	 * must bring them); its output (stdout and stderr), once it exited 0.
	 */
	private static String run(String... command) throws Exception {
		ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
		builder.environment().keySet().removeIf(name -> name.startsWith("PGBACKREST_"));
		Process process = builder.start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(output).isZero();
		return output;
	}

	private static String read(Path file) {
		try {
			return Files.readString(file);
		}
		catch (java.io.IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

}
