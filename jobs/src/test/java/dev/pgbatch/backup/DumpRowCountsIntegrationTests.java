package dev.pgbatch.backup;

import java.io.InputStream;
import java.io.OutputStream;
import java.sql.Connection;
import java.util.List;
import java.util.Map;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.seed.SeedDataRuns;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/** The rows pg_dump's archive holds, counted as it streams, against count(*) of every table in the same database. */
class DumpRowCountsIntegrationTests extends DatabaseIntegrationTest {

	@Autowired
	PostgresTools tools;

	@Test
	void theRowsCountedInTheDumpAreCountOfEveryTable() throws Exception {
		assertThat(SeedDataRuns.seed(this.runner, "scale=0.2", "reset=true").getStatus()).isEqualTo(BatchStatus.COMPLETED);
		this.jdbc.execute("""
				CREATE TABLE public.empty ();
				CREATE TABLE public.escapes (note text, raw bytea, embedding vector(3));
				INSERT INTO public.escapes VALUES (E'two\\nlines', '\\x000a0d5c', '[1,2,3]'), (E'back\\\\slash\\tand tab', NULL, NULL),
				  (E'\\\\.', '\\x', '[0,0,0]'), (E'\\r\\n\\\\N', '\\x5c2e0a', '[-1.5,2,3e10]');
				CREATE TABLE public.measures (at date NOT NULL, v int) PARTITION BY RANGE (at);
				CREATE TABLE public.measures_2026_01 PARTITION OF public.measures FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
				CREATE TABLE public.measures_2026_02 PARTITION OF public.measures FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
				INSERT INTO public.measures SELECT DATE '2026-01-01' + i % 59, i FROM generate_series(1, 100000) i;
				CREATE SCHEMA "Odd schema";
				CREATE TABLE "Odd schema"."Table \"\"quoted\"\"\" (x text);
				INSERT INTO "Odd schema"."Table \"\"quoted\"\"\" VALUES ('a'), (''), (NULL);
				SELECT lo_from_bytea(0, '\\x00010203');
				CREATE TABLE public.animals (name text);
				CREATE TABLE public.cats (lives int) INHERITS (public.animals);
				CREATE TABLE public.lions () INHERITS (public.cats);
				CREATE TABLE public.pets (owner text);
				CREATE TABLE public.dogs () INHERITS (public.animals, public.pets);
				INSERT INTO public.animals VALUES ('ant');
				INSERT INTO public.cats VALUES ('tom', 9), ('felix', 7);
				INSERT INTO public.lions VALUES ('leo', 1), ('elsa', 1), ('simba', 1);
				INSERT INTO public.dogs VALUES ('rex', 'ann');
				""");

		// another session's temporary child: pg_dump leaves it out, and count(*) in this session does not read it
		try (Connection connection = TestDatabase.connect(); Connection other = TestDatabase.connect()) {
			other.createStatement().execute("CREATE TEMP TABLE kittens () INHERITS (public.cats); INSERT INTO kittens VALUES ('tiny', 9)");
			PostgresTools.Running dump = this.tools.start("pg_dump", PostgresTools.serverMajor(connection), TestDatabase.name(),
					List.of("--format=custom", "--compress=0", "--no-password"));
			Map<DumpRowCounts.Table, Long> dumped;
			try (InputStream out = dump.process().getInputStream()) {
				dumped = DumpRowCounts.copy(out, OutputStream.nullOutputStream());
			}
			dump.finish();
			Map<String, Long> counted = TableCounts.of(connection, null);

			assertThat(TableCounts.inDump(TableCounts.tables(connection, null), dumped)).isEqualTo(counted);
			assertThat(counted).containsEntry("public.empty", 0L)
				.containsEntry("public.escapes", 4L)
				.containsEntry("public.measures_2026_02", 47456L)
				.containsEntry("\"Odd schema\".\"Table \"\"quoted\"\"\"", 3L)
				// count(*) of an inheritance parent holds its descendants' rows, a child of two parents in both
				.containsEntry("public.animals", 7L)
				.containsEntry("public.cats", 5L)
				.containsEntry("public.lions", 3L)
				.containsEntry("public.pets", 1L)
				.containsEntry("retail.product_embeddings", this.jdbc.queryForObject("SELECT count(*) FROM retail.product_embeddings", Long.class));
			assertThat(counted.values().stream().mapToLong(Long::longValue).sum()).isGreaterThan(100000L);
		}
	}

}
