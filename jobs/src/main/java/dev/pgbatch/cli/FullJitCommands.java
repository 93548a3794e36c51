package dev.pgbatch.cli;

import java.util.concurrent.Callable;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.core.JobDefinition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Prints, one per line, the commands bin/etl starts with the optimising compiler ("run backup", "backup verify",
 * ...): bin/etl writes this list once beside the runner, so that the choice is made here, from the jobs' own
 * definitions and the commands' marks, and bin/etl names no job or command of its own.
 */
@Command(name = "full-jit-commands", hidden = true)
class FullJitCommands implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@Override
	public Integer call() {
		for (JobDefinition job : JobCatalog.JOBS) {
			if (job.streamsThroughEncryption()) {
				System.out.println("run " + job.name());
			}
		}
		print(this.spec.root().commandLine(), "");
		return Cli.OK;
	}

	private static void print(CommandLine command, String prefix) {
		for (CommandLine sub : command.getSubcommands().values()) {
			String name = prefix + sub.getCommandName();
			if (sub.getCommand() != null && sub.getCommand().getClass().isAnnotationPresent(StreamsThroughEncryption.class)) {
				System.out.println(name);
			}
			print(sub, name + " ");
		}
	}

}
