package dev.pgbatch.seed;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Rows in PostgreSQL's COPY text format, written into a growing buffer. Values are escaped as COPY
 * requires (backslash, tab, newline, carriage return); null is \N.
 */
final class CopyText {

	private final StringBuilder buffer = new StringBuilder(1 << 17);

	private boolean rowStarted;

	CopyText text(String value) {
		separate();
		if (value == null) {
			this.buffer.append("\\N");
			return this;
		}
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			switch (c) {
				case '\\' -> this.buffer.append("\\\\");
				case '\t' -> this.buffer.append("\\t");
				case '\n' -> this.buffer.append("\\n");
				case '\r' -> this.buffer.append("\\r");
				default -> this.buffer.append(c);
			}
		}
		return this;
	}

	CopyText number(long value) {
		separate();
		this.buffer.append(value);
		return this;
	}

	/** A decimal with two places, from a whole number of hundredths (cents). */
	CopyText cents(long hundredths) {
		separate();
		if (hundredths < 0) {
			this.buffer.append('-');
			hundredths = -hundredths;
		}
		long fraction = hundredths % 100;
		this.buffer.append(hundredths / 100).append('.').append(fraction < 10 ? "0" : "").append(fraction);
		return this;
	}

	/** A decimal with three places, from a whole number of thousandths. */
	CopyText thousandths(long thousandths) {
		separate();
		long fraction = thousandths % 1000;
		this.buffer.append(thousandths / 1000).append('.');
		if (fraction < 100) {
			this.buffer.append('0');
		}
		if (fraction < 10) {
			this.buffer.append('0');
		}
		this.buffer.append(fraction);
		return this;
	}

	CopyText bool(boolean value) {
		separate();
		this.buffer.append(value ? 't' : 'f');
		return this;
	}

	CopyText nul() {
		separate();
		this.buffer.append("\\N");
		return this;
	}

	/** A timestamptz in UTC. */
	CopyText timestamp(long epochSecond) {
		separate();
		LocalDateTime time = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
		appendDate(time.getYear(), time.getMonthValue(), time.getDayOfMonth());
		this.buffer.append(' ');
		two(time.getHour()).append(':');
		two(time.getMinute()).append(':');
		two(time.getSecond()).append("+00");
		return this;
	}

	CopyText date(LocalDate date) {
		separate();
		appendDate(date.getYear(), date.getMonthValue(), date.getDayOfMonth());
		return this;
	}

	void endRow() {
		this.buffer.append('\n');
		this.rowStarted = false;
	}

	int length() {
		return this.buffer.length();
	}

	/** Takes what is buffered, as UTF-8 bytes, and empties the buffer. */
	byte[] drain() {
		byte[] bytes = this.buffer.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
		this.buffer.setLength(0);
		return bytes;
	}

	private void separate() {
		if (this.rowStarted) {
			this.buffer.append('\t');
		}
		this.rowStarted = true;
	}

	private void appendDate(int year, int month, int day) {
		this.buffer.append(year).append('-');
		two(month).append('-');
		two(day);
	}

	private StringBuilder two(int value) {
		return this.buffer.append(value < 10 ? "0" : "").append(value);
	}

}
