package dev.pgbatch.backup;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Every table's row count read from a pg_dump custom-format archive without compression while the archive is
 * copied on (pg_dump's src/bin/pg_dump/pg_backup_archiver.c and pg_backup_custom.c): the header, the table of
 * contents, then per dumped table a data block (a type byte, the entry's dump id, length-prefixed chunks of
 * COPY text ending in a zero length). COPY text escapes newlines within values, so a table's rows are the
 * lines before its {@code \.} end line. Anything else than what these sources write fails the copy: the counts
 * go into the manifest that verify and restore compare exactly, so a count that cannot be trusted must stop the
 * backup, never be written.
 */
final class DumpRowCounts {

	static final String NOT_AN_ARCHIVE = "the dump is not a pg_dump custom-format archive";

	static final String UNSUPPORTED = "the dump's archive version %d.%d is not one this runner can count the rows of (1.14 to 1.16)";

	static final String COMPRESSED = "the dump is compressed: its rows cannot be counted";

	static final String CUT = "the dump ended within its %s";

	static final String UNKNOWN_BLOCK = "the dump has a data block of type %d for dump id %d, which its table of contents has no data for";

	static final String UNKNOWN_DATA = "the dump's table of contents has data of a kind this runner does not know: %s";

	static final String NOT_COPY_TEXT = "the dump's data of %s does not end as COPY text does";

	static final String MISSING_DATA = "the dump has no data block for %s";

	static final String SAME_NAME = "two tables go by the name %s: their rows cannot be told apart";

	static final String TOO_LONG = "the dump's table of contents has a name of %d bytes, more than pg_dump writes";

	private static final byte[] MAGIC = "PGDMP".getBytes(StandardCharsets.US_ASCII);

	private static final int CUSTOM_FORMAT = 1;

	private static final int BLOCK_DATA = 1;

	private static final int BLOCK_BLOBS = 3;

	/** How COPY text ends in pg_dump's data: the end-of-data line, then two empty lines. */
	private static final byte[] COPY_END = "\\.\n\n\n".getBytes(StandardCharsets.US_ASCII);

	private static final int BUFFER_BYTES = 1 << 16;

	/** The longest name or tag read: pg_dump's are identifiers and short keywords, far below. */
	private static final int STRING_BYTES = 1 << 16;

	/** A table whose rows a dump holds, as its table of contents names it. */
	record Table(String schema, String name) {

		/** Quoted as SQL quotes names, whatever they hold. */
		@Override
		public String toString() {
			return quoted(this.schema) + "." + quoted(this.name);
		}

		private static String quoted(String name) {
			return '"' + name.replace("\"", "\"\"") + '"';
		}

	}

	private final InputStream in;

	private final OutputStream out;

	private final byte[] buffer = new byte[BUFFER_BYTES];

	private int position;

	private int limit;

	private int minor;

	private int intSize;

	private int offsetSize;

	private DumpRowCounts(InputStream in, OutputStream out) {
		this.in = in;
		this.out = out;
	}

	/**
	 * Copies the archive from {@code in} to {@code out}, all of it, and returns the rows of every table it holds
	 * the data of; fails on anything it cannot vouch for.
	 */
	static Map<Table, Long> copy(InputStream in, OutputStream out) throws IOException {
		return new DumpRowCounts(in, out).read();
	}

	private Map<Table, Long> read() throws IOException {
		header();
		Map<Integer, Entry> withData = tableOfContents();
		Map<Table, Long> rows = new HashMap<>();
		int type;
		while ((type = nextByteOrEnd()) >= 0) {
			int id = (int) readInt("data block");
			Entry entry = withData.remove(id);
			if (type == BLOCK_DATA && entry != null && entry.table() != null) {
				// names decoded alike (a database in SQL_ASCII) would count one table's rows as another's
				if (rows.put(entry.table(), rowsOf(entry.table())) != null) {
					throw new IOException(String.format(SAME_NAME, entry.table()));
				}
			}
			else if (type == BLOCK_BLOBS && entry != null && entry.table() == null) {
				skipBlobs();
			}
			else {
				throw new IOException(String.format(UNKNOWN_BLOCK, type, id));
			}
		}
		if (!withData.isEmpty()) {
			Table table = withData.values().iterator().next().table();
			throw new IOException(String.format(MISSING_DATA, table != null ? table : "the large objects"));
		}
		return rows;
	}

	/** A table of contents entry with data: a table's (TABLE DATA) or the large objects' (BLOBS). */
	private record Entry(Table table) {
	}

	private void header() throws IOException {
		for (byte expected : MAGIC) {
			if (readByte("header") != expected) {
				throw new IOException(NOT_AN_ARCHIVE);
			}
		}
		int major = readByte("header");
		this.minor = readByte("header");
		readByte("header");
		if (major != 1 || this.minor < 14 || this.minor > 16) {
			throw new IOException(String.format(UNSUPPORTED, major, this.minor));
		}
		this.intSize = readByte("header");
		this.offsetSize = readByte("header");
		if (this.intSize < 1 || this.intSize > 8 || this.offsetSize < 1 || this.offsetSize > 8) {
			throw new IOException(NOT_AN_ARCHIVE);
		}
		if (readByte("header") != CUSTOM_FORMAT) {
			throw new IOException(NOT_AN_ARCHIVE);
		}
		// 1.15 (PostgreSQL 16) names the compression algorithm in a byte, before that the level in an int
		long compression = this.minor >= 15 ? readByte("header") : readInt("header");
		if (compression != 0) {
			throw new IOException(COMPRESSED);
		}
		for (int field = 0; field < 7; field++) {
			readInt("header"); // the time the dump started
		}
		for (int field = 0; field < 3; field++) {
			skipString("header"); // database name, server version, pg_dump version
		}
	}

	private Map<Integer, Entry> tableOfContents() throws IOException {
		long count = readInt("table of contents");
		Map<Integer, Entry> withData = new HashMap<>();
		for (long i = 0; i < count; i++) {
			int id = (int) readInt("table of contents");
			boolean hasData = readInt("table of contents") != 0;
			skipString("table of contents"); // catalogue table oid
			skipString("table of contents"); // oid
			String tag = readString();
			String description = readString();
			readInt("table of contents"); // section
			skipString("table of contents"); // definition
			skipString("table of contents"); // drop statement
			skipString("table of contents"); // copy statement
			String namespace = readString();
			skipString("table of contents"); // tablespace
			skipString("table of contents"); // table access method
			if (this.minor >= 16) {
				readInt("table of contents"); // relkind
			}
			skipString("table of contents"); // owner
			skipString("table of contents"); // "false": with oids
			while (readString() != null) {
				// the entry's dependencies, up to a null
			}
			readByte("table of contents"); // the data's offset: its state, then the offset
			skip(this.offsetSize);
			if (hasData) {
				if ("TABLE DATA".equals(description)) {
					withData.put(id, new Entry(new Table(namespace, tag)));
				}
				else if ("BLOBS".equals(description)) {
					withData.put(id, new Entry(null));
				}
				else {
					throw new IOException(String.format(UNKNOWN_DATA, description));
				}
			}
		}
		return withData;
	}

	/** A table's data block after its id: counts the lines of its COPY text, and checks how it ends. */
	private long rowsOf(Table table) throws IOException {
		long newlines = 0;
		long bytes = 0;
		byte[] tail = new byte[COPY_END.length + 1];
		long length;
		while ((length = readInt("data of " + table)) != 0) {
			if (length < 0) {
				throw new IOException(String.format(NOT_COPY_TEXT, table));
			}
			bytes += length;
			while (length > 0) {
				if (this.position == this.limit && !fill()) {
					throw new IOException(String.format(CUT, "data of " + table));
				}
				int n = (int) Math.min(length, this.limit - this.position);
				newlines += newlines(this.buffer, this.position, n);
				keepTail(tail, this.buffer, this.position, n);
				this.position += n;
				length -= n;
			}
		}
		// the rows' lines, the end line and two empty lines; nothing but a line's end before the end line
		boolean endsAsCopy = bytes >= COPY_END.length
				&& Arrays.equals(tail, 1, tail.length, COPY_END, 0, COPY_END.length)
				&& (bytes == COPY_END.length || tail[0] == '\n');
		if (!endsAsCopy) {
			throw new IOException(String.format(NOT_COPY_TEXT, table));
		}
		return newlines - 3;
	}

	private static long newlines(byte[] bytes, int from, int count) {
		long found = 0;
		for (int i = from, end = from + count; i < end; i++) {
			if (bytes[i] == '\n') {
				found++;
			}
		}
		return found;
	}

	/** Shifts the last bytes of a chunk into {@code tail} (its last tail.length bytes of data so far). */
	private static void keepTail(byte[] tail, byte[] bytes, int from, int count) {
		int kept = Math.min(count, tail.length);
		System.arraycopy(tail, kept, tail, 0, tail.length - kept);
		System.arraycopy(bytes, from + count - kept, tail, tail.length - kept, kept);
	}

	/** The large objects' block after its id: per object its oid and chunks, up to an oid of 0. */
	private void skipBlobs() throws IOException {
		while (readInt("large objects") != 0) {
			long length;
			while ((length = readInt("large objects")) != 0) {
				if (length < 0) {
					throw new IOException(NOT_AN_ARCHIVE);
				}
				skip(length);
			}
		}
	}

	/** Refills the buffer, after copying what it held on: false at the archive's end. */
	private boolean fill() throws IOException {
		int n = this.in.read(this.buffer, 0, this.buffer.length);
		while (n == 0) {
			n = this.in.read(this.buffer, 0, this.buffer.length);
		}
		if (n < 0) {
			return false;
		}
		this.out.write(this.buffer, 0, n);
		this.position = 0;
		this.limit = n;
		return true;
	}

	private int nextByteOrEnd() throws IOException {
		if (this.position == this.limit && !fill()) {
			return -1;
		}
		return this.buffer[this.position++] & 0xff;
	}

	private int readByte(String part) throws IOException {
		int b = nextByteOrEnd();
		if (b < 0) {
			throw new EOFException(String.format(CUT, part));
		}
		return b;
	}

	/** pg_dump's integer: a sign byte, then intSize bytes, least significant first. */
	private long readInt(String part) throws IOException {
		boolean negative = readByte(part) != 0;
		long value = 0;
		for (int i = 0; i < this.intSize; i++) {
			value |= (long) readByte(part) << (8 * i);
		}
		return negative ? -value : value;
	}

	/**
	 * pg_dump's string: its length as an integer (-1 for null), then its bytes; UTF-8, as BackupWriter has
	 * pg_dump write them.
	 */
	private String readString() throws IOException {
		long length = readInt("table of contents");
		if (length < 0) {
			return null;
		}
		if (length > STRING_BYTES) {
			throw new IOException(String.format(TOO_LONG, length));
		}
		byte[] text = new byte[Math.toIntExact(length)];
		for (int i = 0; i < text.length; i++) {
			text[i] = (byte) readByte("table of contents");
		}
		return new String(text, StandardCharsets.UTF_8);
	}

	private void skipString(String part) throws IOException {
		long length = readInt(part);
		if (length > 0) {
			skip(length);
		}
	}

	private void skip(long count) throws IOException {
		long left = count;
		while (left > 0) {
			if (this.position == this.limit && !fill()) {
				throw new EOFException(String.format(CUT, "archive"));
			}
			int n = (int) Math.min(left, this.limit - this.position);
			this.position += n;
			left -= n;
		}
	}

}
