package dev.pgbatch.backup;

import java.util.List;

import dev.pgbatch.core.JobDefinition;

/** The backup-drill job as the command line knows it: bin/etl backup drill, for schedules. */
public final class BackupDrillJob {

	public static final String NAME = "backup-drill";

	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"Restore drill to the newest restore point, as bin/etl backup drill does: pgBackRest restores the newest set that ended before it into a scratch cluster (ETL_PGBACKREST_DRILL_DIR), which replays to the point; every table's rows must equal the point's counts and pg_amcheck must find no corruption. Recorded in etl.restore_drill; the run fails when the drill does.",
			"a rerun or a restart drills again, to the newest point at that time", List.of());

	private BackupDrillJob() {
	}

}
