package dev.pgbatch.cli;

import java.util.concurrent.Callable;

import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.KeysetProperties;
import picocli.CommandLine.Command;

import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "keys", mixinStandardHelpOptions = true,
		description = "The keyset that encrypts backups and cold archives (ETL_BACKUP_KEYSET).",
		subcommands = { KeysCommand.Init.class, KeysCommand.Rotate.class })
class KeysCommand {

	@Command(name = "init", mixinStandardHelpOptions = true,
			description = "Write a new keyset, readable by its owner only; an existing one is never overwritten.")
	static class Init implements Callable<Integer> {

		@Override
		public Integer call() {
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				KeysetProperties keyset = context.getBean(KeysetProperties.class);
				Keyset made = Keyset.init(keyset.path());
				System.out.println("keyset written to " + keyset.path() + " (primary key id " + Keyset.shown(made.primaryKeyId())
						+ "); keep a copy of it apart from the backups: without it they cannot be read");
				return Cli.OK;
			}
		}

	}

	@Command(name = "rotate", mixinStandardHelpOptions = true,
			description = "Add a new primary key: new data is encrypted with it, older data still decrypts with the old keys.")
	static class Rotate implements Callable<Integer> {

		@Override
		public Integer call() {
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				KeysetProperties keyset = context.getBean(KeysetProperties.class);
				Keyset rotated = Keyset.rotate(keyset.path());
				System.out.println("new primary key id " + Keyset.shown(rotated.primaryKeyId()) + "; the keyset holds "
						+ rotated.size() + " keys; its safe copy reads nothing encrypted from now on: replace that copy with"
						+ " this file");
				return Cli.OK;
			}
		}

	}

}
