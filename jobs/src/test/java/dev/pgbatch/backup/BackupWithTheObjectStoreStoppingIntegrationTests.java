package dev.pgbatch.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.UUID;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.crypto.TestKeysets;
import dev.pgbatch.seed.SeedDataRuns;
import dev.pgbatch.store.CuttingProxy;
import dev.pgbatch.store.S3Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** backup while the object store stops in the middle of the upload (a relay in front of the real one cuts it). */
class BackupWithTheObjectStoreStoppingIntegrationTests extends DatabaseIntegrationTest {

	private static final CuttingProxy STORE = proxy();

	private static final String PREFIX = "test-backup-" + UUID.randomUUID();

	@DynamicPropertySource
	static void throughTheProxy(DynamicPropertyRegistry registry) throws IOException {
		Path keyset = TestKeysets.fresh();
		registry.add("etl.keyset.path", keyset::toString);
		registry.add("etl.backup.prefix", () -> PREFIX);
		registry.add("etl.s3.endpoint", () -> "http://127.0.0.1:" + STORE.port());
	}

	@Autowired
	BackupCatalog catalog;

	@Autowired
	S3Properties s3;

	@AfterAll
	static void close() throws IOException {
		STORE.close();
	}

	@Test
	void theRunFailsCleanlyNoPartialBackupIsListedAndTheNextRunSucceeds() {
		assertThat(SeedDataRuns.seed(this.runner, "scale=0.2", "reset=true").getStatus()).isEqualTo(BatchStatus.COMPLETED);
		this.catalog.list();
		STORE.stopAfter(200_000);

		JobExecution failed = JobRuns.run(this.runner, BackupJob.DEFINITION);

		assertThat(STORE.stopped()).isTrue();
		assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
		assertThat(ExecutionReport.of(failed, false).exitDescription()).startsWith("dump: ")
			.doesNotContain(this.s3.secretKey());
		STORE.resume();
		assertThat(this.catalog.list()).isEmpty();

		JobExecution next = JobRuns.run(this.runner, BackupJob.DEFINITION);

		assertThat(next.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(this.catalog.list()).hasSize(1);
		this.catalog.list().forEach(entry -> this.catalog.delete(entry.manifest().id()));
	}

	private static CuttingProxy proxy() {
		URI endpoint = URI.create(System.getenv().getOrDefault("ETL_S3_ENDPOINT", "http://127.0.0.1:9900"));
		try {
			return new CuttingProxy(endpoint.getPort());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
