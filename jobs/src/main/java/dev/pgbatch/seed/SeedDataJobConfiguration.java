package dev.pgbatch.seed;

import java.util.List;

import javax.sql.DataSource;

import dev.pgbatch.core.ProgressMonitor;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.builder.SimpleJobBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * seed-data: prepare (check or reset), then one COPY step per table in foreign-key order, the monthly
 * partitions before the task executions, and statistics at the end. Every COPY step commits a chunk of
 * rows with its restart point, so a killed run restarts where it stopped.
 */
@Configuration(proxyBeanMethods = false)
class SeedDataJobConfiguration {

	private final JobRepository jobRepository;

	private final PlatformTransactionManager transactionManager;

	private final DataSource dataSource;

	private final SeedModels models;

	private final SeedProperties properties;

	SeedDataJobConfiguration(JobRepository jobRepository, PlatformTransactionManager transactionManager,
			DataSource dataSource, SeedModels models, SeedProperties properties) {
		this.jobRepository = jobRepository;
		this.transactionManager = transactionManager;
		this.dataSource = dataSource;
		this.models = models;
		this.properties = properties;
	}

	@Bean
	Job seedDataJob(ProgressMonitor progress) {
		JdbcTemplate jdbc = new JdbcTemplate(this.dataSource);
		SimpleJobBuilder job = new JobBuilder(SeedDataJob.NAME, this.jobRepository).listener(progress)
			.start(tasklet("prepare", SeedTablesTasklets.prepare(jdbc)));
		for (SeedTable table : List.of(ReferenceTables.STORES, ReferenceTables.CATEGORIES, new CustomersTable(),
				new ProductsTable(), new SalesTransactionsTable(), OpsTables.USERS, OpsTables.AGENTS, OpsTables.TASKS)) {
			job.next(copyStep(table));
		}
		return job.next(tasklet("partitions", SeedTablesTasklets.partitions(jdbc, this.models)))
			.next(copyStep(OpsTables.TASK_EXECUTIONS))
			.next(tasklet("finish", SeedTablesTasklets.finish(jdbc)))
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

	private Step tasklet(String name, Tasklet tasklet) {
		return new StepBuilder(name, this.jobRepository).tasklet(tasklet, this.transactionManager).build();
	}

}
