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

	/** What a reset refused for cold segments not restored reports (ExecutionReport's exit description). */
	public static String refusedForColdSegments(long segments, String table) {
		return "prepare: " + String.format(SeedTablesTasklets.COLD_SEGMENTS, segments, table);
	}

}
