package dev.pgbatch.refresh;

import javax.sql.DataSource;

import dev.pgbatch.core.ProgressMonitor;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/** refresh-views: one step that refreshes one view per call, each in its own transaction (see {@link ViewRefresh}). */
@Configuration(proxyBeanMethods = false)
class RefreshViewsJobConfiguration {

	@Bean
	Job refreshViewsJob(JobRepository jobRepository, PlatformTransactionManager transactionManager,
			DataSource dataSource, RefreshProperties properties, ProgressMonitor progress) {
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		TransactionTemplate ownTransaction = new TransactionTemplate(transactionManager);
		ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		return new JobBuilder(RefreshViewsJob.NAME, jobRepository).listener(progress)
			.validator(parameters -> {
				try {
					RefreshSelection.select(jdbc, MaterializedViews.read(jdbc), properties,
							parameters.getString(RefreshViewsJob.SCHEMA, ""), parameters.getString(RefreshViewsJob.VIEWS, ""));
				}
				catch (IllegalArgumentException ex) {
					throw new InvalidJobParametersException(ex.getMessage());
				}
			})
			.start(new StepBuilder("refresh", jobRepository)
				.tasklet(new ViewRefresh(jdbc, ownTransaction, properties), transactionManager)
				.build())
			.build();
	}

}
