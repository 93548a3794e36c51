package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

/**
 * A backup whose dump's rows cannot be counted fails and writes no manifest: ETL_PG_BIN names a pg_dump that runs the
 * real one and compresses its archive, cuts its last byte off (and exits 0 all the same), or leaves a table's data out.
 */
class BackupWithAnUncountableDumpIntegrationTests extends DatabaseIntegrationTest {

	private static final String PREFIX = "test-backup-" + UUID.randomUUID();

	private static Path bin;

	@DynamicPropertySource
	static void wrappedTools(DynamicPropertyRegistry registry) throws IOException {
		bin = StandInPgDump.register(registry, PREFIX, """
				#!/bin/sh
				real=/usr/lib/postgresql/15/bin/pg_dump
				case "$(cat "$(dirname "$0")/mode")" in
				  compressed) exec "$real" "$@" --compress=1 ;;
				  cut) "$real" "$@" | head -c -1; exit 0 ;;
				  without) exec "$real" "$@" --exclude-table-data=retail.stores ;;
				esac
				""");
	}

	@Autowired
	ObjectStore store;

	@Test
	void aCompressedDumpFailsTheBackupWithoutAManifest() throws IOException {
		assertFailsWithoutAManifest("compressed", DumpRowCounts.COMPRESSED);
	}

	@Test
	void aDumpCutShortFailsTheBackupWithoutAManifest() throws IOException {
		// the last byte is one of the last table's end of data
		assertFailsWithoutAManifest("cut", String.format(DumpRowCounts.CUT, "data of "));
	}

	@Test
	void aDumpWithoutTheDataOfATableFailsTheBackupWithoutAManifestOrADump() throws IOException {
		assertFailsWithoutAManifest("without", String.format(DumpRowCounts.MISSING_DATA, "\"retail\".\"stores\""));
	}

	/** Nor a dump: its upload is abandoned, not finished, when the rows cannot be counted. */
	private void assertFailsWithoutAManifest(String mode, String failure) throws IOException {
		Files.writeString(bin.resolve("mode"), mode);

		JobExecution run = JobRuns.run(this.runner, BackupJob.DEFINITION);

		assertThat(run.getStatus()).isEqualTo(BatchStatus.FAILED);
		assertThat(ExecutionReport.of(run, false).exitDescription()).contains(failure);
		assertThat(this.store.list(PREFIX + "/")).isNotEmpty()
			.noneMatch(object -> object.key().endsWith("manifest.json") || object.key().endsWith(".dump.zst.tink"));
	}

}
