package dev.pgbatch.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.logging.LoggingApplicationListener;
import org.springframework.context.ApplicationListener;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * The secret settings given as files (ETL_DB_PASSWORD_FILE and the like): `bin/stack env` exports the files,
 * not the values, so that a shell traced with `bash -x` or a CI log never shows a secret. The file's content
 * (without its final line break) becomes the value of the setting, which the rest of the runner reads as
 * before. Setting both the value and its file is refused, as is a file that cannot be read; the messages
 * name the settings and the file, never the content. Runs once the environment is prepared and logging is
 * set up (a refusal is then one line of bin/etl's, not a stack trace of Spring's), before any bean exists.
 */
public class SecretFiles implements ApplicationListener<ApplicationEnvironmentPreparedEvent>, Ordered {

	static final String BOTH = "%s and %s are both set: give the secret one way";

	static final String UNREADABLE = "%s: cannot read %s (%s)";

	static final String EMPTY = "%s: %s is empty";

	/** A secret setting, its file setting, and the properties application.properties declares them as. */
	public record Secret(String setting, String property, String fileSetting, String fileProperty) {
	}

	public static final List<Secret> SECRETS = List.of(
			new Secret("ETL_DB_PASSWORD", "spring.datasource.password", "ETL_DB_PASSWORD_FILE",
					"etl.secret-file.db-password"),
			new Secret("ETL_S3_SECRET_KEY", "etl.s3.secret-key", "ETL_S3_SECRET_KEY_FILE",
					"etl.secret-file.s3-secret-key"),
			new Secret("ETL_SEARCH_PASSWORD", "etl.search.password", "ETL_SEARCH_PASSWORD_FILE",
					"etl.secret-file.search-password"));

	@Override
	public int getOrder() {
		return LoggingApplicationListener.DEFAULT_ORDER + 1;
	}

	@Override
	public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
		apply(event.getEnvironment());
	}

	static void apply(ConfigurableEnvironment environment) {
		Map<String, Object> values = new HashMap<>();
		for (Secret secret : SECRETS) {
			String file = environment.getProperty(secret.fileProperty(), "");
			if (file.isEmpty()) {
				continue;
			}
			if (!environment.getProperty(secret.property(), "").isEmpty()) {
				throw new UsageException(String.format(BOTH, secret.setting(), secret.fileSetting()));
			}
			values.put(secret.property(), read(secret.fileSetting(), Path.of(file)));
		}
		if (!values.isEmpty()) {
			environment.getPropertySources().addFirst(new MapPropertySource("secretFiles", values));
		}
	}

	/** The file's text without its final line break (files written by `echo` or an editor end with one). */
	static String read(String setting, Path file) {
		String text;
		try {
			text = Files.readString(file, StandardCharsets.UTF_8);
		}
		catch (IOException | RuntimeException ex) {
			throw new UsageException(String.format(UNREADABLE, setting, file, ex.getClass().getSimpleName()));
		}
		String value = text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
				: text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
		if (value.isEmpty()) {
			throw new UsageException(String.format(EMPTY, setting, file));
		}
		return value;
	}

}
