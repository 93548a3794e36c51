package dev.pgbatch.seed;

import dev.pgbatch.JobRuns;
import dev.pgbatch.core.JobRunner;

import org.springframework.batch.core.job.JobExecution;

/** Runs seed-data in the test's own application context, with parameters as bin/etl takes them. */
public final class SeedDataRuns {

	private SeedDataRuns() {
	}

	public static JobExecution seed(JobRunner runner, String... parameters) {
		return JobRuns.run(runner, SeedDataJob.DEFINITION, parameters);
	}

}
