package dev.pgbatch.partition;

import java.util.List;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;

/** The partition-rollover job as the command line knows it. */
public final class PartitionRolloverJob {

	public static final String NAME = "partition-rollover";



	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"Create the partitions of the managed tables up to as-of + premake, and move rows out of their default partitions.",
			"a second run changes nothing; a restart continues from the last committed change",
			List.of(ParameterDefinition.asOf("the day partitions are made ahead of"),
					ParameterDefinition.dryRun("report what would be done, change nothing"),
					ParameterDefinition.FORCE,
					ParameterDefinition.table("only this managed table (schema.table)", "all managed tables")));

	private PartitionRolloverJob() {
	}

}
