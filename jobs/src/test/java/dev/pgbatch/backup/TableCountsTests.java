package dev.pgbatch.backup;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;

/**
 * The manifest's counts from the rows a dump holds: an inheritance parent's count is its own rows and those of the
 * descendants the dump holds.
 */
class TableCountsTests {

	private static final DumpRowCounts.Table PARENT = new DumpRowCounts.Table("public", "p");

	private static final DumpRowCounts.Table CHILD = new DumpRowCounts.Table("public", "c");

	private static final DumpRowCounts.Table GRANDCHILD = new DumpRowCounts.Table("public", "g");

	@Test
	void aParentCountsItsOwnRowsAndEveryDescendantsOnce() throws IOException {
		List<TableCounts.Listed> tables = List.of(new TableCounts.Listed(PARENT, "public.p", descendants(CHILD, GRANDCHILD)),
				new TableCounts.Listed(CHILD, "public.c", descendants(GRANDCHILD)),
				new TableCounts.Listed(GRANDCHILD, "public.g", List.of()));

		assertThat(TableCounts.inDump(tables, Map.of(PARENT, 1L, CHILD, 20L, GRANDCHILD, 300L)))
			.isEqualTo(Map.of("public.p", 321L, "public.c", 320L, "public.g", 300L));
	}

	@Test
	void aDescendantWithoutDataFails() {
		List<TableCounts.Listed> tables = List.of(new TableCounts.Listed(PARENT, "public.p", descendants(CHILD)));

		assertThatIOException().isThrownBy(() -> TableCounts.inDump(tables, Map.of(PARENT, 1L)))
			.withMessage("the dump has no data block for \"public\".\"c\"");
	}

	@Test
	void twoListedTablesOfOneNameFail() {
		// names a database in SQL_ASCII holds, decoded alike
		List<TableCounts.Listed> tables = List.of(new TableCounts.Listed(PARENT, "public.p", List.of()),
				new TableCounts.Listed(PARENT, "public.p", List.of()));

		assertThatIOException().isThrownBy(() -> TableCounts.inDump(tables, Map.of(PARENT, 1L)))
			.withMessage("two tables go by the name \"public\".\"p\": their rows cannot be told apart");
	}

	/** Review 22 #9: a name with a line break still makes a one-line message. */
	@Test
	void aNameWithALineBreakMakesOneLine() {
		DumpRowCounts.Table broken = new DumpRowCounts.Table("public", "two\nlines");
		List<TableCounts.Listed> tables = List.of(new TableCounts.Listed(PARENT, "public.p", descendants(broken)));

		assertThatIOException().isThrownBy(() -> TableCounts.inDump(tables, Map.of(PARENT, 1L)))
			.withMessage("the dump has no data block for \"public\".\"two\\nlines\"");
	}

	private static List<TableCounts.Descendant> descendants(DumpRowCounts.Table... tables) {
		return java.util.Arrays.stream(tables)
			.map(table -> new TableCounts.Descendant(table, table.schema() + "." + table.name()))
			.toList();
	}

}
