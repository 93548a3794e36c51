package dev.pgbatch.embed;

import java.sql.SQLException;

import javax.sql.DataSource;

import dev.pgbatch.JobRuns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.JobRunner;
import dev.pgbatch.seed.SeedDataRuns;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.step.StepExecution;

import static org.assertj.core.api.Assertions.assertThat;

/** embed-products in the test's application context, on seed-data (scale 1: 500 products in 4 stores). */
final class EmbedRuns {

	private EmbedRuns() {
	}

	static void seed(JobRunner runner, int scale) {
		assertThat(SeedDataRuns.seed(runner, "scale=" + scale, "reset=true", "as-of=2026-06-30", "force=true").getStatus())
			.isEqualTo(BatchStatus.COMPLETED);
	}

	/**
	 * seed-data at scale 4 (2,000 products), seeded once per suite run for the classes that need that many
	 * (TestDatabase.madeOncePerRun): a copy is what the seed would give.
	 */
	static void seededAtScale4(JobRunner runner, DataSource pool) throws SQLException {
		TestDatabase.madeOncePerRun("seeded_scale_4", pool, () -> seed(runner, 4));
	}

	/** Runs the job, expects it COMPLETED, and returns it. */
	static JobExecution embed(JobRunner runner, String... parameters) {
		JobExecution execution = JobRuns.run(runner, EmbedProductsJob.DEFINITION, parameters);
		assertThat(execution.getStatus()).as("embed-products %s", execution.getExitStatus()).isEqualTo(BatchStatus.COMPLETED);
		return execution;
	}

	/** A count the named step reported (embedded, failed, skipped, unchanged, ...), or -1 when it reported none. */
	static long summary(JobExecution execution, String step, String count) {
		return execution.getStepExecutions()
			.stream()
			.filter(s -> s.getStepName().equals(step))
			.map(StepExecution::getExecutionContext)
			.mapToLong(context -> context.getLong(ExecutionReport.SUMMARY + count, -1L))
			.findFirst()
			.orElse(-1L);
	}

	static long embedded(JobExecution execution) {
		return summary(execution, "embed", "embedded");
	}

}
