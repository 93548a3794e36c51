package dev.pgbatch.nightly;

import java.util.List;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.JobRunner;
import dev.pgbatch.core.ProgressMonitor;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.builder.SimpleJobBuilder;
import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * nightly: one job step per child job, in the order of {@link NightlyJob#CHILDREN}. A step that fails ends
 * the run FAILED; a restart skips the completed steps and runs the failed one again, which continues its
 * child's instance (its parameters are kept in the step's execution context).
 */
@Configuration(proxyBeanMethods = false)
class NightlyJobConfiguration {

	@Bean
	Job nightlyJob(JobRepository jobRepository, ObjectProvider<JobRunner> runner, ProgressMonitor progress,
			@Qualifier("partitionRolloverJob") Job partitionRollover, @Qualifier("archiveJob") Job archive,
			@Qualifier("refreshViewsJob") Job refreshViews, @Qualifier("backupJob") Job backup) {
		List<Job> children = List.of(partitionRollover, archive, refreshViews, backup);
		if (!children.stream().map(Job::getName).toList()
			.equals(NightlyJob.CHILDREN.stream().map(JobDefinition::name).toList())) {
			throw new IllegalStateException("nightly's steps are not its children " + NightlyJob.CHILDREN);
		}
		JobOperator operator = new ChildJobOperator(jobRepository, runner);
		SimpleJobBuilder job = new JobBuilder(NightlyJob.NAME, jobRepository).listener(progress)
			.validator(parameters -> {
				// what a child would refuse (a missing keyset or tablespace, a table that is not partitioned)
				// refuses the nightly at launch, before anything is written
				for (int i = 0; i < children.size(); i++) {
					try {
						children.get(i)
							.getJobParametersValidator()
							.validate(NightlyJob.childParameters(NightlyJob.CHILDREN.get(i), parameters));
					}
					catch (InvalidJobParametersException | IllegalArgumentException ex) {
						throw new InvalidJobParametersException(children.get(i).getName() + ": " + ex.getMessage());
					}
				}
			})
			.start(step(jobRepository, operator, children.get(0), NightlyJob.CHILDREN.get(0)));
		for (int i = 1; i < children.size(); i++) {
			job = job.next(step(jobRepository, operator, children.get(i), NightlyJob.CHILDREN.get(i)));
		}
		return job.build();
	}

	/** A job step named after its child, which runs with parameters made from the nightly's. */
	private static Step step(JobRepository jobRepository, JobOperator operator, Job child, JobDefinition definition) {
		return new StepBuilder(child.getName(), jobRepository).job(child)
			.operator(operator)
			.parametersExtractor((job, stepExecution) -> NightlyJob.childParameters(definition,
					stepExecution.getJobParameters()))
			.build();
	}

}
