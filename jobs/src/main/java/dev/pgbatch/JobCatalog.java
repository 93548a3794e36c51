package dev.pgbatch;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.archive.ArchiveJob;
import dev.pgbatch.backup.BackupDrillJob;
import dev.pgbatch.backup.BackupJob;
import dev.pgbatch.backup.BackupVerifyJob;
import dev.pgbatch.embed.EmbedProductsJob;
import dev.pgbatch.nightly.NightlyJob;
import dev.pgbatch.partition.PartitionRolloverJob;
import dev.pgbatch.refresh.RefreshViewsJob;
import dev.pgbatch.seed.SeedDataJob;

/** Every job the runner has, known without starting Spring so that bad input is refused at once. */
public final class JobCatalog {

	public static final List<JobDefinition> JOBS = List.of(SeedDataJob.DEFINITION, EmbedProductsJob.DEFINITION,
			PartitionRolloverJob.DEFINITION, ArchiveJob.DEFINITION, RefreshViewsJob.DEFINITION, BackupJob.DEFINITION,
			BackupVerifyJob.DEFINITION, BackupDrillJob.DEFINITION, NightlyJob.DEFINITION);

	private JobCatalog() {
	}

	public static JobDefinition get(String name) {
		return find(name).orElseThrow(() -> new UsageException("unknown job '" + name + "' (known: "
				+ JOBS.stream().map(JobDefinition::name).collect(Collectors.joining(", ")) + ")"));
	}

	public static Optional<JobDefinition> find(String name) {
		return JOBS.stream().filter(job -> job.name().equals(name)).findFirst();
	}

}
