package dev.pgbatch.partition;

import java.time.LocalDate;

import javax.sql.DataSource;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.core.ProgressMonitor;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;

/** partition-rollover: one step that makes one change per transaction until none is left (see {@link Rollover}). */
@Configuration(proxyBeanMethods = false)
class PartitionRolloverJobConfiguration {

	@Bean
	Job partitionRolloverJob(JobRepository jobRepository, PlatformTransactionManager transactionManager,
			DataSource dataSource, PartitionProperties properties, ProgressMonitor progress, PartitionLock partitionLock) {
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		BoundedLocks locks = properties.locks(transactionManager, jdbc);
		Tasklet rollover = (contribution, chunk) -> {
			JobParameters parameters = chunk.getStepContext().getStepExecution().getJobParameters();
			return new Rollover(jdbc, locks, properties.policies().select(parameters.getString(ParameterDefinition.TABLE, "")),
					parameters.getLocalDate(ParameterDefinition.AS_OF),
					Boolean.TRUE.equals(parameters.getParameter(ParameterDefinition.DRY_RUN).value()),
					properties.batchRows())
				.execute(contribution, chunk);
		};
		return new JobBuilder(PartitionRolloverJob.NAME, jobRepository).listener(progress)
			.listener(partitionLock.forJob())
			.listener(new JobExecutionListener() {
				@Override
				public void afterJob(JobExecution execution) {
					// under the partitions' lock, before it is released (listeners end in reverse order); a run
					// that never got the lock must not touch another run's staging tables
					if (execution.getStatus() != BatchStatus.COMPLETED && partitionLock.holds(execution)) {
						Rollover.undoStaging(jdbc, locks, properties.policies()
							.select(execution.getJobParameters().getString(ParameterDefinition.TABLE, "")));
					}
				}
			})
			.validator(parameters -> {
				try {
					for (PartitionPolicy policy : properties.policies()
						.select(parameters.getString(ParameterDefinition.TABLE, ""))) {
						PartitionedTable.read(jdbc, policy);
					}
				}
				catch (IllegalArgumentException ex) {
					throw new InvalidJobParametersException(ex.getMessage());
				}
			})
			.start(new StepBuilder("rollover", jobRepository).tasklet(partitionLock.heldAtCommit(rollover), transactionManager).build())
			.build();
	}

}
