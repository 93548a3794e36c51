package dev.pgbatch.cli;

import dev.pgbatch.JobCatalog;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

class JobsCommandTests {

	@Test
	void jobsJsonListsEveryJobWithItsDefaultsAsTextAndOnlyTheBoundsThatExist() {
		EtlProcess.Result listed = CliWithoutSpring.run("jobs", "--json");

		assertThat(listed.exitCode()).isZero();
		JsonNode jobs = JsonMapper.builder().build().readTree(listed.stdout());
		assertThat(jobs.findValuesAsString("name")).containsAll(JobCatalog.JOBS.stream().map(job -> job.name()).toList());
		// neither code (a default computed at launch, a check) nor an empty object stands in for it
		assertThat(jobs.findValues("defaultValue")).isEmpty();
		assertThat(jobs.findValues("check")).isEmpty();
		JsonNode scale = jobs.get(0).path("parameters").get(0);
		assertThat(scale.path("name").asString()).isEqualTo("scale");
		assertThat(scale.path("defaultText").asString()).isEqualTo("1");
		assertThat(scale.path("range").path("min").asDouble()).isEqualTo(0.01);
		assertThat(scale.path("range").path("max").asDouble()).isEqualTo(1000.0);
		JsonNode seed = jobs.get(0).path("parameters").get(1);
		assertThat(seed.path("name").asString()).isEqualTo("seed");
		assertThat(seed.has("range")).isFalse();
	}

}
