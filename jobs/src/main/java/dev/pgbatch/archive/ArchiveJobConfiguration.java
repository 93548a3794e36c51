package dev.pgbatch.archive;

import java.time.LocalDate;
import java.util.List;

import javax.sql.DataSource;

import dev.pgbatch.core.ProgressMonitor;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.partition.PartitionPolicy;
import dev.pgbatch.partition.PartitionProperties;
import dev.pgbatch.partition.PartitionedTable;
import dev.pgbatch.store.ObjectStore;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/** archive: warm (move to the warm tablespace), then cold (export, verify, drop), one partition per transaction. */
@Configuration(proxyBeanMethods = false)
class ArchiveJobConfiguration {

	static final String NO_TABLESPACE = "tablespace '%s' (ETL_TABLESPACE_WARM) does not exist";

	@Bean
	Job archiveJob(JobRepository jobRepository, PlatformTransactionManager transactionManager, DataSource dataSource,
			ObjectStore store, PartitionProperties partitions, ArchiveProperties properties, KeysetProperties keyset,
			ProgressMonitor progress) {
		TransactionTemplate ownTransaction = new TransactionTemplate(transactionManager);
		ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		Archiving archiving = new Archiving(dataSource, ownTransaction, store, properties, keyset);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		return new JobBuilder(ArchiveJob.NAME, jobRepository).listener(progress)
			.validator(parameters -> {
				List<PartitionPolicy> tables;
				try {
					tables = partitions.policies().select(parameters.getString(ArchiveJob.TABLE, ""));
					for (PartitionPolicy policy : tables) {
						PartitionedTable.read(jdbc, policy);
					}
				}
				catch (IllegalArgumentException ex) {
					throw new InvalidJobParametersException(ex.getMessage());
				}
				if (!Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = ?)",
						Boolean.class, properties.warmTablespace()))) {
					throw new InvalidJobParametersException(String.format(NO_TABLESPACE, properties.warmTablespace()));
				}
				if (tables.stream().anyMatch(PartitionPolicy::cold)) {
					keyset.load();
				}
			})
			.start(new StepBuilder("warm", jobRepository).tasklet((contribution, chunk) -> {
				Run run = Run.of(chunk.getStepContext().getStepExecution().getJobParameters(), partitions);
				return archiving.warmNext(run.tables, run.asOf, run.dryRun,
						chunk.getStepContext().getStepExecution().getExecutionContext()) ? RepeatStatus.CONTINUABLE
								: RepeatStatus.FINISHED;
			}, transactionManager).build())
			.next(new StepBuilder("cold", jobRepository).tasklet((contribution, chunk) -> {
				Run run = Run.of(chunk.getStepContext().getStepExecution().getJobParameters(), partitions);
				return archiving.coldNext(run.tables, run.asOf, run.dryRun,
						chunk.getStepContext().getStepExecution().getExecutionContext()) ? RepeatStatus.CONTINUABLE
								: RepeatStatus.FINISHED;
			}, transactionManager).build())
			.build();
	}

	/** A run's parameters. */
	private record Run(List<PartitionPolicy> tables, LocalDate asOf, boolean dryRun) {

		static Run of(JobParameters parameters, PartitionProperties partitions) {
			return new Run(partitions.policies().select(parameters.getString(ArchiveJob.TABLE, "")),
					parameters.getLocalDate(ArchiveJob.AS_OF),
					Boolean.TRUE.equals(parameters.getParameter(ArchiveJob.DRY_RUN).value()));
		}

	}

}
