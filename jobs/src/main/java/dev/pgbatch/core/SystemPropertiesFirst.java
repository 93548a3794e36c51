package dev.pgbatch.core;

import java.util.HashMap;
import java.util.Map;

import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.logging.LoggingApplicationListener;
import org.springframework.context.ApplicationListener;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * One order for a setting given both ways, as {@link Settings#value} checks it: a system property (-DETL_X, as
 * ETL_JAVA_OPTS or a test gives it) before the environment variable. Spring resolves a placeholder ${ETL_X} in
 * that order, but a property whose relaxed name is the setting's own (etl.s3.bucket for ETL_S3_BUCKET) it binds
 * from the environment variable first, which system properties never match: Settings then checked one value and
 * the runner used the other. The ETL_* system properties are put ahead of the environment, under its mapping.
 */
class SystemPropertiesFirst implements ApplicationListener<ApplicationEnvironmentPreparedEvent>, Ordered {

	/** Spring Boot maps a source's names as the environment's only when its name ends so. */
	static final String NAME = "etlSystemProperties-" + StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME;

	@Override
	public int getOrder() {
		// before SecretFiles, which reads the secrets' properties
		return LoggingApplicationListener.DEFAULT_ORDER;
	}

	@Override
	public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
		apply(event.getEnvironment());
	}

	static void apply(ConfigurableEnvironment environment) {
		PropertySource<?> properties = environment.getPropertySources()
			.get(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME);
		if (!(properties instanceof EnumerablePropertySource<?> enumerable)
				|| environment.getPropertySources().get(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME) == null) {
			return;
		}
		Map<String, Object> settings = new HashMap<>();
		for (String name : enumerable.getPropertyNames()) {
			if (name.startsWith("ETL_")) {
				settings.put(name, enumerable.getProperty(name));
			}
		}
		if (!settings.isEmpty()) {
			environment.getPropertySources()
				.addBefore(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
						new SystemEnvironmentPropertySource(NAME, settings));
		}
	}

}
