package dev.pgbatch.cli;

import java.util.concurrent.Callable;

import dev.pgbatch.core.JobRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "stop", mixinStandardHelpOptions = true,
		description = "Stop a running execution gracefully: it ends STOPPED after its current chunk, and restart continues it.")
class StopCommand implements Callable<Integer> {

	@Parameters(index = "0", paramLabel = "EXECUTION_ID")
	long executionId;

	@Override
	public Integer call() {
		try (ConfigurableApplicationContext context = SpringRuntime.start()) {
			JobExecution execution = context.getBean(JobRunner.class).stop(this.executionId);
			System.out.println("execution " + this.executionId + " is " + execution.getStatus()
					+ (execution.getStatus().isRunning() ? ": it stops after its current chunk" : ""));
			return Cli.OK;
		}
	}

}
