package dev.pgbatch.nightly;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

import dev.pgbatch.backup.RestorePoints;
import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.JobRunner;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.core.ProgressMonitor;

import org.slf4j.LoggerFactory;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.FlowBuilder;
import org.springframework.batch.core.job.builder.FlowJobBuilder;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.flow.FlowExecutionStatus;
import org.springframework.batch.core.job.flow.JobExecutionDecider;
import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * nightly: one job step per child job, in the order of {@link NightlyJob#CHILDREN}, then its restore point
 * (ETL_NIGHTLY_RESTORE_POINT). Every step runs whatever
 * the steps before it ended with (a failed view refresh must not cost the night its backup); a stop stops
 * the run. A run with a failed step ends FAILED once the last step has run; a restart skips the completed
 * steps and runs the failed ones again, each continuing its child's instance (its parameters are kept in the
 * step's execution context).
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(NightlyProperties.class)
class NightlyJobConfiguration {

	/** After the last step: FAILED when a step of this execution failed, so the run is not taken for a success. */
	private static final JobExecutionDecider OUTCOME = (execution, last) -> execution.getStepExecutions()
		.stream()
		.anyMatch(step -> step.getStatus().isUnsuccessful()) ? FlowExecutionStatus.FAILED : FlowExecutionStatus.COMPLETED;

	/** The step that ends a run with its restore point. */
	static final String RESTORE_POINT = "restore-point";

	/** A run's point: nightly- and its launch time (its run.id), the same across its restarts. */
	private static final DateTimeFormatter POINT_NAME = DateTimeFormatter.ofPattern("'nightly-'yyyyMMdd-HHmmss.SSS")
		.withZone(ZoneOffset.UTC);

	@Bean
	Job nightlyJob(JobRepository jobRepository, ObjectProvider<JobRunner> runner, ExecutionLock lock,
			NightlyProperties properties, ProgressMonitor progress, RestorePoints points,
			PlatformTransactionManager transactionManager,
			@Qualifier("partitionRolloverJob") Job partitionRollover, @Qualifier("archiveJob") Job archive,
			@Qualifier("refreshViewsJob") Job refreshViews, @Qualifier("backupJob") Job backup) {
		List<Job> children = List.of(partitionRollover, archive, refreshViews, backup);
		if (!children.stream().map(Job::getName).toList()
			.equals(NightlyJob.CHILDREN.stream().map(JobDefinition::name).toList())) {
			throw new IllegalStateException("nightly's steps are not its children " + NightlyJob.CHILDREN);
		}
		JobOperator operator = new ChildJobOperator(jobRepository, runner, lock, properties.waitForRunning());
		List<Step> steps = new ArrayList<>();
		for (int i = 0; i < children.size(); i++) {
			steps.add(step(jobRepository, operator, children.get(i), NightlyJob.CHILDREN.get(i)));
		}
		if (properties.restorePoint()) {
			steps.add(restorePoint(jobRepository, transactionManager, points));
		}
		FlowBuilder<FlowJobBuilder> flow = new JobBuilder(NightlyJob.NAME, jobRepository).listener(progress)
			.listener(failedStepsStayRestartable(jobRepository))
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
			.flow(steps.get(0));
		for (int i = 0; i + 1 < steps.size(); i++) {
			// "*": whatever the step ended with; a stopped step stops the job before any transition
			flow = flow.from(steps.get(i)).on("*").to(steps.get(i + 1));
		}
		return flow.from(steps.get(steps.size() - 1))
			.on("*")
			.to(OUTCOME)
			.from(OUTCOME)
			.on(FlowExecutionStatus.FAILED.getName())
			.fail()
			.from(OUTCOME)
			.on("*")
			.end()
			.end()
			.build();
	}

	/**
	 * A flow marks a failed step ABANDONED when it goes on to the next one, so that a restart would not run it
	 * again: the nightly's restart is to run exactly its failed steps again.
	 */
	private static JobExecutionListener failedStepsStayRestartable(JobRepository jobRepository) {
		return new JobExecutionListener() {
			@Override
			public void afterJob(JobExecution execution) {
				for (StepExecution step : execution.getStepExecutions()) {
					if (step.getStatus() == BatchStatus.ABANDONED) {
						step.setStatus(BatchStatus.FAILED);
						jobRepository.update(step);
					}
				}
			}
		};
	}

	/**
	 * The run's own restore point, after its backup (a restore to it starts from that backup's set), made as
	 * {@code backup point} makes one; a restart that finds it made reports it. A dry run makes none, nor a runner
	 * whose role may not (WARNed and summarised, with the GRANT it needs).
	 */
	private static Step restorePoint(JobRepository jobRepository, PlatformTransactionManager transactionManager,
			RestorePoints points) {
		Tasklet tasklet = (contribution, chunk) -> {
			StepExecution step = chunk.getStepContext().getStepExecution();
			JobParameters parameters = step.getJobParameters();
			String summary;
			if (Boolean.TRUE.equals(parameters.getParameter(ParameterDefinition.DRY_RUN).value())) {
				summary = "none: a dry run";
			}
			else {
				String name = POINT_NAME.format(Instant.ofEpochMilli(parameters.getLong(JobParametersParser.RUN_ID)));
				String cannot = points.cannotCreate(name);
				if (cannot != null) {
					// a runner set up for logical backups only: its nights do not fail for want of a point
					LoggerFactory.getLogger(NightlyJobConfiguration.class).warn(cannot);
					summary = "none: " + cannot;
				}
				else {
					summary = points.exists(name) ? name + " (made by an earlier execution of this run)"
							: name + ", " + points.create(name, null).counts().size() + " tables counted";
				}
			}
			step.getExecutionContext().putString("summary.point", summary);
			return RepeatStatus.FINISHED;
		};
		return new StepBuilder(RESTORE_POINT, jobRepository).tasklet(tasklet, transactionManager).build();
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
