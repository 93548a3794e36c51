package dev.pgbatch.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;

import dev.pgbatch.DeclaredSettings;
import org.junit.jupiter.api.Test;

import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertiesPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

class SystemPropertiesFirstTests {

	/**
	 * Settings checks -DETL_X before the environment's ETL_X: every property of application.properties must take
	 * its value in that order too. Spring resolved ${ETL_X} so, but bound a property whose relaxed name is ETL_X
	 * (etl.s3.bucket, etl.scheduler.retry-ms, ...) from the environment first: given both ways, Settings checked
	 * one value and the runner used the other.
	 */
	@Test
	void aSettingGivenBothAsASystemPropertyAndInTheEnvironmentIsTakenFromTheSystemPropertyByEveryProperty()
			throws IOException {
		Properties application = new Properties();
		try (InputStream in = SystemPropertiesFirstTests.class.getResourceAsStream("/application.properties")) {
			application.load(in);
		}
		Map<String, Object> properties = new HashMap<>();
		Map<String, Object> variables = new HashMap<>();
		for (DeclaredSettings.Setting setting : DeclaredSettings.read()) {
			properties.put(setting.name(), "from-property");
			variables.put(setting.name(), "from-environment");
		}
		StandardEnvironment both = environment(application, properties, variables);
		StandardEnvironment propertiesOnly = environment(application, properties, Map.of());
		Map<String, String> differing = new TreeMap<>();
		for (String key : application.stringPropertyNames()) {
			String taken = both.getProperty(key);
			if (!Objects.equals(taken, propertiesOnly.getProperty(key))) {
				differing.put(key, taken);
			}
		}
		assertThat(differing).as("properties taken from the environment over the system property").isEmpty();
		assertThat(both.getProperty("etl.s3.bucket")).isEqualTo("from-property");
	}

	/** An environment as the runner's is prepared: system properties, the environment, application.properties. */
	private static StandardEnvironment environment(Properties application, Map<String, Object> properties,
			Map<String, Object> variables) {
		StandardEnvironment environment = new StandardEnvironment();
		MutablePropertySources sources = environment.getPropertySources();
		sources.replace(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME,
				new MapPropertySource(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME, properties));
		sources.replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, new SystemEnvironmentPropertySource(
				StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables));
		sources.addLast(new PropertiesPropertySource("application.properties", application));
		ConfigurationPropertySources.attach(environment);
		SystemPropertiesFirst.apply(environment);
		return environment;
	}

}
