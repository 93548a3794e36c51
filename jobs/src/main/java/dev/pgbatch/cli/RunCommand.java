package dev.pgbatch.cli;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.core.ExecutionReports;
import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.JobRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "run", mixinStandardHelpOptions = true,
		description = "Launch a job and wait for it to end; progress is shown on a terminal. Exit 0 when it completed, 1 when it failed or stopped. With --json: the execution with its steps.")
class RunCommand implements Callable<Integer> {

	@Parameters(index = "0", paramLabel = "JOB", description = "The job (see: bin/etl jobs).")
	String job;

	@Parameters(index = "1..*", paramLabel = "name=value", description = "Job parameters.")
	List<String> parameters = new ArrayList<>();

	@Mixin
	JsonOption json;

	@Override
	public Integer call() {
		JobDefinition definition = JobCatalog.get(this.job);
		JobParametersParser parser = new JobParametersParser(Clock.systemUTC());
		Map<String, Object> values = parser.parse(definition, this.parameters);
		definition.warmUp().run();
		try (ConfigurableApplicationContext context = SpringRuntime.start()) {
			JobExecution execution = context.getBean(JobRunner.class)
				.start(definition.name(), parser.toJobParameters(definition, values));
			return Reporting.finished(context.getBean(ExecutionReports.class).report(execution), this.json.on);
		}
	}

}
