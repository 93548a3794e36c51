package dev.pgbatch.cli;

import dev.pgbatch.PgBatchApplication;
import dev.pgbatch.core.DatabaseContext;
import dev.pgbatch.core.SchemaHistory;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationListener;
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

	/**
	 * Only what {@code context} declares (one built on {@link DatabaseContext}) when the database's schema is the
	 * runner's; otherwise the whole application, whose Flyway migrates it (or refuses) before the command goes on.
	 * {@code listeners} hear the first of these starts.
	 */
	static ConfigurableApplicationContext startOnly(Class<?> context, ApplicationListener<?>... listeners) {
		ConfigurableApplicationContext few = new SpringApplicationBuilder(context).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.listeners(listeners)
			.run();
		try {
			if (few.getBean(SchemaHistory.class).current()) {
				return few;
			}
		}
		catch (RuntimeException ex) {
			few.close();
			throw ex;
		}
		few.close();
		return start();
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
