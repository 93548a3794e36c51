package dev.pgbatch.embed;

import javax.sql.DataSource;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.ProgressMonitor;
import dev.pgbatch.partition.PartitionProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.configuration.annotation.JobScope;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.database.JdbcCursorItemReader;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * embed-products: prepare (count what needs embedding; before a large load, drop the model's HNSW index),
 * embed (chunks of products: template, model, upsert, in one transaction each), index (build the model's
 * index when it is missing, with memory for its graph). What needs embedding is decided by comparing texts,
 * so a restart, or the next run, reads every product again and embeds only what is still stale.
 */
@Configuration(proxyBeanMethods = false)
class EmbedProductsJobConfiguration {

	private static final Logger log = LoggerFactory.getLogger(EmbedProductsJobConfiguration.class);

	/** Products that need embedding in this run, as counted by prepare (limit applied). */
	private static final String TO_EMBED = "embed.to-embed";

	private static final int FETCH_SIZE = 1000;

	private final JobRepository jobRepository;

	private final PlatformTransactionManager transactionManager;

	private final DataSource dataSource;

	private final EmbeddingModels models;

	private final EmbedProperties properties;

	private final PartitionProperties partitions;

	EmbedProductsJobConfiguration(JobRepository jobRepository, PlatformTransactionManager transactionManager,
			DataSource dataSource, EmbeddingModels models, EmbedProperties properties, PartitionProperties partitions) {
		this.jobRepository = jobRepository;
		this.transactionManager = transactionManager;
		this.dataSource = dataSource;
		this.models = models;
		this.properties = properties;
		this.partitions = partitions;
	}

	/** The index's DDL waits for its table's lock as the partition jobs' DDL does (ETL_PARTITION_LOCK_*). */
	private BoundedLocks locks(JdbcTemplate jdbc) {
		return this.partitions.locks(this.transactionManager, jdbc);
	}

	@Bean
	Job embedProductsJob(ProgressMonitor progress, Step embedProductsStep) {
		JdbcTemplate jdbc = new JdbcTemplate(this.dataSource);
		jdbc.setFetchSize(FETCH_SIZE);
		return new JobBuilder(EmbedProductsJob.NAME, this.jobRepository).listener(progress)
			.validator(new EmbedParametersValidator(jdbc, this.models, this.properties))
			.start(tasklet("prepare", prepare(jdbc)))
			.next(embedProductsStep)
			.next(tasklet("index", index(jdbc)))
			.build();
	}

	private Tasklet prepare(JdbcTemplate jdbc) {
		return (contribution, context) -> {
			StepExecution step = context.getStepContext().getStepExecution();
			EmbedPlan plan = EmbedPlan.of(step.getJobParameters());
			ProductTextTemplate template = this.properties.textTemplate();
			long[] stale = { 0 };
			jdbc.query(ProductQuery.SQL, ProductQuery.parameters(plan), row -> {
				if (ProductTextProcessor.stale(template, ProductQuery.ROW.mapRow(row, 0))) {
					stale[0]++;
				}
			});
			long toEmbed = plan.limit() > 0 ? Math.min(plan.limit(), stale[0]) : stale[0];
			step.getJobExecution().getExecutionContext().putLong(TO_EMBED, toEmbed);
			ModelIndex index = new ModelIndex(jdbc, plan.model(), locks(jdbc));
			if (toEmbed >= this.properties.bulkLoadRows() && toEmbed > index.vectors() && index.exists()) {
				if (index.drop()) {
					log.info("{} products to embed: {} dropped for the load, built again at its end", toEmbed,
							plan.model().indexName());
				}
				else {
					log.info("{} products to embed: {} kept (a reader of retail.product_embeddings held on), the load"
							+ " goes into it", toEmbed, plan.model().indexName());
				}
			}
			else {
				log.info("{} products to embed with {}", toEmbed, plan.model().id());
			}
			return RepeatStatus.FINISHED;
		};
	}

	private Tasklet index(JdbcTemplate jdbc) {
		return (contribution, context) -> {
			StepExecution step = context.getStepContext().getStepExecution();
			EmbedPlan plan = EmbedPlan.of(step.getJobParameters());
			ModelIndex.Build build = new ModelIndex(jdbc, plan.model(), locks(jdbc)).build(this.properties.indexMemoryMax().toBytes());
			// fresh statistics: with none, the planner takes a loaded table for empty and the first searches
			// read a store's vectors through the btree instead of the model's HNSW index
			jdbc.execute("ANALYZE retail.product_embeddings");
			if (build != null) {
				step.getExecutionContext().putLong(ExecutionReport.SUMMARY + "index-built-with-mb", build.memory() >> 20);
				step.getExecutionContext().putString(ExecutionReport.SUMMARY + "index-spilled", build.spilled() ? "yes" : "no");
			}
			return RepeatStatus.FINISHED;
		};
	}

	/** Made when the job starts (job scope), so that its chunk size can be the run's batch-size. */
	@Bean
	@JobScope
	Step embedProductsStep(@Value("#{jobParameters['model']}") String model,
			@Value("#{jobParameters['store']}") String store, @Value("#{jobParameters['batch-size']}") Long batchSize,
			@Value("#{jobParameters['limit']}") Long limit) {
		EmbedPlan plan = new EmbedPlan(ProductEmbeddingModel.of(model), store, batchSize.intValue(), limit);
		JdbcTemplate jdbc = new JdbcTemplate(this.dataSource);
		EmbedCounts counts = new EmbedCounts();
		JdbcCursorItemReader<ProductRow> reader = ProductQuery.reader(this.dataSource, plan, FETCH_SIZE);
		return new StepBuilder("embed", this.jobRepository).<ProductRow, ProductText>chunk(plan.batchSize())
			.transactionManager(this.transactionManager)
			.reader(reader)
			.processor(new ProductTextProcessor(this.properties.textTemplate(), counts, plan.limit()))
			.writer(new EmbeddingWriter(this.models, plan.model(), jdbc, counts))
			.stream(counts)
			.listener(new StepExecutionListener() {
				@Override
				public void beforeStep(StepExecution step) {
					ExecutionContext job = step.getJobExecution().getExecutionContext();
					step.getExecutionContext().putLong(ProgressMonitor.TOTAL, job.getLong(TO_EMBED, -1L));
				}
			})
			.build();
	}

	private Step tasklet(String name, Tasklet tasklet) {
		return new StepBuilder(name, this.jobRepository).tasklet(tasklet, this.transactionManager).build();
	}

}
