package dev.pgbatch.backup;

import java.util.Locale;

import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.ProgressMonitor;
import dev.pgbatch.core.StopRequests;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.batch.infrastructure.support.transaction.ResourcelessTransactionManager;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** backup-drill: one step, the drill of {@link RestoreDrills} to the newest point; a failed drill fails the step. */
@Configuration(proxyBeanMethods = false)
class BackupDrillJobConfiguration {

	/** The step's failure: the drill's id and point, then what failed, on one line (the run's exit description). */
	static final String DRILL_FAILED = "drill %d to restore point %s failed: %s";

	/**
	 * The step runs with no transaction of the database (as backup-verify's, see there): a drill's restore, replay
	 * and pg_amcheck take hours, and what it reads and records is on connections of its own. Asked to stop (`etl
	 * stop`, the scheduler's shutdown) while it waits for a backup to end, it stops there: nothing drilled, the run
	 * STOPPED (a restart drills).
	 */
	@Bean
	Job backupDrillJob(JobRepository jobRepository, RestoreDrills drills, ProgressMonitor progress, StopRequests stops) {
		return new JobBuilder(BackupDrillJob.NAME, jobRepository).listener(progress)
			.start(new StepBuilder("drill", jobRepository).tasklet((contribution, chunk) -> {
				StepExecution step = chunk.getStepContext().getStepExecution();
				RestoreDrills.Drill drill = drills.drill(null, null, stops.requested(step.getJobExecution()));
				if (drill == null) {
					step.setTerminateOnly();
					return RepeatStatus.FINISHED;
				}
				ExecutionContext summary = step.getExecutionContext();
				summary.putLong(ExecutionReport.SUMMARY + "id", drill.id());
				summary.putString(ExecutionReport.SUMMARY + "point", drill.point());
				summary.putString(ExecutionReport.SUMMARY + "set", drill.set() == null ? "" : drill.set());
				summary.putString(ExecutionReport.SUMMARY + "result", String.format(Locale.ROOT,
						"%s (restore %.1f s, replay %.1f s)", drill.passed() ? "passed" : "FAILED",
						drill.restoreSeconds(), drill.replaySeconds()));
				if (!drill.passed()) {
					throw new IllegalStateException(OneLine.of(DRILL_FAILED.formatted(drill.id(), drill.point(),
							String.join("; ", drill.problems()))));
				}
				return RepeatStatus.FINISHED;
			}, new ResourcelessTransactionManager()).build())
			.build();
	}

}
