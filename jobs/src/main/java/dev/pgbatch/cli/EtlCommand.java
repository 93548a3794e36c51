package dev.pgbatch.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

@Command(name = "etl", mixinStandardHelpOptions = true, version = "pgbatch 0.1.0",
		description = "Batch ETL, archival and embedding jobs for PostgreSQL, with restartable state.",
		subcommands = { JobsCommand.class, RunCommand.class, ExecutionsCommand.class, StatusCommand.class,
				RestartCommand.class, StopCommand.class, HelpCommand.class })
class EtlCommand {

}
