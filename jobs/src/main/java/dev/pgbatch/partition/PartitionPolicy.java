package dev.pgbatch.partition;

import java.time.LocalDate;

/**
 * How one partitioned table is managed: its interval, how many intervals ahead of as-of exist (premake, as
 * pg_partman), how many intervals stay hot and then warm counting back from as-of, and whether older ones
 * are exported to the object store.
 */
public record PartitionPolicy(String table, Interval interval, int premake, int hot, int warm, boolean cold) {

	static final String NOT_A_PARTITION = "'%s' is not a partition name of %s (like %s)";

	public String schema() {
		return this.table.substring(0, this.table.indexOf('.'));
	}

	/** Where the interval starting at {@code start} belongs on {@code asOf}. */
	public Tier tier(LocalDate start, LocalDate asOf) {
		long age = this.interval.between(start, this.interval.start(asOf));
		if (age < this.hot) {
			return Tier.HOT;
		}
		return (age < this.hot + this.warm || !this.cold) ? Tier.WARM : Tier.COLD;
	}

	/**
	 * The first day of the interval of the partition named {@code partition} (parent_pYYYY_MM or
	 * parent_pYYYY_MM_DD, as rollover names them), or an {@link IllegalArgumentException} for any other name.
	 */
	public LocalDate startOf(String partition) {
		String prefix = name() + "_p";
		if (partition != null && partition.startsWith(prefix)) {
			String suffix = partition.substring(prefix.length()).replace('_', '-');
			try {
				LocalDate start = LocalDate.parse(suffix.length() == 7 ? suffix + "-01" : suffix);
				if (this.interval.partitionName(name(), start).equals(partition)) {
					return start;
				}
			}
			catch (java.time.format.DateTimeParseException ex) {
				// not a partition name of this table: said below
			}
		}
		throw new IllegalArgumentException(String.format(NOT_A_PARTITION, partition, this.table,
				this.interval.partitionName(name(), this.interval.start(LocalDate.of(2025, 1, 1)))));
	}

	public String name() {
		return this.table.substring(this.table.indexOf('.') + 1);
	}

}
