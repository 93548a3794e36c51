package dev.pgbatch.cli;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import static org.assertj.core.api.Assertions.assertThat;

class EtlCommandTests {

	@Test
	void everyCommandThatPrintsJsonTakesTheOneSharedJsonOption() {
		List<String> withJson = new ArrayList<>();
		collect(new CommandLine(new EtlCommand()), withJson);

		assertThat(withJson).contains("etl jobs", "etl run", "etl executions", "etl status", "etl restart",
				"etl search", "etl backup list", "etl backup verify", "etl backup point", "etl backup drill",
				"etl archive list", "etl schedules list");
	}

	@Test
	void searchNamesTheStoresSeedDataMakes() {
		String store = String.join(" ", new CommandLine(new EtlCommand()).getSubcommands()
			.get("search")
			.getCommandSpec()
			.findOption("--store")
			.description());

		assertThat(store).contains(dev.pgbatch.seed.SeedDataJob.STORES);
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
