package dev.pgbatch.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ETL_*_FILE settings: a secret read from a file, as bin/stack env gives them. */
class SecretFilesTests {

	@TempDir
	Path directory;

	@Test
	void theFileGivesTheSecretWithoutItsFinalLineBreak() throws Exception {
		Path file = Files.writeString(this.directory.resolve("db-password"), "s3cr3t value\n");
		Path crlf = Files.writeString(this.directory.resolve("s3-secret"), "other\r\n");

		StandardEnvironment environment = environment(Map.of("spring.datasource.password", "",
				"etl.secret-file.db-password", file.toString(), "etl.secret-file.s3-secret-key", crlf.toString()));

		assertThat(environment.getProperty("spring.datasource.password")).isEqualTo("s3cr3t value");
		assertThat(environment.getProperty("etl.s3.secret-key")).isEqualTo("other");
		assertThat(environment.getProperty("etl.search.password")).isNull();
	}

	@Test
	void aValueAndAFileAtOnceAreRefused() throws Exception {
		Path file = Files.writeString(this.directory.resolve("db-password"), "from-the-file\n");

		assertThatThrownBy(() -> environment(
				Map.of("spring.datasource.password", "from-the-variable", "etl.secret-file.db-password", file.toString())))
			.isInstanceOf(UsageException.class)
			.hasMessage("ETL_DB_PASSWORD and ETL_DB_PASSWORD_FILE are both set: give the secret one way");
	}

	@Test
	void aMissingOrEmptyFileIsRefusedNamingTheSettingAndNeverTheContent() throws Exception {
		Path missing = this.directory.resolve("nothing-here");
		assertThatThrownBy(() -> environment(Map.of("etl.secret-file.search-password", missing.toString())))
			.isInstanceOf(UsageException.class)
			.hasMessage("ETL_SEARCH_PASSWORD_FILE: cannot read " + missing + " (NoSuchFileException)");

		Path empty = Files.writeString(this.directory.resolve("empty"), "\n");
		assertThatThrownBy(() -> environment(Map.of("etl.secret-file.search-password", empty.toString())))
			.isInstanceOf(UsageException.class)
			.hasMessage("ETL_SEARCH_PASSWORD_FILE: " + empty + " is empty");

		Path directoryInstead = Files.createDirectory(this.directory.resolve("a-directory"));
		assertThatThrownBy(() -> environment(Map.of("etl.secret-file.db-password", directoryInstead.toString())))
			.isInstanceOf(UsageException.class)
			.hasMessageStartingWith("ETL_DB_PASSWORD_FILE: cannot read " + directoryInstead);
	}

	private static StandardEnvironment environment(Map<String, Object> properties) {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources().addFirst(new MapPropertySource("test", new HashMap<>(properties)));
		SecretFiles.apply(environment);
		return environment;
	}

}
