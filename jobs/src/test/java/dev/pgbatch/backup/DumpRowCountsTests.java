package dev.pgbatch.backup;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;

/**
 * Row counts read from pg_dump 15's own archives (rows.dump: pg_dump -Fc --compress=0 of a database with rows of
 * newlines, backslashes, tabs, a "\." value, bytea and vector columns, an empty table, a partitioned table, a quoted
 * schema and table name, and a large object; rows-compressed.dump: the same with --compress=1).
 */
class DumpRowCountsTests {

	private static final Map<DumpRowCounts.Table, Long> ROWS = Map.of(
			new DumpRowCounts.Table("public", "plain"), 4L,
			new DumpRowCounts.Table("public", "empty"), 0L,
			new DumpRowCounts.Table("public", "measures_2026_01"), 526L,
			new DumpRowCounts.Table("public", "measures_2026_02"), 474L,
			new DumpRowCounts.Table("Odd schema", "Table \"quoted\""), 3L);

	@Test
	void countsTheRowsOfEveryTableAndCopiesTheArchiveUnchanged() throws IOException {
		byte[] dump = resource("rows.dump");
		ByteArrayOutputStream copied = new ByteArrayOutputStream();

		assertThat(DumpRowCounts.copy(new ByteArrayInputStream(dump), copied)).isEqualTo(ROWS);
		assertThat(copied.toByteArray()).isEqualTo(dump);
	}

	@Test
	void readsAnArchiveThatArrivesAByteAtATime() throws IOException {
		byte[] dump = resource("rows.dump");
		InputStream trickling = new ByteArrayInputStream(dump) {

			@Override
			public synchronized int read(byte[] buffer, int offset, int length) {
				return super.read(buffer, offset, Math.min(length, 1));
			}

		};

		assertThat(DumpRowCounts.copy(trickling, new ByteArrayOutputStream())).isEqualTo(ROWS);
	}

	@Test
	void anArchiveCutAnywhereFails() throws IOException {
		byte[] dump = resource("rows.dump");
		// every length within the header and the last blocks, every 13th between (each cut is a parse)
		for (int length = 0; length < dump.length; length += (length < 200 || length > dump.length - 200) ? 1 : 13) {
			byte[] cut = Arrays.copyOf(dump, length);

			assertThatIOException().as("cut at %d", length)
				.isThrownBy(() -> DumpRowCounts.copy(new ByteArrayInputStream(cut), new ByteArrayOutputStream()));
		}
	}

	@Test
	void aCompressedArchiveFails() throws IOException {
		assertThatIOException().isThrownBy(() -> count(resource("rows-compressed.dump")))
			.withMessage(DumpRowCounts.COMPRESSED);
	}

	@Test
	void anotherArchiveVersionFails() throws IOException {
		for (int minor : new int[] { 13, 17 }) {
			byte[] dump = resource("rows.dump");
			dump[6] = (byte) minor;

			assertThatIOException().isThrownBy(() -> count(dump))
				.withMessage("the dump's archive version 1.%d is not one this runner can count the rows of (1.14 to 1.16)", minor);
		}
	}

	@Test
	void whatIsNotACustomArchiveFails() throws IOException {
		byte[] plain = "--\n-- PostgreSQL database dump\n--\n".getBytes(StandardCharsets.US_ASCII);
		byte[] directoryFormat = resource("rows.dump");
		directoryFormat[10] = 3;

		assertThatIOException().isThrownBy(() -> count(plain)).withMessage(DumpRowCounts.NOT_AN_ARCHIVE);
		assertThatIOException().isThrownBy(() -> count(directoryFormat)).withMessage(DumpRowCounts.NOT_AN_ARCHIVE);
	}

	@Test
	void aDataBlockForADumpIdWithoutDataFails() throws IOException {
		byte[] dump = resource("rows.dump");
		// the block of "Odd schema"."Table ""quoted""": its type, its dump id, then its first chunk's length and row
		int id = indexOf(dump, "\0\2\0\0\0a\n") - 4;
		dump[id] = 1;
		dump[id + 1] = 0;

		assertThatIOException().isThrownBy(() -> count(dump))
			.withMessage("the dump has a data block of type 1 for dump id 1, which its table of contents has no data for");
	}

	@Test
	void dataThatDoesNotEndAsCopyTextFails() throws IOException {
		byte[] dump = resource("rows.dump");
		dump[indexOf(dump, "\\.\n\n\n")] = 'x';

		assertThatIOException().isThrownBy(() -> count(dump))
			.withMessage("the dump's data of \"Odd schema\".\"Table \"\"quoted\"\"\" does not end as COPY text does");
	}

	@Test
	void twoTablesOfOneNameFail() throws IOException {
		byte[] dump = resource("rows.dump");
		// every string "measures_2026_02" (16 bytes) of the table of contents, the tag of its TABLE DATA among them
		byte[] second = "\0\20\0\0\0measures_2026_02".getBytes(StandardCharsets.US_ASCII);
		for (int at = indexOf(dump, "\0\20\0\0\0measures_2026_02"); at >= 0; at = find(dump, second)) {
			dump[at + second.length - 1] = '1';
		}

		assertThatIOException().isThrownBy(() -> count(dump))
			.withMessage("two tables go by the name \"public\".\"measures_2026_01\": their rows cannot be told apart");
	}

	@Test
	void aNameLongerThanPgDumpWritesFailsBeforeItIsRead() throws IOException {
		byte[] dump = resource("rows.dump");
		// the first string "Odd schema" (10 bytes) of the table of contents, said to be 64 KB and a byte long
		int length = indexOf(dump, "\0\12\0\0\0Odd schema") + 1;
		dump[length] = 1;
		dump[length + 1] = 0;
		dump[length + 2] = 1;

		assertThatIOException().isThrownBy(() -> count(dump))
			.withMessage("the dump's table of contents has a name of 65537 bytes, more than pg_dump writes");
	}

	private static Map<DumpRowCounts.Table, Long> count(byte[] dump) throws IOException {
		return DumpRowCounts.copy(new ByteArrayInputStream(dump), new ByteArrayOutputStream());
	}

	private static int indexOf(byte[] bytes, String text) {
		int at = find(bytes, text.getBytes(StandardCharsets.US_ASCII));
		if (at < 0) {
			throw new AssertionError("not in the dump: " + text);
		}
		return at;
	}

	private static int find(byte[] bytes, byte[] wanted) {
		for (int i = 0; i + wanted.length <= bytes.length; i++) {
			if (Arrays.equals(bytes, i, i + wanted.length, wanted, 0, wanted.length)) {
				return i;
			}
		}
		return -1;
	}

	private static byte[] resource(String name) throws IOException {
		try (InputStream in = DumpRowCountsTests.class.getResourceAsStream(name)) {
			return in.readAllBytes();
		}
	}

}
