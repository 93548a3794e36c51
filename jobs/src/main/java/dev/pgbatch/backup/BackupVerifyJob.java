package dev.pgbatch.backup;

import java.util.List;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.core.ParameterType;

/** The backup-verify job as the command line knows it: a check of the physical repository, for schedules. */
public final class BackupVerifyJob {

	public static final String NAME = "backup-verify";

	static final String PHYSICAL = "physical";

	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"pgBackRest's verify of the stanza's repository (ETL_PGBACKREST_CONFIG, ETL_PGBACKREST_STANZA): every WAL segment and backup file is read back and checked; the run fails naming what is not valid.",
			"a rerun or a restart verifies the whole repository again",
			List.of(new ParameterDefinition(PHYSICAL, ParameterType.BOOLEAN,
					"verify pgBackRest's repository (the only kind this job verifies; bin/etl backup verify ID verifies a logical backup)",
					"true", clock -> true,
					value -> Boolean.TRUE.equals(value) ? null : "must be true: this job verifies the physical repository")));

	private BackupVerifyJob() {
	}

}
