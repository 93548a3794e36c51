package dev.pgbatch.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import static org.assertj.core.api.Assertions.assertThat;

class EtlCommandTests {

	@Test
	void everyCommandThatPrintsJsonTakesTheOneSharedJsonOption() {
		List<String> withJson = new ArrayList<>();
		collect(EtlCommand.commandLine(), withJson);

		assertThat(withJson).contains("etl jobs", "etl run", "etl executions", "etl status", "etl restart",
				"etl search", "etl backup list", "etl backup verify", "etl backup point", "etl backup drill",
				"etl archive list", "etl schedules list");
	}

	@Test
	void searchNamesTheStoresSeedDataMakes() {
		String store = String.join(" ", EtlCommand.commandLine().getSubcommands()
			.get("search")
			.getCommandSpec()
			.findOption("--store")
			.description());

		assertThat(store).contains(dev.pgbatch.seed.SeedDataJob.STORES);
	}

	/** A command built alone, as for a start that names it, is the command of the whole command line. */
	@Test
	void aNamedCommandIsBuiltAloneAsInTheWholeCommandLine() {
		CommandLine whole = EtlCommand.commandLine();
		for (String name : whole.getSubcommands().keySet()) {
			CommandLine alone = EtlCommand.commandLine(name, "--help");
			if (name.equals("help") || name.equals("full-jit-commands")) {
				// they read the other commands' definitions
				assertThat(alone.getSubcommands().keySet()).as(name).containsExactlyElementsOf(whole.getSubcommands().keySet());
			}
			else {
				assertThat(alone.getSubcommands().keySet()).as(name).containsExactly(name);
			}
			assertThat(alone.getSubcommands().get(name).getUsageMessage()).as(name)
				.isEqualTo(whole.getSubcommands().get(name).getUsageMessage());
		}
		// help, and the usage errors that name no command, list every command in help's order
		for (String[] arguments : List.of(new String[] { "--help" }, new String[] { "bogus" }, new String[0])) {
			assertThat(EtlCommand.commandLine(arguments).getSubcommands().keySet())
				.containsExactlyElementsOf(whole.getSubcommands().keySet());
		}
	}

	/**
	 * An argument that starts with @ is itself, not the arguments a file of that name holds (picocli's argument files,
	 * which the runner does not document): a search for "@home" run where a file home lies looks for "@home".
	 */
	@Test
	void anArgumentThatStartsWithAnAtIsNotReadAsAFileOfArguments(@TempDir Path directory) throws Exception {
		String text = "@" + Files.writeString(directory.resolve("home"), "--store\nredmond\nsomething else");
		String[] arguments = { "search", text, "--store", "seattle" };

		CommandLine.ParseResult parsed = EtlCommand.commandLine(arguments).parseArgs(arguments);

		SearchCommand search = (SearchCommand) parsed.subcommand().commandSpec().userObject();
		assertThat(search.text).isEqualTo(text);
		assertThat(search.store).isEqualTo("seattle");
	}

	private static void collect(CommandLine command, List<String> withJson) {
		OptionSpec json = command.getCommandSpec().findOption("--json");
		if (json != null) {
			assertThat(json.userObject()).as(command.getCommandSpec().qualifiedName())
				.isInstanceOf(java.lang.reflect.Field.class);
			assertThat(((java.lang.reflect.Field) json.userObject()).getDeclaringClass())
				.as(command.getCommandSpec().qualifiedName())
				.isEqualTo(JsonOption.class);
			withJson.add(command.getCommandSpec().qualifiedName());
		}
		command.getSubcommands().values().forEach(sub -> collect(sub, withJson));
	}

}
