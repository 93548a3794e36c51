package dev.pgbatch.seed;


import javax.sql.DataSource;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.BackgroundThreads;
import dev.pgbatch.core.ProgressMonitor;
import dev.pgbatch.partition.PartitionLock;
import dev.pgbatch.partition.PartitionProperties;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.builder.FlowBuilder;
import org.springframework.batch.core.job.flow.Flow;
import org.springframework.batch.core.job.flow.support.SimpleFlow;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * seed-data: prepare (check or reset, set secondary indexes and foreign keys aside), then one COPY step
 * per table in foreign-key order, the monthly partitions before the task executions, and at the end of
 * each schema its indexes and foreign keys again (validated) and statistics. Every COPY step commits a chunk of
 * rows with its restart point, so a killed run restarts where it stopped.
 */
@Configuration(proxyBeanMethods = false)
class SeedDataJobConfiguration {

	private final JobRepository jobRepository;

	private final PlatformTransactionManager transactionManager;

	private final DataSource dataSource;

	private final SeedModels models;

	private final SeedProperties properties;

	private final PartitionLock partitionLock;

	private final BoundedLocks locks;

	SeedDataJobConfiguration(JobRepository jobRepository, PlatformTransactionManager transactionManager,
			DataSource dataSource, SeedModels models, SeedProperties properties, PartitionLock partitionLock,
			PartitionProperties partitions) {
		this.partitionLock = partitionLock;
		this.locks = partitions.locks(transactionManager, new JdbcTemplate(dataSource));
		this.jobRepository = jobRepository;
		this.transactionManager = transactionManager;
		this.dataSource = dataSource;
		this.models = models;
		this.properties = properties;
	}

	/**
	 * The retail and the ops schema share no foreign key, so they load side by side: one PostgreSQL
	 * backend each, which keeps both cores of a small machine busy.
	 */
	@Bean
	Job seedDataJob(ProgressMonitor progress) {
		JdbcTemplate jdbc = new JdbcTemplate(this.dataSource);
		Flow retail = new FlowBuilder<SimpleFlow>("retail").start(copyStep(ReferenceTables.STORES))
			.next(copyStep(ReferenceTables.CATEGORIES))
			.next(copyStep(new CustomersTable()))
			.next(copyStep(new ProductsTable()))
			.next(copyStep(new SalesTransactionsTable()))
			.next(tasklet("retail-indexes", SeedTablesTasklets.finish(jdbc, "retail", SeedTablesTasklets.RETAIL_AFTER_LOAD)))
			.build();
		Flow ops = new FlowBuilder<SimpleFlow>("ops").start(copyStep(OpsTables.USERS))
			.next(copyStep(OpsTables.AGENTS))
			.next(copyStep(OpsTables.TASKS))
			.next(tasklet("partitions", SeedTablesTasklets.partitions(jdbc, this.models)))
			.next(copyStep(OpsTables.TASK_EXECUTIONS))
			.next(tasklet("ops-indexes", SeedTablesTasklets.finish(jdbc, "ops", SeedTablesTasklets.OPS_AFTER_LOAD)))
			.build();
		Flow load = new FlowBuilder<SimpleFlow>("load").split(new SimpleAsyncTaskExecutor("seed-"))
			.add(retail, ops)
			.build();
		Flow seed = new FlowBuilder<SimpleFlow>("seed").start(tasklet("recover", SeedTablesTasklets.recover(jdbc)))
			.next(tasklet("prepare", SeedTablesTasklets.prepare(jdbc, this.properties.audit())))
			.next(load)
			.build();
		// it empties and makes partitions: one at a time with rollover, archive and archive restore
		return new JobBuilder(SeedDataJob.NAME, this.jobRepository).listener(progress)
			.listener(this.partitionLock.forJob())
			.listener(new JobExecutionListener() {
				@Override
				public void beforeJob(JobExecution execution) {
					// The name pools take a second or two (datafaker reads its locale files on first use):
					// make them while the first steps talk to the database.
					BackgroundThreads.run("seed models", () -> SeedDataJobConfiguration.this.models.of(execution.getJobParameters()));
				}
			})
			.start(seed)
			.end()
			.build();
	}

	private Step copyStep(SeedTable table) {
		RowNumberReader reader = new RowNumberReader(table, this.models);
		CopyWriter writer = new CopyWriter(table, this.models, this.dataSource, this.properties.audit());
		return new StepBuilder(table.name(), this.jobRepository).<Long, Long>chunk(this.properties.chunkRows())
			.transactionManager(this.transactionManager)
			.reader(reader)
			.writer(writer)
			.listener(reader)
			.listener(writer)
			.build();
	}

	/** A step of DDL (truncate, indexes, partitions): its lock waits are bounded, and it is tried again. */
	private Step tasklet(String name, Tasklet tasklet) {
		Tasklet bounded = (contribution, chunk) -> this.locks.run("seed-data " + name, () -> {
			try {
				return tasklet.execute(contribution, chunk);
			}
			catch (RuntimeException ex) {
				throw ex;
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex.getMessage(), ex);
			}
		});
		return new StepBuilder(name, this.jobRepository).tasklet(this.partitionLock.heldAtCommit(bounded), this.transactionManager)
			.build();
	}

}
