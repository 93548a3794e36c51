package dev.pgbatch.cli;

import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * What bin/etl trains the runner's class-data cache on, in the one JVM whose loaded classes the cache keeps: every
 * way the command line starts (help, a usage error, jobs, the few beans of executions and status, the whole
 * application), so that none of them reads and parses its classes again. Their output is of no use (bin/etl
 * discards it), and any may fail (no database yet) once it has loaded most of its classes. It writes nothing: its
 * sessions are read-only, so that the database of the operator's first command after a build (whatever command, even
 * --help) is not migrated unseen; where a migration is due, Flyway's first statement fails and rolls back.
 */
@Command(name = "class-data-training", hidden = true)
class ClassDataTraining implements Callable<Integer> {

	private static final List<String[]> COMMANDS = List.of(new String[] { "--help" }, new String[] { "run" },
			new String[] { "jobs" }, new String[] { "jobs", "--json" }, new String[] { "executions" },
			new String[] { "status", "1", "--json" });

	/** Run by every session of the training's pool as it opens: a statement that writes is refused. */
	private static final String READ_ONLY = "SET default_transaction_read_only = on";

	@Override
	public Integer call() {
		// for every context the training starts: a system property comes before application.properties
		System.setProperty("spring.datasource.hikari.connection-init-sql", READ_ONLY);
		// Flyway's own connections when it has a user or URL of its own (spring.flyway.user/url): not the pool's
		System.setProperty("spring.flyway.init-sqls", READ_ONLY);
		COMMANDS.forEach(Cli::execute);
		try (ConfigurableApplicationContext context = SpringRuntime.start()) {
			return Cli.OK;
		}
		catch (RuntimeException ex) {
			return Cli.FAILED;
		}
	}

}
