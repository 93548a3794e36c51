package dev.pgbatch.backup;

import dev.pgbatch.core.ProgressMonitor;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/** backup-verify: one step, pgBackRest's verify of the repository ({@link RepositoryVerifyTasklet}). */
@Configuration(proxyBeanMethods = false)
class BackupVerifyJobConfiguration {

	@Bean
	Job backupVerifyJob(JobRepository jobRepository, PlatformTransactionManager transactionManager, PgBackRest pgBackRest,
			ProgressMonitor progress) {
		return new JobBuilder(BackupVerifyJob.NAME, jobRepository).listener(progress)
			.start(new StepBuilder("verify", jobRepository)
				.tasklet(new RepositoryVerifyTasklet(pgBackRest), transactionManager)
				.build())
			.build();
	}

}
