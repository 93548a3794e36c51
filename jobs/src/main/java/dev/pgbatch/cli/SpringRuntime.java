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

	/** With Quartz set up, on its job store; serving: the daemon, with the loopback web server for health and metrics. */
	static ConfigurableApplicationContext startScheduling(boolean serving) {
		// given as arguments, which come before application.properties
		return new SpringApplicationBuilder(PgBatchApplication.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run("--spring.autoconfigure.exclude=", "--etl.scheduler.enabled=true",
					"--spring.main.web-application-type=" + (serving ? "servlet" : "none"));
	}

}
