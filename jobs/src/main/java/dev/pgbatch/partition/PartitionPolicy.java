package dev.pgbatch.partition;

/**
 * How one partitioned table is managed: its interval, how many intervals ahead of as-of exist (premake, as
 * pg_partman), how many intervals stay hot and then warm counting back from as-of, and whether older ones
 * are exported to the object store.
 */
record PartitionPolicy(String table, Interval interval, int premake, int hot, int warm, boolean cold) {

	String schema() {
		return this.table.substring(0, this.table.indexOf('.'));
	}

	String name() {
		return this.table.substring(this.table.indexOf('.') + 1);
	}

}
