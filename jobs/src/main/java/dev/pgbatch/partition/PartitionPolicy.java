package dev.pgbatch.partition;

import java.time.LocalDate;

/**
 * How one partitioned table is managed: its interval, how many intervals ahead of as-of exist (premake, as
 * pg_partman), how many intervals stay hot and then warm counting back from as-of, and whether older ones
 * are exported to the object store.
 */
public record PartitionPolicy(String table, Interval interval, int premake, int hot, int warm, boolean cold) {

	public String schema() {
		return this.table.substring(0, this.table.indexOf('.'));
	}

	/** hot, warm or cold: where the interval starting at {@code start} belongs on {@code asOf}. */
	public String tier(LocalDate start, LocalDate asOf) {
		long age = this.interval.between(start, this.interval.start(asOf));
		if (age < this.hot) {
			return "hot";
		}
		return (age < this.hot + this.warm || !this.cold) ? "warm" : "cold";
	}

	public String name() {
		return this.table.substring(this.table.indexOf('.') + 1);
	}

}
