package dev.pgbatch.archive;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.crypto.TestKeysets;
import dev.pgbatch.seed.SeedDataRuns;
import dev.pgbatch.store.S3Properties;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** archive with an object store that does not answer: it fails, and every row is still in PostgreSQL. */
class ArchiveWithTheObjectStoreDownIntegrationTests extends DatabaseIntegrationTest {

	@DynamicPropertySource
	static void unreachableStore(DynamicPropertyRegistry registry) throws IOException {
		int closed;
		try (ServerSocket socket = new ServerSocket(0)) {
			closed = socket.getLocalPort();
		}
		int port = closed;
		Path keyset = TestKeysets.fresh();
		registry.add("etl.s3.endpoint", () -> "http://127.0.0.1:" + port);
		registry.add("etl.keyset.path", keyset::toString);
	}

	@Autowired
	S3Properties s3;

	@Test
	void theRunFailsTheStepIsRecordedAsFailedAndNoPartitionIsDropped() {
		this.jdbc.execute("DO $$ DECLARE p text; BEGIN FOR p IN SELECT c.oid::regclass::text FROM pg_inherits i"
				+ " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ops.task_executions'::regclass"
				+ " AND c.relname <> 'task_executions_default' LOOP EXECUTE 'DROP TABLE ' || p; END LOOP; END $$");
		assertThat(SeedDataRuns.seed(this.runner, "scale=0.2", "reset=true", "as-of=2026-06-30", "force=true").getStatus())
			.isEqualTo(BatchStatus.COMPLETED);
		this.jdbc.update("DELETE FROM ops.archive_log");
		long rows = this.jdbc.queryForObject("SELECT count(*) FROM ops.task_executions", Long.class);

		JobExecution run = JobRuns.run(this.runner, ArchiveJob.DEFINITION, "as-of=2026-06-30", "force=true", "table=ops.task_executions");

		assertThat(run.getStatus()).isEqualTo(BatchStatus.FAILED);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM ops.task_executions", Long.class)).isEqualTo(rows);
		assertThat(this.jdbc.queryForObject("SELECT to_regclass('ops.task_executions_p2024_12')", String.class))
			.isNotNull();
		assertThat(this.jdbc.queryForObject(
				"SELECT status || ': ' || error FROM ops.archive_log WHERE tier = 'cold' ORDER BY started_at LIMIT 1",
				String.class)).startsWith("failed: ").doesNotContain(this.s3.secretKey());
	}

}
