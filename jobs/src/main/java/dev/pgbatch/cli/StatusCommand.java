package dev.pgbatch.cli;

import java.util.concurrent.Callable;

import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.ExecutionReports;
import dev.pgbatch.core.ExecutionReportsContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "status", mixinStandardHelpOptions = true,
		description = "One execution: its status, parameters and steps with read/write/skip counts.")
class StatusCommand implements Callable<Integer> {

	@Parameters(index = "0", paramLabel = "EXECUTION_ID")
	long executionId;

	@Mixin
	JsonOption json;

	@Override
	public Integer call() {
		try (ConfigurableApplicationContext context = SpringRuntime.startOnly(ExecutionReportsContext.class)) {
			ExecutionReport report = context.getBean(ExecutionReports.class).report(this.executionId);
			if (this.json.on) {
				Output.json(report);
			}
			else {
				Output.execution(report);
			}
			return Cli.OK;
		}
	}

}
