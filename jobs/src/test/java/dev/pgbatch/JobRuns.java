package dev.pgbatch;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.JobRunner;

import org.springframework.batch.core.job.JobExecution;

/** Runs a job in the test's own application context, with parameters as bin/etl takes them. */
public final class JobRuns {

	private static final JobParametersParser PARSER = new JobParametersParser(Clock.systemUTC());

	private JobRuns() {
	}

	public static JobExecution run(JobRunner runner, JobDefinition job, String... parameters) {
		Map<String, Object> values = PARSER.parse(job, List.of(parameters));
		return runner.start(job.name(), PARSER.toJobParameters(job, values));
	}

}
