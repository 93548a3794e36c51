package dev.pgbatch.cli;

import java.util.concurrent.Callable;

import dev.pgbatch.core.ExecutionReports;
import dev.pgbatch.core.JobRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "restart", mixinStandardHelpOptions = true,
		description = "Continue a failed or stopped execution from its last committed chunk. An execution left running by a process that died (kill -9, power loss) is recognised, marked FAILED and continued; one whose process is alive is refused. With --json: the new execution with its steps.")
class RestartCommand implements Callable<Integer> {

	@Parameters(index = "0", paramLabel = "EXECUTION_ID")
	long executionId;

	@Mixin
	JsonOption json;

	@Override
	public Integer call() {
		try (ConfigurableApplicationContext context = SpringRuntime.start()) {
			JobExecution execution = context.getBean(JobRunner.class).restart(this.executionId);
			return Reporting.finished(context.getBean(ExecutionReports.class).report(execution), this.json.on);
		}
	}

}
