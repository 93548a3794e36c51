package dev.pgbatch.seed;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import org.postgresql.copy.CopyIn;

/**
 * Rows in PostgreSQL's binary COPY format ({@code COPY ... FROM STDIN (FORMAT binary)}), written into a
 * growing byte array: PostgreSQL takes each value as it is stored instead of parsing text (a third less
 * COPY time for the transaction items). Binary input is strict, so every method writes exactly the
 * representation of one column type; a value sent for a column of another type is refused, not converted.
 * Each row's field count is filled in when the row ends.
 */
final class BinaryCopy {

	/** "PGCOPY\n\377\r\n\0", then no flags and no header extension. */
	private static final byte[] HEADER = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0, 0, 0, 0, 0,
			0, 0, 0, 0 };

	/** PostgreSQL's epoch, 2000-01-01 UTC, which dates and timestamps count from. */
	private static final long PG_EPOCH_SECOND = 946_684_800L;

	private static final long PG_EPOCH_DAY = LocalDate.of(2000, 1, 1).toEpochDay();

	private static final int NUMERIC_POSITIVE = 0x0000;

	private static final int NUMERIC_NEGATIVE = 0x4000;

	/** pg_type oid of text: the element type of a text[] column, which binary input checks. */
	private static final int TEXT_OID = 25;

	private static final int JSONB_VERSION = 1;

	static final String ROW_NOT_ENDED = "a row is being written: end it before sending the buffer";

	private byte[] buffer = new byte[1 << 17];

	private int length;

	/** Where the current row's field count goes, or -1 between rows. */
	private int rowStart = -1;

	private int fields;

	/** numeric's base-10000 digits, least significant first (a long has at most 5). */
	private final short[] numericDigits = new short[5];

	BinaryCopy() {
		bytes(HEADER, HEADER.length);
	}

	/** The COPY statement for rows of this format, into a table with its column list. */
	static String statement(String target) {
		return "COPY " + target + " FROM STDIN (FORMAT binary)";
	}

	/** text or varchar; null is SQL null. */
	BinaryCopy text(String value) {
		if (value == null) {
			return nul();
		}
		field();
		int start = reserveLength();
		int chars = value.length();
		ensure(chars);
		for (int i = 0; i < chars; i++) {
			char c = value.charAt(i);
			if (c >= 0x80) {
				// Rare here (names are ASCII): let the JDK encode the whole value instead.
				this.length = start + 4;
				byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
				bytes(utf8, utf8.length);
				break;
			}
			this.buffer[this.length++] = (byte) c;
		}
		fillLength(start);
		return this;
	}

	/** jsonb: a version byte, then the JSON text. */
	BinaryCopy jsonb(String json) {
		field();
		int start = reserveLength();
		ensure(1);
		this.buffer[this.length++] = JSONB_VERSION;
		byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
		bytes(utf8, utf8.length);
		fillLength(start);
		return this;
	}

	/** A one-dimensional text[] of non-null elements. */
	BinaryCopy textArray(List<String> values) {
		field();
		int start = reserveLength();
		boolean empty = values.isEmpty();
		int32(empty ? 0 : 1);
		int32(0);
		int32(TEXT_OID);
		if (!empty) {
			int32(values.size());
			int32(1);
		}
		for (String value : values) {
			byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
			int32(utf8.length);
			bytes(utf8, utf8.length);
		}
		fillLength(start);
		return this;
	}

	BinaryCopy uuid(UUID value) {
		field();
		int32(16);
		bigEndian(value.getMostSignificantBits(), 8);
		bigEndian(value.getLeastSignificantBits(), 8);
		return this;
	}

	/** integer (int4). */
	BinaryCopy int4(int value) {
		field();
		int32(4);
		int32(value);
		return this;
	}

	/** A numeric with two places, from a whole number of hundredths (cents). */
	BinaryCopy cents(long hundredths) {
		return numeric(hundredths, 2);
	}

	/** A numeric with three places, from a whole number of thousandths. */
	BinaryCopy thousandths(long thousandths) {
		return numeric(thousandths, 3);
	}

	BinaryCopy bool(boolean value) {
		field();
		int32(1);
		ensure(1);
		this.buffer[this.length++] = (byte) (value ? 1 : 0);
		return this;
	}

	BinaryCopy nul() {
		field();
		int32(-1);
		return this;
	}

	/** timestamptz: microseconds since 2000-01-01 UTC. */
	BinaryCopy timestamp(long epochSecond) {
		field();
		int32(8);
		bigEndian((epochSecond - PG_EPOCH_SECOND) * 1_000_000L, 8);
		return this;
	}

	/** date: days since 2000-01-01. */
	BinaryCopy date(LocalDate date) {
		field();
		int32(4);
		int32((int) (date.toEpochDay() - PG_EPOCH_DAY));
		return this;
	}

	void endRow() {
		putShort(this.rowStart, this.fields);
		this.rowStart = -1;
	}

	/** Ends the data: the trailer that COPY expects after the last row. */
	void end() {
		ensure(2);
		putShort(this.length, -1);
		this.length += 2;
	}

	int length() {
		return this.length;
	}

	/** Sends what is buffered to a COPY in progress and empties the buffer; only between rows. */
	void sendTo(CopyIn copy) throws SQLException {
		if (this.rowStart >= 0) {
			throw new IllegalStateException(ROW_NOT_ENDED);
		}
		copy.writeToCopy(this.buffer, 0, this.length);
		this.length = 0;
	}

	/**
	 * numeric's binary form: base-10000 digits, most significant first, without leading or trailing zero
	 * digits; weight is the power of 10000 of the first digit, dscale the decimal places shown.
	 */
	private BinaryCopy numeric(long unscaled, int scale) {
		field();
		int sign = unscaled < 0 ? NUMERIC_NEGATIVE : NUMERIC_POSITIVE;
		// In ten-thousandths, the fraction is exactly one base-10000 digit (scale is at most 4).
		long value = Math.abs(unscaled) * (scale == 2 ? 100 : 10);
		short[] digits = this.numericDigits;
		int count = 0;
		for (; value != 0; value /= 10_000) {
			digits[count++] = (short) (value % 10_000);
		}
		// digits[0] is the fraction, so the first digit's weight is count - 2; trailing zero digits go.
		int lowest = 0;
		while (lowest < count && digits[lowest] == 0) {
			lowest++;
		}
		int ndigits = count - lowest;
		int weight = (ndigits == 0) ? 0 : count - 2;
		int32(8 + 2 * ndigits);
		ensure(8 + 2 * ndigits);
		putShort(this.length, ndigits);
		putShort(this.length + 2, weight);
		putShort(this.length + 4, sign);
		putShort(this.length + 6, scale);
		this.length += 8;
		for (int i = count - 1; i >= lowest; i--) {
			putShort(this.length, digits[i]);
			this.length += 2;
		}
		return this;
	}

	/** Starts the row at its first field, leaving room for the field count. */
	private void field() {
		if (this.rowStart < 0) {
			ensure(2);
			this.rowStart = this.length;
			this.length += 2;
			this.fields = 0;
		}
		this.fields++;
	}

	private void int32(int value) {
		bigEndian(value, 4);
	}

	private void bigEndian(long value, int bytes) {
		ensure(bytes);
		for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
			this.buffer[this.length++] = (byte) (value >>> shift);
		}
	}

	private void putInt(int at, int value) {
		this.buffer[at] = (byte) (value >>> 24);
		this.buffer[at + 1] = (byte) (value >>> 16);
		this.buffer[at + 2] = (byte) (value >>> 8);
		this.buffer[at + 3] = (byte) value;
	}

	private void putShort(int at, int value) {
		this.buffer[at] = (byte) (value >>> 8);
		this.buffer[at + 1] = (byte) value;
	}

	private void bytes(byte[] bytes, int count) {
		ensure(count);
		System.arraycopy(bytes, 0, this.buffer, this.length, count);
		this.length += count;
	}

	/** Room for a value's length, which is known once the value is written. */
	private int reserveLength() {
		ensure(4);
		int start = this.length;
		this.length += 4;
		return start;
	}

	private void fillLength(int start) {
		putInt(start, this.length - start - 4);
	}

	private void ensure(int more) {
		if (this.length + more > this.buffer.length) {
			this.buffer = Arrays.copyOf(this.buffer, Math.max(this.buffer.length * 2, this.length + more));
		}
	}

}
