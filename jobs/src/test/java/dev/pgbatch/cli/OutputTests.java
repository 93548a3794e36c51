package dev.pgbatch.cli;

import java.time.Instant;
import java.time.ZoneId;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OutputTests {

	@Test
	void everyTimeIsPrintedInIso8601ToTheSecondInUtcOrInTheZoneOfTheScheduleThatNamesIt() {
		Instant time = Instant.parse("2026-12-06T01:00:00.987654Z");

		assertThat(Output.time(time)).isEqualTo("2026-12-06T01:00:00Z");
		assertThat(Output.time(time, ZoneId.of("Europe/Paris"))).isEqualTo("2026-12-06T02:00:00+01:00");
		assertThat(Output.time(time, ZoneId.of("UTC"))).isEqualTo("2026-12-06T01:00:00Z");
		assertThat(Output.time(null)).isEqualTo("-");
	}

}
