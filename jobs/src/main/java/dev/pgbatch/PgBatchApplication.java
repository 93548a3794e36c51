package dev.pgbatch;

import java.time.ZoneOffset;
import java.util.TimeZone;

import dev.pgbatch.cli.Cli;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.event.EventListener;

/** The runner. The command line ({@link Cli}) starts this context only for commands that need it. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PgBatchApplication {

	private static final Logger log = LoggerFactory.getLogger(PgBatchApplication.class);

	public static void main(String[] args) {
		// Spring Batch records its times as local times without a zone (LocalDateTime.now()): every runner (a
		// scheduler daemon, the operator's shell, CI) records and reads them in UTC, whatever TZ it was started with
		TimeZone.setDefault(TimeZone.getTimeZone(ZoneOffset.UTC));
		System.exit(Cli.execute(args));
	}

	/** Once the context is up (its logging is, to stderr, where the command's output is not). */
	@EventListener(ApplicationStartedEvent.class)
	void sayRemovedSettings() {
		Settings.removed(Settings::value).forEach(log::warn);
	}

}
