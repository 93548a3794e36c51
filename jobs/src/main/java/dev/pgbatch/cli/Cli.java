package dev.pgbatch.cli;

import java.io.PrintWriter;

import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.Settings;
import dev.pgbatch.core.UsageException;
import picocli.CommandLine;

/**
 * Entry point of bin/etl. Exit codes: 0 success, 1 job failed or stopped (or the request was refused),
 * 2 bad usage or bad parameters, with nothing written. Errors are one line on stderr.
 */
public final class Cli {

	static final int OK = 0;

	static final int FAILED = 1;

	static final int USAGE = 2;

	private Cli() {
	}

	public static int execute(String... args) {
		CommandLine commandLine = EtlCommand.commandLine(args);
		// every setting is checked before a command reads one (help, version and the compiler list need none, and the
		// training checks them command by command: a bad setting when bin/etl prepares the runner must not lose the
		// list, nor the classes of help)
		commandLine.setExecutionStrategy(parseResult -> {
			if (!readsNoSetting(parseResult)) {
				try {
					Settings.check();
				}
				catch (UsageException ex) {
					throw new CommandLine.ExecutionException(commandLine, ex.getMessage(), ex);
				}
			}
			return new CommandLine.RunLast().execute(parseResult);
		});
		commandLine.setParameterExceptionHandler((ex, arguments) -> {
			PrintWriter err = ex.getCommandLine().getErr();
			err.println("etl: " + OneLine.of(ex.getMessage()) + " (see: " + ex.getCommandLine().getCommandSpec().qualifiedName()
					+ " --help)");
			return USAGE;
		});
		commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
			PrintWriter err = cmd.getErr();
			if (ex instanceof UsageException) {
				err.println("etl: " + OneLine.of(ex.getMessage()));
				return USAGE;
			}
			if (ex instanceof RefusedException) {
				err.println("etl: " + OneLine.of(ex.getMessage()));
				return FAILED;
			}
			String connection = ConnectionProblems.explain(ex);
			err.println("etl: error: " + (connection != null ? connection : rootMessage(ex)));
			return FAILED;
		});
		return commandLine.execute(args);
	}

	private static String rootMessage(Throwable ex) {
		Throwable cause = ex;
		while (cause.getCause() != null && cause.getCause() != cause) {
			cause = cause.getCause();
		}
		String message = (cause.getMessage() != null) ? cause.getMessage() : cause.getClass().getSimpleName();
		int newline = message.indexOf('\n');
		return OneLine.of(newline < 0 ? message : message.substring(0, newline));
	}

	private static boolean readsNoSetting(CommandLine.ParseResult parseResult) {
		for (CommandLine.ParseResult result = parseResult; result != null; result = result.subcommand()) {
			if (result.isUsageHelpRequested() || result.isVersionHelpRequested()
					|| result.commandSpec().userObject() instanceof CommandLine.HelpCommand
					|| result.commandSpec().userObject() instanceof FullJitCommands
					|| result.commandSpec().userObject() instanceof ClassDataTraining) {
				return true;
			}
		}
		return false;
	}

}
