package dev.pgbatch.cli;

import dev.pgbatch.PgBatchApplication;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Starts the application context for the commands that need the database, after their input is checked. */
final class SpringRuntime {

	private SpringRuntime() {
	}

	static ConfigurableApplicationContext start() {
		return new SpringApplicationBuilder(PgBatchApplication.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run();
	}

	/** The scheduler daemon's context: with the loopback web server for health and metrics. */
	static ConfigurableApplicationContext startServing() {
		return new SpringApplicationBuilder(PgBatchApplication.class).logStartupInfo(false)
			// given as an argument: application.properties says none, and arguments come first
			.run("--spring.main.web-application-type=servlet");
	}

}
