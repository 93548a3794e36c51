package dev.pgbatch;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * bin/stack env, as CI runs it: `eval "$(bin/stack env)"` traced with bash -x (as a CI log shows it) gives
 * the secrets as the files that hold them, never their values.
 */
class StackEnvIntegrationTests {

	private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

	@Test
	void aTracedEvalOfTheStacksEnvironmentShowsNoSecret() throws Exception {
		Path secrets = Path.of(System.getenv("ETL_STACK_DIR"), "secrets");
		List<String> values;
		try (Stream<Path> files = Files.list(secrets)) {
			values = files.filter(file -> !file.getFileName().toString().equals("pgpass"))
				.map(file -> read(file).strip())
				.toList();
		}
		assertThat(values).as("the stack's secrets").hasSizeGreaterThanOrEqualTo(3).allMatch(value -> value.length() >= 8);
		Process trace = new ProcessBuilder("bash", "-x", "-c", "eval \"$(bin/stack env)\" && env").directory(ROOT.toFile())
			.redirectErrorStream(true)
			.start();
		String output = new String(trace.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(trace.waitFor(60, TimeUnit.SECONDS)).isTrue();

		assertThat(trace.exitValue()).as(output).isZero();
		// the trace and the environment it made: the files are named, the settings are there
		assertThat(output).contains("PGPASSFILE=", "ETL_DB_PASSWORD_FILE=" + secrets.resolve("db-password"),
				"ETL_S3_SECRET_KEY_FILE=" + secrets.resolve("s3-secret"), "ETL_DB_URL=");
		assertThat(values).allSatisfy(value -> assertThat(output).doesNotContain(value));
	}

	private static String read(Path file) {
		try {
			return Files.readString(file);
		}
		catch (java.io.IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

}
