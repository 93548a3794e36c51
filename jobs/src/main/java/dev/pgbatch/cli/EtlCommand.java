package dev.pgbatch.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "etl", mixinStandardHelpOptions = true, version = "pgbatch 0.1.0",
		description = "Batch ETL, archival and embedding jobs for PostgreSQL, with restartable state.",
		subcommands = { JobsCommand.class, RunCommand.class, ExecutionsCommand.class, StatusCommand.class,
				RestartCommand.class, StopCommand.class, SearchCommand.class, BackupCommand.class, ArchiveCommand.class,
				KeysCommand.class, SchedulesCommand.class, SchedulerCommand.class, HelpCommand.class,
				FullJitCommands.class, ClassDataTraining.class })
class EtlCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	/** No command given: that is bad usage; say what the commands are. */
	@Override
	public Integer call() {
		this.spec.commandLine().usage(System.err);
		return Cli.USAGE;
	}

}
