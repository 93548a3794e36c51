package dev.pgbatch.backup;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.crypto.AuthenticationFailedException;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.TestKeysets;
import dev.pgbatch.seed.SeedDataRuns;
import dev.pgbatch.store.ObjectStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** backup and its commands on seed-data at scale 0.2, against the stack's PostgreSQL and object store. */
class BackupJobIntegrationTests extends DatabaseIntegrationTest {

	private static final Path KEYSET = TestKeysets.fresh();

	private static final String PREFIX = "test-backup-" + UUID.randomUUID();

	private static final String TARGET = TestDatabase.NAME + "_restored";

	@DynamicPropertySource
	static void backups(DynamicPropertyRegistry registry) {
		registry.add("etl.keyset.path", KEYSET::toString);
		registry.add("etl.backup.prefix", () -> PREFIX);
	}

	@Autowired
	Backups backups;

	@Autowired
	ObjectStore store;

	@BeforeEach
	void seed() throws SQLException {
		assertThat(SeedDataRuns.seed(this.runner, "scale=0.2", "reset=true").getStatus()).isEqualTo(BatchStatus.COMPLETED);
		dropTarget();
	}

	@AfterEach
	void clean() throws SQLException {
		this.backups.list().forEach(entry -> this.backups.delete(entry.manifest().id()));
		dropTarget();
	}

	@Test
	void aBackupRestoresIntoANewDatabaseWithEveryTableEqualToTheSource() throws Exception {
		JobExecution run = JobRuns.run(this.runner, BackupJob.DEFINITION);

		assertThat(run.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		List<Backups.Entry> listed = this.backups.list();
		assertThat(listed).hasSize(1);
		BackupManifest manifest = listed.get(0).manifest();
		assertThat(manifest.database()).isEqualTo(TestDatabase.NAME);
		assertThat(manifest.rowCounts()).containsEntry("retail.sales_transactions", 1000L)
			.containsEntry("retail.customers", count("retail.customers"));
		assertThat(manifest.storedBytes()).isLessThan(manifest.dumpBytes());
		assertThat(manifest.serverVersion()).startsWith("15");
		assertThat(ExecutionReport.of(run, false).steps().get(0).summary().get("backup").toString()).startsWith(manifest.id() + " of ");

		this.backups.restore(manifest.id(), TARGET, false);

		assertThat(checksums(TARGET)).isEqualTo(checksums(TestDatabase.NAME)).hasSizeGreaterThan(20);
		// a database that holds tables is replaced only when asked
		assertThatThrownBy(() -> this.backups.restore(manifest.id(), TARGET, false)).isInstanceOf(UsageException.class)
			.hasMessageContaining("--force");
		this.jdbc.update("DELETE FROM retail.sales_transaction_items");
		this.backups.restore(manifest.id(), TARGET, true);
		assertThat(checksums(TARGET).get("retail.sales_transaction_items")).isNotEqualTo(
				checksums(TestDatabase.NAME).get("retail.sales_transaction_items"));
	}

	@Test
	void aRestoreDrillRestoresIntoAScratchDatabaseComparesTheCountsAndDropsIt() throws Exception {
		JobRuns.run(this.runner, BackupJob.DEFINITION);
		String id = this.backups.list().get(0).manifest().id();
		assertThat(this.backups.list().get(0).verified()).isNull();

		Backups.Verified verified = this.backups.verify(id, true);

		assertThat(verified.restoreTested()).isTrue();
		assertThat(this.backups.list().get(0).verified()).isEqualTo(verified);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgbatch_verify_%'",
				Long.class)).isZero();
		assertThat(this.backups.verify(id, false).restoreTested()).isFalse();
	}

	@Test
	void aFlippedByteFailsVerifyAndRestoreWithAnAuthenticationErrorAndNothingIsRestored() throws Exception {
		JobRuns.run(this.runner, BackupJob.DEFINITION);
		BackupManifest manifest = this.backups.list().get(0).manifest();
		byte[] stored;
		try (InputStream in = this.store.get(manifest.objectKey())) {
			stored = in.readAllBytes();
		}
		stored[stored.length / 2] ^= 0x01;
		this.store.put(manifest.objectKey(), new ByteArrayInputStream(stored), stored.length);

		assertThatThrownBy(() -> this.backups.verify(manifest.id(), false)).isInstanceOf(AuthenticationFailedException.class);
		assertThatThrownBy(() -> this.backups.restore(manifest.id(), TARGET, false))
			.isInstanceOf(AuthenticationFailedException.class);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM pg_database WHERE datname = ?", Long.class, TARGET))
			.isZero();
		assertThat(this.backups.list().get(0).verified()).isNull();
	}

	@Test
	void aBackupMadeBeforeARotationRestoresAfterItAndAnotherKeysetIsRefused() throws Exception {
		JobRuns.run(this.runner, BackupJob.DEFINITION);
		String before = this.backups.list().get(0).manifest().id();
		Path saved = Files.createTempFile("pgbatch-keyset", ".json");
		Files.copy(KEYSET, saved, StandardCopyOption.REPLACE_EXISTING);
		try {
			Keyset.rotate(KEYSET);
			JobRuns.run(this.runner, BackupJob.DEFINITION);
			List<Backups.Entry> listed = this.backups.list();
			assertThat(listed).hasSize(2);
			assertThat(listed.get(0).manifest().keyId()).isNotEqualTo(listed.get(1).manifest().keyId());

			this.backups.restore(before, TARGET, false);
			assertThat(checksums(TARGET)).isEqualTo(checksums(TestDatabase.NAME));
			this.backups.verify(listed.get(0).manifest().id(), false);

			Path other = Files.createTempDirectory("pgbatch-other").resolve("keyset.json");
			Keyset.init(other);
			Files.copy(other, KEYSET, StandardCopyOption.REPLACE_EXISTING);
			assertThatThrownBy(() -> this.backups.verify(before, false)).isInstanceOf(AuthenticationFailedException.class)
				.hasMessageNotContaining("\"value\"");
		}
		finally {
			Files.copy(saved, KEYSET, StandardCopyOption.REPLACE_EXISTING);
		}
	}

	@Test
	void retentionKeepsExactlyTheChosenBackupsAndADryRunDeletesNothing() throws Exception {
		JobRuns.run(this.runner, BackupJob.DEFINITION);
		BackupManifest today = this.backups.list().get(0).manifest();
		// 2026-03-09 is the Monday of ISO week 11; f is the only verified backup
		Map<String, String> older = new TreeMap<>(Map.of("20260310T020000000Z", "2026-03-10T02:00:00Z",
				"20260310T010000000Z", "2026-03-10T01:00:00Z", "20260309T020000000Z", "2026-03-09T02:00:00Z",
				"20260303T020000000Z", "2026-03-03T02:00:00Z", "20260220T020000000Z", "2026-02-20T02:00:00Z",
				"20260105T020000000Z", "2026-01-05T02:00:00Z"));
		JsonMapper json = JsonMapper.builder().build();
		for (Map.Entry<String, String> backup : older.entrySet()) {
			BackupManifest manifest = new BackupManifest(backup.getKey(), today.database(), today.serverVersion(),
					today.pgDumpVersion(), backup.getValue(), backup.getValue(), 1, 1, 1, "0", today.keyId(),
					PREFIX + "/" + backup.getKey() + "/x", today.format(), Map.of());
			put(PREFIX + "/" + backup.getKey() + "/manifest.json", json.writeValueAsBytes(manifest));
		}
		put(PREFIX + "/20260105T020000000Z/verified.json",
				json.writeValueAsBytes(new Backups.Verified("2026-01-05T03:00:00Z", false)));
		// an upload that never got its manifest
		put(PREFIX + "/20260101T000000000Z/pgbatch.dump.zst.tink", new byte[] { 1, 2, 3 });

		JobExecution dryRun = JobRuns.run(this.runner, BackupJob.DEFINITION, "keep-last=2", "keep-daily=3",
				"keep-weekly=2", "dry-run=true");

		assertThat(dryRun.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(this.backups.list()).hasSize(8);
		String newest = this.backups.list().get(0).manifest().id();
		assertThat(ExecutionReport.of(dryRun, false).steps().get(1).summary().get("retention").toString())
			.startsWith("would delete 3 backups (20260310T010000000Z, 20260303T020000000Z, 20260220T020000000Z)");

		JobRuns.run(this.runner, BackupJob.DEFINITION, "keep-last=2", "keep-daily=3", "keep-weekly=2");

		// the run's own backup and the dry run's are the newest two; today's day and week are theirs
		assertThat(this.backups.list().stream().map(entry -> entry.manifest().id()))
			.containsExactly(this.backups.list().get(0).manifest().id(), newest, "20260310T020000000Z",
					"20260309T020000000Z", "20260105T020000000Z");
		assertThat(this.store.list(PREFIX + "/20260101T000000000Z/")).isEmpty();
		assertThat(this.store.list(PREFIX + "/20260303T020000000Z/")).isEmpty();
	}

	@Test
	void anUnknownDatabaseOrBackupIsRefusedAndAMissingKeysetUploadsNothing() throws IOException {
		assertThatThrownBy(() -> JobRuns.run(this.runner, BackupJob.DEFINITION, "database=no_such_db"))
			.isInstanceOf(UsageException.class)
			.hasMessageContaining("database 'no_such_db' does not exist");
		assertThatThrownBy(() -> this.backups.verify("20260101T000000000Z", false)).isInstanceOf(RefusedException.class)
			.hasMessageContaining("no complete backup");
		assertThatThrownBy(() -> this.backups.restore("../x", TARGET, false)).isInstanceOf(UsageException.class)
			.hasMessageContaining("not a backup id");

		Path moved = Files.createTempFile("pgbatch-keyset", ".json");
		Files.move(KEYSET, moved, StandardCopyOption.REPLACE_EXISTING);
		try {
			assertThatThrownBy(() -> JobRuns.run(this.runner, BackupJob.DEFINITION)).isInstanceOf(RefusedException.class)
				.hasMessageContaining("there is no keyset");
			assertThat(this.store.list(PREFIX + "/")).isEmpty();
		}
		finally {
			Files.move(moved, KEYSET);
		}
	}

	private void put(String key, byte[] content) {
		this.store.put(key, new ByteArrayInputStream(content), content.length);
	}

	private long count(String table) {
		return this.jdbc.queryForObject("SELECT count(*) FROM " + table, Long.class);
	}

	/** Every retail and ops table's rows, in order, as one md5 each. */
	private static Map<String, String> checksums(String database) throws SQLException {
		Map<String, String> sums = new TreeMap<>();
		try (Connection connection = TestDatabase.connect(database); Statement statement = connection.createStatement()) {
			List<String> tables = new java.util.ArrayList<>();
			try (ResultSet rs = statement.executeQuery("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables"
					+ " WHERE schemaname IN ('retail', 'ops') ORDER BY 1")) {
				while (rs.next()) {
					tables.add(rs.getString(1));
				}
			}
			for (String table : tables) {
				try (ResultSet rs = statement.executeQuery(
						"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM " + table + " t")) {
					rs.next();
					sums.put(table, rs.getString(1));
				}
			}
		}
		return sums;
	}

	private void dropTarget() throws SQLException {
		this.jdbc.execute("DROP DATABASE IF EXISTS \"" + TARGET + "\" WITH (FORCE)");
	}

}
