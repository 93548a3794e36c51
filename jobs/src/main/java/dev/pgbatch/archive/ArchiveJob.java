package dev.pgbatch.archive;

import java.util.List;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;

/** The archive job as the command line knows it. */
public final class ArchiveJob {

	public static final String NAME = "archive";



	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"Move partitions past their hot window to the warm tablespace, export those past their warm window to the object store (encrypted, verified) before dropping them, and move old sales transactions to the archive tables.",
			"a second run changes nothing; a restart continues with the partition it was on, which is still in PostgreSQL until its object is verified",
			List.of(ParameterDefinition.asOf("the day the windows count back from"),
					ParameterDefinition.dryRun("report what would move, change nothing"),
					ParameterDefinition.FORCE,
					ParameterDefinition.table("only this managed table (schema.table), or retail.sales_transactions for the row-wise archive only",
							"all managed tables and the row-wise archive")))
		.streamingThroughEncryption(true);

	private ArchiveJob() {
	}

}
