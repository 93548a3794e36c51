package dev.pgbatch.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.repository.support.ResourcelessJobRepository;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.dao.DataAccessResourceFailureException;

import static org.assertj.core.api.Assertions.assertThat;

/** The stop question a launch asks while it waits for a lock, against Spring Batch's in-memory repository. */
@ExtendWith(OutputCaptureExtension.class)
class StopRequestsTests {

	/**
	 * A repository that cannot be read (twice here: a passing error, then an execution it no longer finds)
	 * does not fail the launch: not asked to stop, said once at WARN; once the repository answers again, its
	 * STOPPING is seen.
	 */
	@Test
	void anErrorOfTheRepositoryCountsAsNotAskedToStopAndIsSaidOnce(CapturedOutput output) {
		JobExecution launching = new JobExecution(7, new JobInstance(3, "partition-rollover"), new JobParameters());
		AtomicInteger reads = new AtomicInteger();
		ResourcelessJobRepository repository = new ResourcelessJobRepository() {
			@Override
			public JobExecution getJobExecution(long executionId) {
				return switch (reads.incrementAndGet()) {
					case 1 -> throw new DataAccessResourceFailureException("connection refused: the password is hunter2");
					case 2 -> null;
					default -> {
						launching.setStatus(BatchStatus.STOPPING);
						yield launching;
					}
				};
			}
		};
		BooleanSupplier stop = new StopRequests(repository).requested(launching);

		assertThat(stop.getAsBoolean()).isFalse();
		assertThat(stop.getAsBoolean()).isFalse();
		assertThat(stop.getAsBoolean()).isTrue();
		assertThat(output.getAll().lines().filter(line -> line.contains("could not read whether it was asked to stop")))
			.singleElement()
			.asString()
			.contains("WARN", "Execution 7", "DataAccessResourceFailureException")
			.doesNotContain("hunter2");
	}

	/**
	 * A lost lock stops the runs under that lock only: a physical backup's "backup physical" lost, the logical backup
	 * running beside it (here, or in another process: the repository is shared) goes on, and the other way round.
	 */
	@Test
	void aLostLockStopsOnlyTheRunsUnderThatLock() {
		JobExecution full = new JobExecution(11, new JobInstance(1, "backup"), typed("full"));
		JobExecution logical = new JobExecution(12, new JobInstance(2, "backup"), typed("logical"));
		JobExecution untyped = new JobExecution(13, new JobInstance(3, "backup"), new JobParameters());
		List<Long> stopped = new ArrayList<>();
		ResourcelessJobRepository repository = new ResourcelessJobRepository() {
			@Override
			public Set<JobExecution> findRunningJobExecutions(String jobName) {
				return Set.of(full, logical, untyped);
			}

			@Override
			public void update(JobExecution execution) {
				stopped.add(execution.getId());
			}
		};
		StopRequests stops = new StopRequests(repository);

		stops.stopRunsUnder("backup physical", "backup");
		assertThat(stopped).containsExactly(11L);
		stopped.clear();
		stops.stopRunsUnder("backup", "backup");
		assertThat(stopped).containsExactlyInAnyOrder(12L, 13L);
	}

	private static JobParameters typed(String type) {
		return new JobParametersBuilder().addString("type", type).toJobParameters();
	}

}
