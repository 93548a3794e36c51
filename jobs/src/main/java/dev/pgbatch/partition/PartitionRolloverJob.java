package dev.pgbatch.partition;

import java.util.List;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;

/** The partition-rollover job as the command line knows it. */
public final class PartitionRolloverJob {

	public static final String NAME = "partition-rollover";

	static final String AS_OF = "as-of";

	static final String DRY_RUN = "dry-run";

	static final String TABLE = "table";

	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"Create the partitions of the managed tables up to as-of + premake, and move rows out of their default partitions.",
			"a second run changes nothing; a restart continues from the last committed change",
			List.of(ParameterDefinition.dateDefaultingToToday(AS_OF, "the day partitions are made ahead of"),
					ParameterDefinition.flag(DRY_RUN, "report what would be done, change nothing", false),
					ParameterDefinition.FORCE,
					ParameterDefinition.text(TABLE, "only this managed table (schema.table)", "all managed tables", "",
							ParameterDefinition.Check.NONE)));

	private PartitionRolloverJob() {
	}

}
