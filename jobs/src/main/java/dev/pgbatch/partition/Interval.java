package dev.pgbatch.partition;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;

/** How wide a partition is, in UTC calendar units, and how its name ends. */
public enum Interval {

	MONTHLY("month", DateTimeFormatter.ofPattern("'p'yyyy_MM")) {
		@Override
		public LocalDate start(LocalDate day) {
			return day.withDayOfMonth(1);
		}

		@Override
		public LocalDate plus(LocalDate start, long intervals) {
			return start.plusMonths(intervals);
		}
	},

	DAILY("day", DateTimeFormatter.ofPattern("'p'yyyy_MM_dd")) {
		@Override
		public LocalDate start(LocalDate day) {
			return day;
		}

		@Override
		public LocalDate plus(LocalDate start, long intervals) {
			return start.plusDays(intervals);
		}
	};

	/** The unit date_trunc takes. */
	final String unit;

	private final DateTimeFormatter suffix;

	Interval(String unit, DateTimeFormatter suffix) {
		this.unit = unit;
		this.suffix = suffix;
	}

	/** The first day of the interval holding {@code day}. */
	public abstract LocalDate start(LocalDate day);

	public abstract LocalDate plus(LocalDate start, long intervals);

	/** Whole intervals from the one starting at {@code from} to the one starting at {@code to}. */
	public long between(LocalDate from, LocalDate to) {
		return (this == MONTHLY ? java.time.temporal.ChronoUnit.MONTHS : java.time.temporal.ChronoUnit.DAYS).between(from, to);
	}

	/** The partition of {@code parentTable} (unqualified) starting at {@code start}: parent_pYYYY_MM. */
	public String partitionName(String parentTable, LocalDate start) {
		return parentTable + "_" + this.suffix.format(start);
	}

	static Interval of(String text) {
		for (Interval interval : values()) {
			if (interval.name().equalsIgnoreCase(text)) {
				return interval;
			}
		}
		throw new IllegalArgumentException("interval '" + text + "' is neither monthly nor daily");
	}

}
