package dev.pgbatch.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
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
	 * A lost lock stops the run launched under it, and only that one: another running execution of the job (a logical
	 * backup beside a physical one, or a run in another process that took the lock since, rightly) goes on.
	 */
	@Test
	void aLostLockStopsTheRunLaunchedUnderItAndNoOther() {
		JobExecution ours = new JobExecution(11, new JobInstance(1, "backup"), typed("full"));
		JobExecution theirs = new JobExecution(12, new JobInstance(1, "backup"), typed("full"));
		List<Long> stopped = new ArrayList<>();
		StopRequests stops = new StopRequests(repository(stopped, ours, theirs));
		AtomicBoolean lost = new AtomicBoolean();

		try (StopRequests.Launch launch = stops.begin(lost::get, "backup")) {
			StopRequests.recorded(ours);
			lost.set(true);
			launch.lost();
		}

		assertThat(stopped).containsExactly(11L);
		assertThat(theirs.getStatus()).isEqualTo(BatchStatus.STARTED);
	}

	/**
	 * A lock lost while the launch is still on its way (a job's own listener waiting for the partitions' lock): the
	 * wait is told to give up, and the execution, once recorded, stops before its first step.
	 */
	@Test
	void aLockLostBeforeTheExecutionIsRecordedStopsItAtStartAndEndsItsWaits() {
		JobExecution ours = new JobExecution(21, new JobInstance(2, "partition-rollover"), new JobParameters());
		List<Long> stopped = new ArrayList<>();
		StopRequests stops = new StopRequests(repository(stopped, ours));
		AtomicBoolean lost = new AtomicBoolean();

		try (StopRequests.Launch launch = stops.begin(lost::get, "partition-rollover")) {
			BooleanSupplier waiting = stops.requested(ours);
			assertThat(waiting.getAsBoolean()).isFalse();
			lost.set(true);
			launch.lost();
			assertThat(waiting.getAsBoolean()).isTrue();
			StopRequests.recorded(ours);
		}

		assertThat(ours.getStatus()).isEqualTo(BatchStatus.STOPPING);
		assertThat(stopped).isEmpty();
	}

	/**
	 * A nightly's child is launched, under its own lock, inside the nightly's launch: the child's lost lock stops the
	 * child, the nightly's lost lock the nightly; once the child's launch ends, the nightly's is the thread's again.
	 */
	@Test
	void aChildLaunchedInsideAnotherLaunchIsBoundToItsOwnLock() {
		JobExecution nightly = new JobExecution(31, new JobInstance(3, "nightly"), new JobParameters());
		JobExecution child = new JobExecution(32, new JobInstance(4, "archive"), new JobParameters());
		JobExecution later = new JobExecution(33, new JobInstance(5, "archive"), new JobParameters());
		List<Long> stopped = new ArrayList<>();
		StopRequests stops = new StopRequests(repository(stopped, nightly, child, later));
		AtomicBoolean nightlyLost = new AtomicBoolean();

		try (StopRequests.Launch outer = stops.begin(nightlyLost::get, "nightly")) {
			StopRequests.recorded(nightly);
			try (StopRequests.Launch inner = stops.begin(() -> true, "archive")) {
				StopRequests.recorded(child);
				inner.lost();
			}
			// an archive recorded after the child's launch ended is no launch's of this thread
			StopRequests.recorded(later);
			nightlyLost.set(true);
			outer.lost();
		}

		assertThat(stopped).containsExactly(32L, 31L);
		assertThat(later.getStatus()).isEqualTo(BatchStatus.STARTED);
	}

	/**
	 * The repository failing when the lock is lost (the same database went away for a moment): the run is asked to
	 * stop again a second later, not left to go on unprotected; what failed is named by its class only.
	 */
	@Test
	void aRunWhoseLockIsLostIsAskedToStopAgainWhileTheRepositoryFails(CapturedOutput output) {
		JobExecution ours = new JobExecution(41, new JobInstance(6, "archive"), new JobParameters());
		ours.setStatus(BatchStatus.STARTED);
		AtomicInteger reads = new AtomicInteger();
		List<Long> stopped = new ArrayList<>();
		StopRequests stops = new StopRequests(new ResourcelessJobRepository() {
			@Override
			public JobExecution getJobExecution(long executionId) {
				if (reads.incrementAndGet() == 1) {
					throw new DataAccessResourceFailureException("connection to 10.0.0.7 refused");
				}
				return ours;
			}

			@Override
			public void update(JobExecution execution) {
				stopped.add(execution.getId());
			}
		});

		try (StopRequests.Launch launch = stops.begin(() -> true, "archive")) {
			StopRequests.recorded(ours);
			launch.lost();
		}

		assertThat(stopped).containsExactly(41L);
		assertThat(output.getAll()).contains("Execution 41: could not be asked to stop (DataAccessResourceFailureException);"
				+ " trying again in a second").doesNotContain("10.0.0.7");
	}

	/** An execution deleted from the repository by hand is looked for once: asking again would not find it either. */
	@Test
	void aRunGoneFromTheRepositoryIsLookedForOnceNotEverySecond(CapturedOutput output) {
		JobExecution ours = new JobExecution(42, new JobInstance(7, "archive"), new JobParameters());
		AtomicInteger reads = new AtomicInteger();
		StopRequests stops = new StopRequests(new ResourcelessJobRepository() {
			@Override
			public JobExecution getJobExecution(long executionId) {
				reads.incrementAndGet();
				return null;
			}
		});

		try (StopRequests.Launch launch = stops.begin(() -> true, "archive")) {
			StopRequests.recorded(ours);
			launch.lost();
		}

		assertThat(reads).hasValue(1);
		assertThat(output.getAll()).contains("Execution 42: could not be asked to stop: there is no execution 42")
			.doesNotContain("trying again");
	}

	/** A repository of running executions that records which ones were asked to stop. */
	private static ResourcelessJobRepository repository(List<Long> stopped, JobExecution... running) {
		for (JobExecution execution : running) {
			execution.setStatus(BatchStatus.STARTED);
		}
		return new ResourcelessJobRepository() {
			@Override
			public JobExecution getJobExecution(long executionId) {
				return Arrays.stream(running).filter(execution -> execution.getId() == executionId).findFirst().orElse(null);
			}

			@Override
			public void update(JobExecution execution) {
				stopped.add(execution.getId());
			}
		};
	}

	private static JobParameters typed(String type) {
		return new JobParametersBuilder().addString("type", type).toJobParameters();
	}

}
