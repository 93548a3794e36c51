package dev.pgbatch.archive;

import java.time.LocalDate;
import java.util.List;

import javax.sql.DataSource;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.BackgroundThreads;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.core.ProgressMonitor;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.partition.PartitionLock;
import dev.pgbatch.partition.PartitionPolicy;
import dev.pgbatch.partition.PartitionProperties;
import dev.pgbatch.partition.PartitionedTable;
import dev.pgbatch.store.ObjectStore;


import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.item.ExecutionContext;
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

	static final String NO_TABLESPACE = "tablespace '%s' (%s) does not exist";

	@Bean
	Job archiveJob(JobRepository jobRepository, PlatformTransactionManager transactionManager, DataSource dataSource,
			ObjectStore store, PartitionProperties partitions, ArchiveProperties properties, KeysetProperties keyset,
			ProgressMonitor progress, PartitionLock partitionLock) {
		TransactionTemplate ownTransaction = new TransactionTemplate(transactionManager);
		ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		BoundedLocks locks = partitions.locks(transactionManager, jdbc);
		PartitionArchiver archiving = new PartitionArchiver(dataSource, ownTransaction, store, properties, keyset, locks);
		SalesArchive sales = new SalesArchive(jdbc, properties, locks);
		return new JobBuilder(ArchiveJob.NAME, jobRepository).listener(progress)
			.listener(partitionLock.forJob())
			.listener(new JobExecutionListener() {
				@Override
				public void beforeJob(JobExecution execution) {
					// the object store's client takes seconds to build (it reads the CA certificates): build it
					// while the warm step works; a store that does not answer fails the cold step, not this
					BackgroundThreads.run("object store client", () -> {
						try {
							store.exists(properties.prefix() + "/");
						}
						catch (RuntimeException ex) {
							// the cold step meets it again and fails with it
						}
					});
				}
			})
			.validator(parameters -> {
				Run run;
				try {
					run = Run.of(parameters, partitions);
					for (PartitionPolicy policy : run.tables) {
						PartitionedTable.read(jdbc, policy);
					}
				}
				catch (IllegalArgumentException ex) {
					throw new InvalidJobParametersException(ex.getMessage());
				}
				requireTablespace(jdbc, properties.warmTablespace(), "ETL_TABLESPACE_WARM");
				if (run.sales) {
					requireTablespace(jdbc, properties.coldTablespace(), "ETL_TABLESPACE_COLD");
				}
				if (run.tables.stream().anyMatch(PartitionPolicy::cold)) {
					keyset.load();
				}
			})
			.start(step("warm", jobRepository, transactionManager, partitions, partitionLock,
					(run, counts) -> archiving.warmNext(run.tables, run.asOf, run.dryRun, counts)))
			.next(step("cold", jobRepository, transactionManager, partitions, partitionLock,
					(run, counts) -> archiving.coldNext(run.tables, run.asOf, run.dryRun, counts)))
			.next(step("rows", jobRepository, transactionManager, partitions, partitionLock,
					(run, counts) -> run.sales && sales.next(run.asOf, run.dryRun, counts)))
			.build();
	}

	/** One change of a step, in its own transaction: true while there is more to do. */
	@FunctionalInterface
	private interface NextChange {

		boolean next(Run run, ExecutionContext counts) throws Exception;

	}

	/** A step that makes its changes one transaction at a time until there is none left. */
	private static Step step(String name, JobRepository jobRepository, PlatformTransactionManager transactionManager,
			PartitionProperties partitions, PartitionLock partitionLock, NextChange change) {
		return new StepBuilder(name, jobRepository).tasklet(partitionLock.heldAtCommit((contribution, chunk) -> {
			StepExecution execution = chunk.getStepContext().getStepExecution();
			return change.next(Run.of(execution.getJobParameters(), partitions), execution.getExecutionContext())
					? RepeatStatus.CONTINUABLE : RepeatStatus.FINISHED;
		}), transactionManager).build();
	}

	private static void requireTablespace(JdbcTemplate jdbc, String tablespace, String setting)
			throws InvalidJobParametersException {
		if (!Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = ?)",
				Boolean.class, tablespace))) {
			throw new InvalidJobParametersException(String.format(NO_TABLESPACE, tablespace, setting));
		}
	}

	/** A run's parameters: the partitioned tables it tiers, and whether it archives old sales row-wise. */
	private record Run(List<PartitionPolicy> tables, boolean sales, LocalDate asOf, boolean dryRun) {

		static Run of(JobParameters parameters, PartitionProperties partitions) {
			String table = parameters.getString(ParameterDefinition.TABLE, "");
			boolean onlySales = SalesArchive.TABLE.equals(table);
			return new Run(onlySales ? List.of() : partitions.policies().select(table), onlySales || table.isEmpty(),
					parameters.getLocalDate(ParameterDefinition.AS_OF),
					Boolean.TRUE.equals(parameters.getParameter(ParameterDefinition.DRY_RUN).value()));
		}

	}

}
