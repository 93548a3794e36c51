package dev.pgbatch.seed;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.JobRunner;

import org.springframework.batch.core.job.JobExecution;

/** Runs seed-data in the test's own application context, with parameters as bin/etl takes them. */
public final class SeedDataRuns {

	private static final JobParametersParser PARSER = new JobParametersParser(Clock.systemUTC());

	private SeedDataRuns() {
	}

	public static JobExecution seed(JobRunner runner, String... parameters) {
		Map<String, Object> values = PARSER.parse(SeedDataJob.DEFINITION, List.of(parameters));
		return runner.start(SeedDataJob.NAME, PARSER.toJobParameters(SeedDataJob.DEFINITION, values));
	}

}
