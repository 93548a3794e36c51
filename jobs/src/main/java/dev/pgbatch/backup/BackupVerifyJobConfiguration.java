package dev.pgbatch.backup;

import dev.pgbatch.core.ProgressMonitor;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/** backup-verify: one step, bin/etl backup verify --physical as a job ({@link RepositoryVerifyTasklet}). */
@Configuration(proxyBeanMethods = false)
class BackupVerifyJobConfiguration {

	@Bean
	Job backupVerifyJob(JobRepository jobRepository, PlatformTransactionManager transactionManager, PhysicalVerify verify,
			ProgressMonitor progress) {
		return new JobBuilder(BackupVerifyJob.NAME, jobRepository).listener(progress)
			.start(new StepBuilder("verify", jobRepository)
				.tasklet(new RepositoryVerifyTasklet(verify), transactionManager)
				.build())
			.build();
	}

}
