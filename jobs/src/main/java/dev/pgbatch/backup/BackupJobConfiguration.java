package dev.pgbatch.backup;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.core.ProgressMonitor;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.crypto.KeysetProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/** backup: dump (pg_dump sealed into the object store, then its manifest), then retention. */
@Configuration(proxyBeanMethods = false)
class BackupJobConfiguration {

	private static final Logger log = LoggerFactory.getLogger(BackupJobConfiguration.class);

	static final String PHYSICAL_DATABASE = "database= is for type=logical: a physical backup (type=full, diff or incr) is of the whole cluster";

	/** A physical backup's own restore point is this followed by the set's label. */
	static final String POINT_PREFIX = "backup-";

	/** What holds the server's restore lock while an expire runs, as a drill refused meanwhile names it. */
	static final String RETENTION = "backup retention";

	static final String EXPIRE_SKIPPED = "skipped: a drill or backup restore --to reads the backup sets (the server's"
			+ " restore lock is held); the next physical backup's retention expires what is due";

	/**
	 * In a retention step's context: its expire ran (not a dry run, not skipped), which excuses a backup verify
	 * --physical it overlapped for the sets it removed (PhysicalVerify).
	 */
	static final String EXPIRE_RAN = "expire.ran";

	/** The id of the backup the run made, in the job's execution context. */
	private static final String MADE = "backup.made";

	@Bean
	Job backupJob(JobRepository jobRepository, PlatformTransactionManager transactionManager, BackupWriter writer,
			BackupCatalog catalog, PhysicalBackups physical, PhysicalCatalog physicalCatalog, BackupPoint point,
			KeysetProperties keyset, ProgressMonitor progress, ExecutionLock lock) {
		DatabaseLock databaseLock = new DatabaseLock(writer, lock);
		return new JobBuilder(BackupJob.NAME, jobRepository).listener(progress)
			.listener(databaseLock)
			.validator(parameters -> {
				if (BackupJob.physical(type(parameters))) {
					// the cluster is backed up, not one database
					if (!parameters.getString(BackupJob.DATABASE, "").isEmpty()) {
						throw new InvalidJobParametersException(PHYSICAL_DATABASE);
					}
					// pgBackRest encrypts with its own passphrase: no keyset needed
					return;
				}
				try {
					writer.checkedDatabase(parameters.getString(BackupJob.DATABASE, ""));
				}
				catch (IllegalArgumentException ex) {
					throw new InvalidJobParametersException(ex.getMessage());
				}
				// no key, no backup: refused before pg_dump starts or anything is uploaded
				keyset.load();
			})
			.start(step("dump", jobRepository, transactionManager, (parameters, step) -> {
				if (BackupJob.physical(type(parameters))) {
					physical.warnings().forEach(log::warn);
					// the same across restarts: a restart finds the set its killed execution's pgbackrest finished
					String run = parameters.getLong(JobParametersParser.RUN_ID, 0L) + "-"
							+ step.getJobExecution().getJobInstance().getInstanceId();
					PhysicalBackups.BackupSet made = physical.backup(type(parameters), run);
					summarize(step, made);
					// its own point, after the set ended: a restore to it can start from this set
					step.getExecutionContext()
						.putString("summary.point", point.make(POINT_PREFIX + made.label(), made.label()));
					log.info("physical backup {} ({}) complete: {} bytes in the repository", made.label(), made.type(),
							made.repositoryDeltaBytes());
					return;
				}
				BackupManifest made = writer.make(writer.checkedDatabase(parameters.getString(BackupJob.DATABASE, "")),
						databaseLock.watch(step.getJobExecution().getId()));
				// for retention, which keeps it whatever the numbers say (kept across a restart of the job)
				step.getJobExecution().getExecutionContext().putString(MADE, made.id());
				step.getExecutionContext()
					.putString("summary.backup", String.format(java.util.Locale.ROOT,
							"%s of %s: %d tables, %d rows, dump %d bytes, stored %d bytes", made.id(), made.database(),
							made.rowCounts().size(), made.rowCounts().values().stream().mapToLong(Long::longValue).sum(),
							made.dumpBytes(), made.storedBytes()));
				log.info("backup {} of {} complete: {} bytes stored", made.id(), made.database(), made.storedBytes());
			}))
			.next(step("retention", jobRepository, transactionManager, (parameters, step) -> {
				boolean dryRun = Boolean.TRUE.equals(parameters.getParameter(ParameterDefinition.DRY_RUN).value());
				if (BackupJob.physical(type(parameters))) {
					// a dry run removes nothing, and takes no lock
					PhysicalBackups.Expired expired = physical.expire(dryRun, physicalCatalog.covered(),
							physicalCatalog::held, () -> restoresApart(lock));
					if (expired == null) {
						step.getExecutionContext().putString("summary.retention", EXPIRE_SKIPPED);
						return;
					}
					if (!dryRun) {
						step.getExecutionContext().putString(EXPIRE_RAN, "true");
					}
					step.getExecutionContext()
						.putString("summary.retention", String.format(java.util.Locale.ROOT,
								"%s %d physical backup sets (%s); kept %d (the newest %d full backups and the sets that depend on them)",
								dryRun ? "would expire" : "expired", expired.labels().size(),
								String.join(", ", expired.labels()), expired.kept(), expired.keptFulls())
								+ (expired.verifiedFull() != null ? "; " + PhysicalBackups.KEPT_FOR_VERIFIED
									.formatted(expired.keptFulls(), physical.keepFull(), expired.verifiedFull()) : "")
								+ expired.held().stream().map(held -> "; " + held).collect(java.util.stream.Collectors.joining())
								+ (expired.everyDiff() ? "; " + PhysicalBackups.EVERY_DIFF_KEPT : ""));
					return;
				}
				String database = writer.checkedDatabase(parameters.getString(BackupJob.DATABASE, ""));
				BackupCatalog.Retained retained = catalog.retain(database,
						step.getJobExecution().getExecutionContext().getString(MADE), parameters.getLong(BackupJob.KEEP_LAST),
						parameters.getLong(BackupJob.KEEP_DAILY), parameters.getLong(BackupJob.KEEP_WEEKLY), dryRun);
				step.getExecutionContext()
					.putString("summary.retention", String.format(java.util.Locale.ROOT,
							"%s %d backups of %s (%s), %d abandoned uploads; kept %d; left %d of another cluster (or not known to be ours)",
							dryRun ? "would delete" : "deleted", retained.expired().size(), database,
							String.join(", ", retained.expired()), retained.abandoned(), retained.kept(), retained.notOurs()));
			}))
			.build();
	}

	/**
	 * The restore lock of the server ({@link RestoreLock}), taken for the length of one expire run: a drill or a backup
	 * restore --to reads a set, which an expire must not remove under it. Held by one, null: the expire is skipped this
	 * time (said), and the next physical backup's retention does it.
	 */
	private static PhysicalBackups.Apart.Release restoresApart(ExecutionLock lock) {
		try {
			return RestoreLock.hold(lock, RETENTION)::close;
		}
		catch (RefusedException ex) {
			log.warn("{}: {}", EXPIRE_SKIPPED, OneLine.of(ex.getMessage()));
			return null;
		}
	}

	private static String type(JobParameters parameters) {
		return parameters.getString(BackupJob.TYPE, BackupJob.LOGICAL);
	}

	/** The step summary of a physical backup: each figure under a key of its own, for --json. */
	private static void summarize(StepExecution step, PhysicalBackups.BackupSet made) {
		ExecutionContext context = step.getExecutionContext();
		context.putString("summary.backup", String.format(java.util.Locale.ROOT,
				"%s (%s%s): database %d bytes, this backup %d bytes (%d in the repository), WAL %s to %s", made.label(),
				made.type(), made.prior() == null ? "" : ", on " + made.prior(), made.databaseBytes(), made.deltaBytes(),
				made.repositoryDeltaBytes(), made.walStart(), made.walStop()));
		context.putString("summary.label", made.label());
		context.putString("summary.type", made.type());
		context.putString("summary.prior", made.prior() == null ? "" : made.prior());
		context.putLong("summary.database-bytes", made.databaseBytes());
		context.putLong("summary.delta-bytes", made.deltaBytes());
		context.putLong("summary.repository-bytes", made.repositoryBytes());
		context.putLong("summary.repository-delta-bytes", made.repositoryDeltaBytes());
		context.putString("summary.wal-start", made.walStart());
		context.putString("summary.wal-stop", made.walStop());
	}

	/**
	 * A lock in the backed-up database itself, held for the whole run: the job's own lock lives in the
	 * configured database, so two runners configured on different databases that both back up one would not
	 * see each other's; this one every runner takes in the same place. The second is refused, naming the first.
	 * Watched while it is held: when its session ends, the dump is stopped before its manifest (LockWatch). A
	 * logical backup's only: a physical one backs up the cluster, beside logical backups of its databases, and
	 * pgBackRest's lock of the stanza keeps two runners' physical backups apart.
	 */
	private static final class DatabaseLock implements JobExecutionListener {

		private final BackupWriter writer;

		private final ExecutionLock lock;

		private final Map<Long, ExecutionLock.Held> held = new ConcurrentHashMap<>();

		private final Map<Long, LockWatch> watches = new ConcurrentHashMap<>();

		DatabaseLock(BackupWriter writer, ExecutionLock lock) {
			this.writer = writer;
			this.lock = lock;
		}

		@Override
		public void beforeJob(JobExecution execution) {
			if (BackupJob.physical(type(execution.getJobParameters()))) {
				return;
			}
			String database = this.writer.checkedDatabase(execution.getJobParameters().getString(BackupJob.DATABASE, ""));
			String name = BackupJob.NAME + " of " + database;
			ExecutionLock.Held run = this.lock.acquire(name, database);
			this.held.put(execution.getId(), run);
			LockWatch watch = new LockWatch();
			watch.watch(run, name);
			this.watches.put(execution.getId(), watch);
		}

		/** The watch of the run's lock. */
		LockWatch watch(long executionId) {
			return this.watches.get(executionId);
		}

		@Override
		public void afterJob(JobExecution execution) {
			this.watches.remove(execution.getId());
			ExecutionLock.Held run = this.held.remove(execution.getId());
			if (run != null) {
				run.close();
			}
		}

	}

	/** The work of one step, given the run's parameters and the step (for its summary). */
	@FunctionalInterface
	private interface StepWork {

		void run(JobParameters parameters, StepExecution step) throws Exception;

	}

	private static Step step(String name, JobRepository jobRepository, PlatformTransactionManager transactionManager,
			StepWork work) {
		Tasklet tasklet = (contribution, chunk) -> {
			StepExecution execution = chunk.getStepContext().getStepExecution();
			work.run(execution.getJobParameters(), execution);
			return RepeatStatus.FINISHED;
		};
		return new StepBuilder(name, jobRepository).tasklet(tasklet, transactionManager).build();
	}

}
