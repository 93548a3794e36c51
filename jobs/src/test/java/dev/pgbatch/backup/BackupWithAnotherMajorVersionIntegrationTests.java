package dev.pgbatch.backup;

import java.io.IOException;
import java.util.UUID;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.store.ObjectStore;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** ETL_PG_BIN naming the tools of another major version than the server's (a pg_dump that says it is 14). */
class BackupWithAnotherMajorVersionIntegrationTests extends DatabaseIntegrationTest {

	private static final String PREFIX = "test-backup-" + UUID.randomUUID();

	@DynamicPropertySource
	static void oldTools(DynamicPropertyRegistry registry) throws IOException {
		StandInPgDump.register(registry, PREFIX, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 14.12'\n");
	}

	@Autowired
	ObjectStore store;

	@Test
	void aPgDumpOfAnotherMajorVersionIsAClearErrorAndNothingIsUploaded() {
		JobExecution run = JobRuns.run(this.runner, BackupJob.DEFINITION);

		assertThat(run.getStatus()).isEqualTo(BatchStatus.FAILED);
		assertThat(ExecutionReport.of(run, false).exitDescription())
			.contains("pg_dump is version 14 but the server is 15: use the 15 tools (set ETL_PG_BIN");
		assertThat(this.store.list(PREFIX + "/")).isEmpty();
	}

}
