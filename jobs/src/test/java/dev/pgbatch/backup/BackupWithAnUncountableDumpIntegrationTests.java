package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.StackSuperuser;
import dev.pgbatch.TestDatabase;
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

	/**
	 * A plain table with a foreign-table descendant (file_fdw's, made as the stack's superuser: the runner's role may
	 * not), whose rows count(*) of the table reads and pg_dump does not dump, then one with a descendant that belongs to
	 * an extension: each backup fails naming the table and the descendant, before anything is written to the store.
	 */
	@Test
	void aTableWithAForeignOrAnExtensionsDescendantFailsTheBackupBeforeAnythingIsStored() throws Exception {
		String runnersRole = this.jdbc.queryForObject("SELECT current_user", String.class);
		this.jdbc.execute("CREATE TABLE public.animals (name text); INSERT INTO public.animals VALUES ('ant')");
		try {
			StackSuperuser.execute(TestDatabase.name(), """
					CREATE EXTENSION file_fdw;
					CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
					CREATE FOREIGN TABLE public.remote_animals () INHERITS (public.animals) SERVER files
					  OPTIONS (program 'seq 3');
					GRANT SELECT ON public.remote_animals TO %s;
					""".formatted(runnersRole));
			// what a restore's count would read, and the dump would not hold
			assertThat(this.jdbc.queryForObject("SELECT count(*) FROM public.animals", Long.class)).isEqualTo(4L);
			assertRefusedBeforeAnythingIsStored("\"public\".\"remote_animals\"", TableCounts.FOREIGN_TABLE);

			StackSuperuser.execute(TestDatabase.name(), """
					DROP FOREIGN TABLE public.remote_animals;
					CREATE TABLE public.member_animals () INHERITS (public.animals);
					ALTER EXTENSION file_fdw ADD TABLE public.member_animals;
					""");
			assertRefusedBeforeAnythingIsStored("\"public\".\"member_animals\"",
					TableCounts.EXTENSION_TABLE.formatted("file_fdw"));
		}
		finally {
			// the extension's table goes with it
			StackSuperuser.execute(TestDatabase.name(), "DROP EXTENSION IF EXISTS file_fdw CASCADE; DROP TABLE public.animals");
		}
	}

	private void assertRefusedBeforeAnythingIsStored(String descendant, String kind) throws IOException {
		List<String> before = this.store.list(PREFIX + "/").stream().map(object -> object.key()).toList();

		JobExecution run = JobRuns.run(this.runner, BackupJob.DEFINITION);

		assertThat(run.getStatus()).isEqualTo(BatchStatus.FAILED);
		assertThat(ExecutionReport.of(run, false).exitDescription())
			.contains(TableCounts.UNCOUNTED_DESCENDANT.formatted("\"public\".\"animals\"", descendant, kind));
		assertThat(this.store.list(PREFIX + "/").stream().map(object -> object.key()).toList()).isEqualTo(before);
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
