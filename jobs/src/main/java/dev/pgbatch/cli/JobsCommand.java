package dev.pgbatch.cli;

import java.util.concurrent.Callable;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "jobs", mixinStandardHelpOptions = true, description = "List the jobs, what each does and its parameters.")
class JobsCommand implements Callable<Integer> {

	@Mixin
	JsonOption json;

	@Override
	public Integer call() {
		if (this.json.on) {
			Output.json(JobCatalog.JOBS);
			return Cli.OK;
		}
		for (JobDefinition job : JobCatalog.JOBS) {
			System.out.printf("%s%n  %s%n  rerun: %s%n", job.name(), job.description(), job.rerun());
			for (ParameterDefinition parameter : job.parameters()) {
				System.out.printf("  %-12s %-8s default %-14s %s%n", parameter.name(),
						parameter.type().name().toLowerCase(), parameter.defaultText(), parameter.description());
			}
		}
		return Cli.OK;
	}

}
