package dev.pgbatch.nightly;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import dev.pgbatch.archive.ArchiveJob;
import dev.pgbatch.backup.BackupJob;
import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.partition.PartitionRolloverJob;
import dev.pgbatch.refresh.RefreshViewsJob;

import org.springframework.batch.core.job.parameters.JobParameters;

/** The nightly job as the command line knows it: the four maintenance jobs, one step each, in order. */
public final class NightlyJob {

	public static final String NAME = "nightly";


	/** The jobs nightly runs, in order; each is a step of the same name. */
	static final List<JobDefinition> CHILDREN = List.of(PartitionRolloverJob.DEFINITION, ArchiveJob.DEFINITION,
			RefreshViewsJob.DEFINITION, BackupJob.DEFINITION);

	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"Run " + CHILDREN.stream().map(JobDefinition::name).collect(Collectors.joining(", "))
					+ " in that order, each job as one step (an execution of its own, under its own lock); a failed job does not keep the later ones from running, and the run then ends FAILED. Then a restore point of its own (ETL_NIGHTLY_RESTORE_POINT).",
			"a second run runs every job again; a restart skips the completed steps and restarts each failed step's own execution of its job (which restarts as that job does)",
			List.of(ParameterDefinition.asOf("passed to the jobs that take it (partition-rollover, archive)"),
					ParameterDefinition.dryRun("passed to the jobs that take it: partition-rollover and archive change nothing, backup deletes no old backup"),
					ParameterDefinition.FORCE))
		.streamingThroughEncryption(CHILDREN.stream().anyMatch(JobDefinition::streamsThroughEncryption));

	private NightlyJob() {
	}

	/**
	 * The parameters a child job runs with, a function of the nightly's own: as-of and dry-run where the child
	 * takes them, the child's defaults as they were when the nightly was launched, and the nightly's run.id, so
	 * that each nightly instance has child instances of its own (JobStep keeps them for a restart).
	 */
	static JobParameters childParameters(JobDefinition child, JobParameters nightly) {
		Long runId = nightly.getLong(JobParametersParser.RUN_ID);
		if (runId == null) {
			throw new IllegalArgumentException("the nightly's parameters have no " + JobParametersParser.RUN_ID);
		}
		JobParametersParser launched = new JobParametersParser(Clock.fixed(Instant.ofEpochMilli(runId), ZoneOffset.UTC));
		Map<String, Object> values = launched.parse(child, List.of());
		for (String passed : List.of(ParameterDefinition.AS_OF, ParameterDefinition.DRY_RUN, ParameterDefinition.FORCE.name())) {
			if (values.containsKey(passed)) {
				values.put(passed, nightly.getParameter(passed).value());
			}
		}
		return launched.toJobParameters(child, values);
	}

}
