package dev.pgbatch.cli;

import java.util.List;
import java.util.concurrent.Callable;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.ExecutionReports;
import dev.pgbatch.core.ExecutionReportsContext;
import dev.pgbatch.core.UsageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "executions", mixinStandardHelpOptions = true, description = "What ran, newest first.")
class ExecutionsCommand implements Callable<Integer> {

	@Option(names = "--job", paramLabel = "JOB", description = "Only this job's executions.")
	String job;

	@Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "At most N executions (default ${DEFAULT-VALUE}).")
	int limit;

	@Mixin
	JsonOption json;

	@Override
	public Integer call() {
		if (this.job != null) {
			JobCatalog.get(this.job);
		}
		if (this.limit < 1) {
			throw new UsageException("--limit must be at least 1");
		}
		try (ConfigurableApplicationContext context = SpringRuntime.startOnly(ExecutionReportsContext.class)) {
			List<ExecutionReport> reports = context.getBean(ExecutionReports.class).newest(this.job, this.limit);
			if (this.json.on) {
				Output.json(reports);
			}
			else {
				Output.executions(reports);
			}
			return Cli.OK;
		}
	}

}
