package dev.pgbatch.backup;

import dev.pgbatch.core.ProgressMonitor;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.support.transaction.ResourcelessTransactionManager;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** backup-verify: one step, bin/etl backup verify --physical as a job ({@link RepositoryVerifyTasklet}). */
@Configuration(proxyBeanMethods = false)
class BackupVerifyJobConfiguration {

	/**
	 * The step runs with no transaction of the database: the verify takes hours of pgBackRest's work, during which a
	 * step transaction would hold a pool connection idle in transaction (ended by a server's
	 * idle_in_transaction_session_timeout, failing the step after a verify that passed). What it reads and records
	 * is in transactions of its own; the step's execution context is written by the job repository, in its own.
	 */
	@Bean
	Job backupVerifyJob(JobRepository jobRepository, PhysicalVerify verify, ProgressMonitor progress) {
		return new JobBuilder(BackupVerifyJob.NAME, jobRepository).listener(progress)
			.start(new StepBuilder("verify", jobRepository)
				.tasklet(new RepositoryVerifyTasklet(verify), new ResourcelessTransactionManager())
				.build())
			.build();
	}

}
