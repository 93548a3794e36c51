package dev.pgbatch;

import dev.pgbatch.cli.Cli;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The runner. The command line ({@link Cli}) starts this context only for commands that need it. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PgBatchApplication {

	public static void main(String[] args) {
		System.exit(Cli.execute(args));
	}

}
