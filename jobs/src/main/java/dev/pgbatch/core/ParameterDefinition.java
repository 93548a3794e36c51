package dev.pgbatch.core;

import java.time.Clock;
import java.time.LocalDate;
import java.time.Period;
import java.util.function.Function;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One parameter of a job: its name, type and meaning, its default (computed at launch, so that a
 * default such as today is fixed in the execution and a restart sees the same value), and its check.
 */
public record ParameterDefinition(String name, ParameterType type, String description, String defaultText,
		@JsonIgnore Function<Clock, Object> defaultValue, @JsonIgnore Check check) {

	/** Names what is wrong with a value, or returns null when it is acceptable. */
	@FunctionalInterface
	public interface Check {

		String problem(Object value);

		Check NONE = value -> null;

	}

	/**
	 * The bounds of a number, as `bin/etl jobs --json` lists them; other checks are code, which JSON cannot show
	 * (defaultText says the default).
	 */
	@JsonProperty("range")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	public Range range() {
		return (this.check instanceof Range range) ? range : null;
	}

	/** A number's bounds: a check that tests and `bin/etl jobs --json` can read. */
	public record Range(double min, double max, boolean whole) implements Check {

		@Override
		public String problem(Object value) {
			double number = ((Number) value).doubleValue();
			return (number < this.min || number > this.max) ? "must be between " + format(this.min) + " and "
					+ format(this.max) + ", got " + (this.whole ? Long.toString((Long) value) : format(number)) : null;
		}

	}

	public static ParameterDefinition decimal(String name, String description, double defaultValue, double min,
			double max) {
		return new ParameterDefinition(name, ParameterType.DECIMAL, description, format(defaultValue),
				clock -> defaultValue, new Range(min, max, false));
	}

	public static ParameterDefinition wholeNumber(String name, String description, long defaultValue) {
		return new ParameterDefinition(name, ParameterType.LONG, description, Long.toString(defaultValue),
				clock -> defaultValue, Check.NONE);
	}

	public static ParameterDefinition wholeNumber(String name, String description, long defaultValue, long min,
			long max) {
		return new ParameterDefinition(name, ParameterType.LONG, description, Long.toString(defaultValue),
				clock -> defaultValue, new Range(min, max, true));
	}

	/** A text parameter; {@code defaultText} says what the default is where it is not a fixed value. */
	public static ParameterDefinition text(String name, String description, String defaultText, String defaultValue,
			Check check) {
		return new ParameterDefinition(name, ParameterType.STRING, description, defaultText, clock -> defaultValue,
				check);
	}

	/** How far a date parameter may be from today without {@link #FORCE}: a date beyond is far likelier a typo. */
	public static final Period DATE_WINDOW = Period.ofYears(1);

	/** The flag that lets a job's dates go beyond {@link #DATE_WINDOW}: every job with a date parameter takes it. */
	public static final ParameterDefinition FORCE = flag("force",
			"accept an as-of more than a year before or after today", false);

	/**
	 * The names of the parameters several jobs take, defined once: the nightly passes its own as-of and dry-run on
	 * to its children by these names. What each means for a job, its description says.
	 */
	public static final String AS_OF = "as-of";

	public static final String DRY_RUN = "dry-run";

	public static final String TABLE = "table";

	/** The day a job counts from: today in UTC when not given. */
	public static ParameterDefinition asOf(String description) {
		return new ParameterDefinition(AS_OF, ParameterType.DATE, description, "today (UTC)",
				clock -> LocalDate.now(clock), Check.NONE);
	}

	/** A run that reports what it would do; off when not given. */
	public static ParameterDefinition dryRun(String description) {
		return flag(DRY_RUN, description, false);
	}

	/** One managed table (schema.table) only; every one when not given. */
	public static ParameterDefinition table(String description, String defaultText) {
		return text(TABLE, description, defaultText, "", Check.NONE);
	}

	public static ParameterDefinition flag(String name, String description, boolean defaultValue) {
		return new ParameterDefinition(name, ParameterType.BOOLEAN, description, Boolean.toString(defaultValue),
				clock -> defaultValue, Check.NONE);
	}

	private static String format(double number) {
		return (number == Math.rint(number) && Math.abs(number) < 1e15) ? Long.toString((long) number)
				: Double.toString(number);
	}

}
