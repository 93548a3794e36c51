package dev.pgbatch.backup;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;

/** The manifest's counts from the rows a dump holds: an inheritance parent's count is count(*)'s, its descendants' too. */
class TableCountsTests {

	private static final DumpRowCounts.Table PARENT = new DumpRowCounts.Table("public", "p");

	private static final DumpRowCounts.Table CHILD = new DumpRowCounts.Table("public", "c");

	private static final DumpRowCounts.Table GRANDCHILD = new DumpRowCounts.Table("public", "g");

	@Test
	void aParentCountsItsOwnRowsAndEveryDescendantsOnce() throws IOException {
		List<TableCounts.Listed> tables = List.of(new TableCounts.Listed(PARENT, "public.p", List.of(CHILD, GRANDCHILD), List.of()),
				new TableCounts.Listed(CHILD, "public.c", List.of(GRANDCHILD), List.of()), new TableCounts.Listed(GRANDCHILD, "public.g", List.of(), List.of()));

		assertThat(TableCounts.inDump(tables, Map.of(PARENT, 1L, CHILD, 20L, GRANDCHILD, 300L)))
			.isEqualTo(Map.of("public.p", 321L, "public.c", 320L, "public.g", 300L));
	}

	@Test
	void aDescendantWithoutDataFails() {
		List<TableCounts.Listed> tables = List.of(new TableCounts.Listed(PARENT, "public.p", List.of(CHILD), List.of()));

		assertThatIOException().isThrownBy(() -> TableCounts.inDump(tables, Map.of(PARENT, 1L)))
			.withMessage("the dump has no data block for \"public\".\"c\"");
	}

	/** Before anything is counted, naming the table, the descendant and what it is (a dump holds all its own rows). */
	@Test
	void aForeignOrExtensionsDescendantFails() {
		for (String kind : List.of(TableCounts.FOREIGN_TABLE, TableCounts.EXTENSION_TABLE.formatted("file_fdw"))) {
			List<TableCounts.Listed> tables = List.of(new TableCounts.Listed(PARENT, "public.p", List.of(GRANDCHILD),
					List.of(new TableCounts.Uncounted(CHILD, kind))));

			assertThatIOException().isThrownBy(() -> TableCounts.refuseUncounted(tables))
				.withMessage("\"public\".\"p\" cannot be backed up: its inheritance descendant \"public\".\"c\" is " + kind
						+ ", whose rows count(*) of \"public\".\"p\" reads and pg_dump does not dump (its backup would"
						+ " never verify); detach it (NO INHERIT) to back this database up");
			assertThatIOException().isThrownBy(() -> TableCounts.inDump(tables, Map.of(PARENT, 1L, GRANDCHILD, 2L)))
				.withMessageStartingWith("\"public\".\"p\" cannot be backed up: ");
		}
	}

	@Test
	void twoListedTablesOfOneNameFail() {
		// names a database in SQL_ASCII holds, decoded alike
		List<TableCounts.Listed> tables = List.of(new TableCounts.Listed(PARENT, "public.p", List.of(), List.of()),
				new TableCounts.Listed(PARENT, "public.p", List.of(), List.of()));

		assertThatIOException().isThrownBy(() -> TableCounts.inDump(tables, Map.of(PARENT, 1L)))
			.withMessage("two tables go by the name \"public\".\"p\": their rows cannot be told apart");
	}

}
