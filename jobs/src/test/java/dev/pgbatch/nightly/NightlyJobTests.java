package dev.pgbatch.nightly;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import dev.pgbatch.archive.ArchiveJob;
import dev.pgbatch.backup.BackupJob;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.partition.PartitionRolloverJob;
import dev.pgbatch.refresh.RefreshViewsJob;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.job.parameters.JobParameter;
import org.springframework.batch.core.job.parameters.JobParameters;

import static org.assertj.core.api.Assertions.assertThat;

class NightlyJobTests {

	/** 2026-11-23T23:30:00Z: the nightly's launch, and so its run.id. */
	private static final Instant LAUNCHED = Instant.parse("2026-11-23T23:30:00Z");

	private final JobParametersParser parser = new JobParametersParser(Clock.fixed(LAUNCHED, ZoneOffset.UTC));

	@Test
	void asOfAndDryRunPassToTheChildrenThatTakeThemAndTheRestAreTheChildrensDefaults() {
		JobParameters nightly = nightly("as-of=2026-06-30", "dry-run=true");

		JobParameters rollover = NightlyJob.childParameters(PartitionRolloverJob.DEFINITION, nightly);
		assertThat(rollover.getLocalDate("as-of")).isEqualTo(LocalDate.of(2026, 6, 30));
		assertThat(rollover.getParameter("dry-run").value()).isEqualTo(true);
		assertThat(rollover.getString("table")).isEmpty();
		assertThat(NightlyJob.childParameters(ArchiveJob.DEFINITION, nightly).getLocalDate("as-of"))
			.isEqualTo(LocalDate.of(2026, 6, 30));
		JobParameters backup = NightlyJob.childParameters(BackupJob.DEFINITION, nightly);
		assertThat(backup.getParameter("dry-run").value()).isEqualTo(true);
		assertThat(backup.getLong("keep-last")).isEqualTo(7);
		assertThat(backup.getParameter("as-of")).isNull();
		assertThat(NightlyJob.childParameters(RefreshViewsJob.DEFINITION, nightly).parameters().stream()
			.map(JobParameter::name)).containsExactlyInAnyOrder("views", "schema", "run.id");
	}

	@Test
	void aChildsParametersAreAFunctionOfTheNightlysAndItsRunIdIsTheNightlys() {
		JobParameters nightly = nightly();
		assertThat(nightly.getLocalDate("as-of")).isEqualTo(LocalDate.of(2026, 11, 23));

		JobParameters archive = NightlyJob.childParameters(ArchiveJob.DEFINITION, nightly);

		assertThat(archive.getLong("run.id")).isEqualTo(LAUNCHED.toEpochMilli());
		assertThat(archive.getLocalDate("as-of")).isEqualTo(LocalDate.of(2026, 11, 23));
		assertThat(archive.getParameter("dry-run").value()).isEqualTo(false);
		assertThat(values(NightlyJob.childParameters(ArchiveJob.DEFINITION, nightly))).isEqualTo(values(archive));
		// another nightly, a millisecond later, has child instances of its own
		JobParameters later = new JobParametersParser(Clock.fixed(LAUNCHED.plusMillis(1), ZoneOffset.UTC))
			.toJobParameters(NightlyJob.DEFINITION, this.parser.parse(NightlyJob.DEFINITION, List.of()));
		assertThat(NightlyJob.childParameters(ArchiveJob.DEFINITION, later).getLong("run.id"))
			.isEqualTo(LAUNCHED.toEpochMilli() + 1);
	}

	@Test
	void theNightlyTakesAsOfDryRunAndForceAndRunsTheFourJobsInOrder() {
		assertThat(NightlyJob.DEFINITION.parameters().stream().map(parameter -> parameter.name())).containsExactly("as-of",
				"dry-run", "force");
		assertThat(NightlyJob.CHILDREN.stream().map(child -> child.name())).containsExactly("partition-rollover",
				"archive", "refresh-views", "backup");
	}

	/** Spring Batch's JobParameter equals compares names only. */
	private static Map<String, Object> values(JobParameters parameters) {
		return parameters.parameters().stream().collect(Collectors.toMap(JobParameter::name, JobParameter::value));
	}

	private JobParameters nightly(String... arguments) {
		Map<String, Object> values = this.parser.parse(NightlyJob.DEFINITION, List.of(arguments));
		return this.parser.toJobParameters(NightlyJob.DEFINITION, values);
	}

}
