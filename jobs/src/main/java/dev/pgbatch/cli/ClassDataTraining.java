package dev.pgbatch.cli;

import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * What bin/etl trains the runner's class-data cache on, in the one JVM whose loaded classes the cache keeps: every
 * way the command line starts (help, a usage error, jobs, the few beans of executions and status, the whole
 * application), so that none of them reads and parses its classes again. Their output is of no use (bin/etl
 * discards it), and any may fail (no database yet) once it has loaded most of its classes.
 */
@Command(name = "class-data-training", hidden = true)
class ClassDataTraining implements Callable<Integer> {

	private static final List<String[]> COMMANDS = List.of(new String[] { "--help" }, new String[] { "run" },
			new String[] { "jobs" }, new String[] { "jobs", "--json" }, new String[] { "executions" },
			new String[] { "status", "1", "--json" });

	@Override
	public Integer call() {
		COMMANDS.forEach(Cli::execute);
		try (ConfigurableApplicationContext context = SpringRuntime.start()) {
			return Cli.OK;
		}
		catch (RuntimeException ex) {
			return Cli.FAILED;
		}
	}

}
