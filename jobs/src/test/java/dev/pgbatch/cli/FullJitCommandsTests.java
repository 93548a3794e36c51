package dev.pgbatch.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.core.JobDefinition;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FullJitCommandsTests {

	@Test
	void theCommandsThatStreamThroughEncryptionAreListedFromTheJobsAndTheCommandsThemselves() {
		EtlProcess.Result listed = CliWithoutSpring.run("full-jit-commands");

		assertThat(listed.exitCode()).isZero();
		assertThat(listed.stdout().lines()).containsExactlyInAnyOrder("run archive", "run backup", "run nightly",
				"backup verify", "backup restore", "archive restore", "scheduler");
	}

	@Test
	void aBadSettingDoesNotLoseTheList() {
		String before = System.getProperty("ETL_DB_POOL_SIZE");
		System.setProperty("ETL_DB_POOL_SIZE", "many");
		try {
			EtlProcess.Result listed = CliWithoutSpring.run("full-jit-commands");

			assertThat(listed.exitCode()).isZero();
			assertThat(listed.stdout().lines()).contains("run backup");
		}
		finally {
			if (before == null) {
				System.clearProperty("ETL_DB_POOL_SIZE");
			}
			else {
				System.setProperty("ETL_DB_POOL_SIZE", before);
			}
		}
	}

	@Test
	void binEtlNamesNoJobOfItsOwn() throws Exception {
		List<String> code = Files.readAllLines(Path.of("..", "bin", "etl"))
			.stream()
			.filter(line -> !line.strip().startsWith("#"))
			.toList();

		for (JobDefinition job : JobCatalog.JOBS) {
			Pattern named = Pattern.compile("(^|[^\\w-])" + Pattern.quote(job.name()) + "([^\\w-]|$)");
			assertThat(code).as(job.name()).noneMatch(line -> named.matcher(line).find());
		}
	}

}
