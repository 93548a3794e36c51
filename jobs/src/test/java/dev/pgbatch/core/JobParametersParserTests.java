package dev.pgbatch.core;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.seed.SeedDataJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.batch.core.job.parameters.JobParameters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JobParametersParserTests {

	private final JobParametersParser parser = new JobParametersParser(
			Clock.fixed(Instant.parse("2026-03-04T05:06:07Z"), ZoneOffset.UTC));

	private final JobDefinition seed = SeedDataJob.DEFINITION;

	@Test
	void defaultsAreAppliedAndTodayIsFixedAtLaunch() {
		Map<String, Object> values = this.parser.parse(this.seed, List.of());
		assertThat(values).containsEntry("scale", 1.0)
			.containsEntry("seed", 42L)
			.containsEntry("as-of", LocalDate.of(2026, 3, 4))
			.containsEntry("reset", false);
	}

	@Test
	void givenValuesAreTypedAndEveryLaunchGetsItsOwnRunId() {
		Map<String, Object> values = this.parser.parse(this.seed,
				List.of("scale=0.5", "seed=7", "as-of=2025-12-31", "reset=true"));
		JobParameters parameters = this.parser.toJobParameters(this.seed, values);
		assertThat(parameters.getDouble("scale")).isEqualTo(0.5);
		assertThat(parameters.getLong("seed")).isEqualTo(7L);
		assertThat(parameters.getLocalDate("as-of")).isEqualTo(LocalDate.of(2025, 12, 31));
		assertThat(parameters.getParameter("reset").value()).isEqualTo(true);
		assertThat(parameters.getLong(JobParametersParser.RUN_ID)).isEqualTo(Instant.parse("2026-03-04T05:06:07Z").toEpochMilli());
	}

	@Test
	void aParameterForAJobThatTakesNoneIsRefusedSayingSo() {
		assertThatThrownBy(() -> this.parser.parse(JobCatalog.get("backup-drill"), List.of("to=x")))
			.isInstanceOf(UsageException.class)
			.hasMessage("unknown parameter 'to' for job backup-drill (it takes none)");
	}

	/** Today is 2026-03-04: one year each side is accepted, beyond only with force=true, for every job's dates. */
	@ParameterizedTest
	@ValueSource(strings = { "seed-data", "partition-rollover", "archive", "nightly" })
	void anAsOfMoreThanAYearFromTodayNeedsForce(String name) {
		JobDefinition job = JobCatalog.get(name);
		assertThat(this.parser.parse(job, List.of("as-of=2027-03-04"))).containsEntry("as-of", LocalDate.of(2027, 3, 4));
		assertThat(this.parser.parse(job, List.of("as-of=2025-03-04"))).containsEntry("as-of", LocalDate.of(2025, 3, 4));
		assertThatThrownBy(() -> this.parser.parse(job, List.of("as-of=2027-03-05"))).isInstanceOf(UsageException.class)
			.hasMessage("as-of: 2027-03-05 is more than a year from today (2026-03-04); give force=true if that is meant");
		assertThatThrownBy(() -> this.parser.parse(job, List.of("as-of=2099-01-01", "force=false")))
			.isInstanceOf(UsageException.class)
			.hasMessageContaining("give force=true");
		assertThatThrownBy(() -> this.parser.parse(job, List.of("as-of=2025-03-03"))).isInstanceOf(UsageException.class);
		assertThat(this.parser.parse(job, List.of("as-of=2099-01-01", "force=true"))).containsEntry("as-of",
				LocalDate.of(2099, 1, 1));
	}

	@ParameterizedTest
	@ValueSource(strings = { "+999999-01-01", "99999-01-01", "2026-02-30", "26-01-01", "2026-1-1" })
	void aDateIsAFourDigitYearAndARealDay(String date) {
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("as-of=" + date, "force=true")))
			.isInstanceOf(UsageException.class)
			.hasMessage("as-of: '" + date + "' is not a date (YYYY-MM-DD)");
	}

	@Test
	void anUnknownParameterIsNamedWithTheKnownOnes() {
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("scael=2"))).isInstanceOf(UsageException.class)
			.hasMessage("unknown parameter 'scael' for job seed-data (known: scale, seed, as-of, reset, force, analyze)");
	}

	@Test
	void aScaleThatIsNotANumberIsRefused() {
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("scale=abc"))).isInstanceOf(UsageException.class)
			.hasMessage("scale: 'abc' is not a number");
	}

	@Test
	void aScaleOutsideItsRangeIsRefused() {
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("scale=0"))).isInstanceOf(UsageException.class)
			.hasMessage("scale: must be between 0.01 and 1000, got 0");
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("scale=-3"))).isInstanceOf(UsageException.class)
			.hasMessageContaining("got -3");
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("scale=NaN"))).isInstanceOf(UsageException.class);
	}

	@Test
	void malformedAndRepeatedArgumentsAreRefused() {
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("scale"))).isInstanceOf(UsageException.class)
			.hasMessageContaining("name=value");
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("seed=1", "seed=2")))
			.isInstanceOf(UsageException.class)
			.hasMessage("parameter 'seed' is given twice");
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("as-of=yesterday")))
			.hasMessage("as-of: 'yesterday' is not a date (YYYY-MM-DD)");
		assertThatThrownBy(() -> this.parser.parse(this.seed, List.of("reset=maybe")))
			.hasMessage("reset: 'maybe' is not true or false");
	}

}
