package dev.pgbatch.core;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;

/** The types a job parameter can have, with how a command-line value is read. */
public enum ParameterType {

	STRING(String.class) {
		@Override
		Object parse(String text) {
			return text;
		}
	},
	LONG(Long.class) {
		@Override
		Object parse(String text) {
			try {
				return Long.valueOf(text.strip());
			}
			catch (NumberFormatException ex) {
				throw new IllegalArgumentException("'" + text + "' is not a whole number");
			}
		}
	},
	DECIMAL(Double.class) {
		@Override
		Object parse(String text) {
			try {
				double value = Double.parseDouble(text.strip());
				if (!Double.isFinite(value)) {
					throw new NumberFormatException();
				}
				return value;
			}
			catch (NumberFormatException ex) {
				throw new IllegalArgumentException("'" + text + "' is not a number");
			}
		}
	},
	DATE(LocalDate.class) {
		@Override
		Object parse(String text) {
			try {
				// four-digit years only: +999999-01-01 is a date to java.time, not to a partition's name
				return LocalDate.parse(text.strip(), ISO_DATE_FOUR_DIGIT_YEAR);
			}
			catch (DateTimeParseException ex) {
				throw new IllegalArgumentException("'" + text + "' is not a date (YYYY-MM-DD)");
			}
		}
	},
	BOOLEAN(Boolean.class) {
		@Override
		Object parse(String text) {
			return switch (text.strip().toLowerCase()) {
				case "true", "yes", "on", "1" -> Boolean.TRUE;
				case "false", "no", "off", "0" -> Boolean.FALSE;
				default -> throw new IllegalArgumentException("'" + text + "' is not true or false");
			};
		}
	};

	private static final DateTimeFormatter ISO_DATE_FOUR_DIGIT_YEAR = new DateTimeFormatterBuilder()
		.appendValue(ChronoField.YEAR, 4)
		.appendLiteral('-')
		.appendValue(ChronoField.MONTH_OF_YEAR, 2)
		.appendLiteral('-')
		.appendValue(ChronoField.DAY_OF_MONTH, 2)
		.toFormatter()
		.withResolverStyle(ResolverStyle.STRICT);

	private final Class<?> javaType;

	ParameterType(Class<?> javaType) {
		this.javaType = javaType;
	}

	public Class<?> javaType() {
		return this.javaType;
	}

	/** Reads a command-line value; an {@link IllegalArgumentException} names what is wrong with it. */
	abstract Object parse(String text);

}
