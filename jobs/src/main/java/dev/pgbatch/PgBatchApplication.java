package dev.pgbatch;

import java.time.ZoneOffset;
import java.util.TimeZone;

import dev.pgbatch.cli.Cli;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The runner. The command line ({@link Cli}) starts this context only for commands that need it. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PgBatchApplication {

	public static void main(String[] args) {
		// Spring Batch records its times as local times without a zone (LocalDateTime.now()): every runner (a
		// scheduler daemon, the operator's shell, CI) records and reads them in UTC, whatever TZ it was started with
		TimeZone.setDefault(TimeZone.getTimeZone(ZoneOffset.UTC));
		System.exit(Cli.execute(args));
	}

}
