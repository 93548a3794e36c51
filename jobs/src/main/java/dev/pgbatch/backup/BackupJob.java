package dev.pgbatch.backup;

import java.util.List;
import java.util.stream.Stream;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.core.SqlNames;

import org.springframework.batch.core.job.parameters.JobParameters;

/** The backup job as the command line knows it. */
public final class BackupJob {

	public static final String NAME = "backup";

	static final String TYPE = "type";

	/** pg_dump of one database, today's backup; the others are pgBackRest's physical backups of the cluster. */
	static final String LOGICAL = "logical";

	/** pgBackRest's physical backups of the cluster. */
	private static final List<String> PHYSICAL_TYPES = List.of("full", "diff", "incr");

	static final List<String> TYPES = Stream.concat(Stream.of(LOGICAL), PHYSICAL_TYPES.stream()).toList();

	/**
	 * The lock of the physical backups: they run beside a logical backup or a nightly (which hold the job's own lock,
	 * "backup"), so that neither keeps the cluster's backups and its recovery window from moving on; two at once
	 * are refused here as well as by pgBackRest's own lock of the stanza.
	 */
	public static final String PHYSICAL_LOCK = NAME + " physical";

	static final String DATABASE = "database";

	static final String KEEP_LAST = "keep-last";

	static final String KEEP_DAILY = "keep-daily";

	static final String KEEP_WEEKLY = "keep-weekly";

	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"pg_dump of a database streamed through zstd and encryption into the object store, with a manifest; then retention (keep-last, keep-daily, keep-weekly). type=full|diff|incr: pgBackRest's physical backup of the cluster, then its expire (ETL_PGBACKREST_RETENTION_FULL).",
			"a restart makes a new backup if the failed run had not finished one, then applies retention",
			List.of(ParameterDefinition.text(TYPE, "logical (pg_dump of one database) or a physical backup of the cluster by pgBackRest: full, diff or incr",
					LOGICAL, LOGICAL, value -> TYPES.contains(value) ? null : "must be logical, full, diff or incr"),
					ParameterDefinition.text(DATABASE, "the database to back up", "the database of ETL_DB_URL", "",
					// the name is checked before anything runs; whether the database exists, once connected
					value -> ((String) value).isEmpty() ? null : SqlNames.problemWithName((String) value)),
					ParameterDefinition.wholeNumber(KEEP_LAST, "keep the newest N backups", 7, 1, 10_000),
					ParameterDefinition.wholeNumber(KEEP_DAILY, "keep the newest backup of each of the last D days that have one", 7, 0, 10_000),
					ParameterDefinition.wholeNumber(KEEP_WEEKLY, "keep the newest backup of each of the last W ISO weeks that have one", 4, 0, 10_000),
					ParameterDefinition.dryRun("back up, but only list what retention would delete")))
		.streamingThroughEncryption(true)
		.lockedBy(parameters -> physical(NAME, parameters) ? PHYSICAL_LOCK : NAME);

	/** Whether the run's type is one of pgBackRest's physical backups (an unknown one is not: it is refused). */
	static boolean physical(String type) {
		return PHYSICAL_TYPES.contains(type);
	}

	/**
	 * Whether a run of {@code job} with these parameters is one of pgBackRest's physical backups (without a type it
	 * is logical, the default).
	 */
	public static boolean physical(String job, JobParameters parameters) {
		return NAME.equals(job) && physical(parameters.getString(TYPE, LOGICAL));
	}

	private BackupJob() {
	}

}
