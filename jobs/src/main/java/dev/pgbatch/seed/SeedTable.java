package dev.pgbatch.seed;

import java.util.List;

/**
 * One step of seeding: how many rows, the COPY statements of the tables they go to, and how to write
 * row number n. Row n depends only on the run's model and n, never on what was written before it.
 */
interface SeedTable {

	/** The step's name. */
	String name();

	long count(SeedModel model);

	/** The tables COPY fills, each with its column list; {@link #write} appends to the output of the same index. */
	List<String> copyTargets();

	void write(SeedModel model, long row, List<BinaryCopy> out);

}
