package dev.pgbatch.cli;

import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "etl", mixinStandardHelpOptions = true, version = "pgbatch 0.1.0",
		description = "Batch ETL, archival and embedding jobs for PostgreSQL, with restartable state.")
class EtlCommand implements Callable<Integer> {

	/** The commands, in the order help lists them. */
	private static final List<Class<?>> COMMANDS = List.of(JobsCommand.class, RunCommand.class, ExecutionsCommand.class,
			StatusCommand.class, RestartCommand.class, StopCommand.class, SearchCommand.class, BackupCommand.class,
			ArchiveCommand.class, KeysCommand.class, SchedulesCommand.class, SchedulerCommand.class, HelpCommand.class,
			FullJitCommands.class, ClassDataTraining.class);

	/** The commands that read the others' definitions. */
	private static final Set<Class<?>> READING_THE_OTHERS = Set.of(HelpCommand.class, FullJitCommands.class);

	@Spec
	CommandSpec spec;

	/** Every command. */
	static CommandLine commandLine() {
		return commandLine(new String[0]);
	}

	/**
	 * The command line that {@code arguments} need: only the command they name, when they name one that needs no
	 * other (picocli reads every command's options by reflection as it builds it: a tenth of a second of each start
	 * here for all of them); every command otherwise (help, a usage error).
	 */
	static CommandLine commandLine(String... arguments) {
		Class<?> named = COMMANDS.stream()
			.filter(command -> arguments.length > 0 && command.getAnnotation(Command.class).name().equals(arguments[0]))
			.filter(command -> !READING_THE_OTHERS.contains(command))
			.findFirst()
			.orElse(null);
		CommandLine commandLine = new CommandLine(new EtlCommand());
		COMMANDS.stream().filter(command -> named == null || command == named).forEach(commandLine::addSubcommand);
		// an argument is itself: picocli would replace "@NAME" (a search text, a parameter's value) by the arguments a
		// file NAME holds, where one lies (set after the commands are added: picocli passes it to those it has)
		commandLine.setExpandAtFiles(false);
		return commandLine;
	}

	/** No command given: that is bad usage; say what the commands are. */
	@Override
	public Integer call() {
		this.spec.commandLine().usage(System.err);
		return Cli.USAGE;
	}

}
