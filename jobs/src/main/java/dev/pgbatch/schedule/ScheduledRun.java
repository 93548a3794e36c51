package dev.pgbatch.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.JobRunner;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.UsageException;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.InterruptableJob;
import org.quartz.JobDataMap;
import org.quartz.JobExecutionContext;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.beans.factory.annotation.Value;

/**
 * One firing of a schedule: runs its Spring Batch job in this scheduler thread. The firing's scheduled
 * time identifies the job instance (run.id, and the clock the parameters' defaults such as as-of are
 * taken from), so a firing that is fired again (a node recovering another's, a misfire handled twice)
 * finds its instance: completed, it is not run again; failed or cut short, it is continued where it
 * stopped ({@link JobRunner#continueOrStart}). Quartz keeps two firings of one schedule from overlapping, across the cluster.
 * <p>
 * A firing refused because its job is running (launched by hand, by another schedule, or by a node that is slow
 * but alive) is not dropped: it is tried again after ETL_SCHEDULER_RETRY_MS, for the same firing (same job
 * instance), through a one-shot trigger of the schedule. Under {@code misfire: fire-now} it is tried until it
 * runs or a later firing of the schedule takes its place; under {@code skip} only while it is not yet a misfire
 * (within the misfire threshold of its time), after which it is dropped, with a log line and a SKIPPED count.
 * A refusal is logged once per firing and reason, not at every retry (every ETL_SCHEDULER_RETRY_MS, for hours). A
 * physical backup (backup type=full|diff|incr) is refused only by another physical backup: it takes a lock of its
 * own ({@link dev.pgbatch.core.ExecutionLock#lockName}), and runs beside a nightly and its logical backup.
 */
@DisallowConcurrentExecution
class ScheduledRun implements InterruptableJob {

	/** Non-identifying job parameter naming the schedule that launched an execution. */
	static final String SCHEDULE_PARAMETER = "schedule";

	private static final String JOB = "job";

	private static final String TIME_ZONE = "time-zone";

	private static final String PARAMETER = "parameter.";

	private static final String MISFIRE = "misfire";

	/** Trigger data of a retry: the scheduled time of the firing it tries again, in epoch milliseconds. */
	static final String RETRY_OF = "retry-of";

	/** The retry trigger of a schedule is named after it; schedule names have no dot. */
	static final String RETRY_SUFFIX = ".retry";

	private static final Logger log = LoggerFactory.getLogger(ScheduledRun.class);

	/** Trigger data of a retry: the refusal last logged for its firing, said again only when it changes. */
	static final String REFUSED = "refused";

	private final JobRunner runner;

	private final JobRepository repository;

	private final ScheduleMetrics metrics;

	private final Duration retryDelay;

	private final Duration misfireThreshold;

	private volatile String jobName;

	private volatile JobParameters parameters;

	/** Set by {@link #interrupt} before it looks for the execution, which may not exist yet. */
	private volatile boolean interrupted;

	ScheduledRun(JobRunner runner, JobRepository repository, ScheduleMetrics metrics,
			@Value("${etl.scheduler.retry-ms}") long retryMillis,
			@Value("${spring.quartz.properties.org.quartz.jobStore.misfireThreshold}") long misfireThresholdMillis) {
		this.runner = runner;
		this.repository = repository;
		this.metrics = metrics;
		this.retryDelay = Duration.ofMillis(retryMillis);
		this.misfireThreshold = Duration.ofMillis(misfireThresholdMillis);
	}

	/** What the Quartz job of a schedule carries: text only, so the store needs no serialized Java objects. */
	static Map<String, String> data(Schedule schedule) {
		Map<String, String> data = new HashMap<>();
		data.put(JOB, schedule.job());
		data.put(TIME_ZONE, schedule.zone().getId());
		data.put(MISFIRE, schedule.misfire().text());
		schedule.parameters().forEach((name, value) -> data.put(PARAMETER + name, value));
		return data;
	}

	/** A stored schedule as its job carries it: its job, time zone, misfire policy and parameters. */
	static Schedules.State state(String name, JobDataMap data, String cron, String state, Instant next, Instant previous) {
		Map<String, String> parameters = new java.util.TreeMap<>();
		for (String key : data.getKeys()) {
			if (key.startsWith(PARAMETER)) {
				parameters.put(key.substring(PARAMETER.length()), data.getString(key));
			}
		}
		return new Schedules.State(name, data.getString(JOB), cron, data.getString(TIME_ZONE), policy(data).text(), state,
				next, previous, parameters);
	}

	@Override
	public void execute(JobExecutionContext context) {
		String schedule = context.getJobDetail().getKey().getName();
		JobDataMap data = context.getMergedJobDataMap();
		Instant firing = firing(context);
		String status;
		try {
			if (supersededRetry(context, schedule, firing)) {
				return;
			}
			// a retry that comes late (no node ran when it was due) is a missed firing like any other
			if (data.getString(RETRY_OF) != null && tooLate(data, firing, Instant.now())) {
				log.warn("Schedule {}: the retry of the firing of {} comes too late; dropped, as its misfire policy '{}' says",
						schedule, firing, MisfirePolicy.SKIP.text());
				this.metrics.ran(schedule, data.getString(JOB), "SKIPPED");
				return;
			}
			JobDefinition definition = JobCatalog.get(data.getString(JOB));
			JobParametersParser parser = new JobParametersParser(
					Clock.fixed(firing, ZoneId.of(data.getString(TIME_ZONE))));
			List<String> arguments = new ArrayList<>();
			for (String key : data.getKeys()) {
				if (key.startsWith(PARAMETER)) {
					arguments.add(key.substring(PARAMETER.length()) + "=" + data.getString(key));
				}
			}
			this.jobName = definition.name();
			this.parameters = new JobParametersBuilder(
					parser.toJobParameters(definition, parser.parse(definition, arguments)))
				.addString(SCHEDULE_PARAMETER, schedule, false)
				.toJobParameters();
			JobExecution previous = this.repository.getLastJobExecution(this.jobName, this.parameters);
			if (previous == null) {
				log.info("Schedule {}: firing of {} starts {}", schedule, firing, this.jobName);
			}
			else if (previous.getStatus() == BatchStatus.COMPLETED) {
				alreadyRan(schedule, firing, previous);
				return;
			}
			else {
				log.info("Schedule {}: the firing of {} was cut short (execution {}, {}); continuing it", schedule,
						firing, previous.getId(), previous.getStatus());
			}
			JobExecution execution = this.runner.continueOrStart(this.jobName, this.parameters, () -> this.interrupted);
			if (previous != null && previous.getId() == execution.getId()
					&& execution.getStatus() == BatchStatus.COMPLETED) {
				// the run it found cut short completed meanwhile, in the process that had it (a paused node resumed)
				alreadyRan(schedule, firing, execution);
				return;
			}
			status = execution.getStatus().name();
			if (execution.getStatus() == BatchStatus.COMPLETED) {
				log.info("Schedule {}: execution {} of {} COMPLETED", schedule, execution.getId(), this.jobName);
			}
			else {
				log.warn("Schedule {}: execution {} of {} ended {}: {}; continue it with: bin/etl restart {}", schedule,
						execution.getId(), this.jobName, execution.getStatus(),
						execution.getExitStatus().getExitDescription().lines().findFirst().orElse(""), execution.getId());
			}
		}
		catch (RefusedException ex) {
			status = retryLater(context, schedule, firing, ex);
		}
		catch (UsageException ex) {
			status = "REFUSED";
			log.warn("Schedule {}: the firing of {} was refused: {}", schedule, firing, ex.getMessage());
		}
		catch (RuntimeException ex) {
			status = "ERROR";
			log.error("Schedule {}: the firing of {} could not run: {}", schedule, firing, ex.getMessage());
		}
		this.metrics.ran(schedule, this.jobName == null ? data.getString(JOB) : this.jobName, status);
	}

	private static void alreadyRan(String schedule, Instant firing, JobExecution execution) {
		log.info("Schedule {}: the firing of {} already ran (execution {}, COMPLETED)", schedule, firing, execution.getId());
	}

	/**
	 * Schedules the one-shot retry of a refused firing (replacing an older one of the schedule: fire-now runs a
	 * missed firing once), unless the schedule skips misfires and the retry would come too late.
	 */
	private String retryLater(JobExecutionContext context, String schedule, Instant firing, RefusedException refusal) {
		Instant retry = Instant.now().plus(this.retryDelay);
		if (tooLate(context.getMergedJobDataMap(), firing, retry)) {
			log.warn("Schedule {}: the firing of {} was refused: {}; dropped, as its misfire policy '{}' says of a firing"
					+ " that late", schedule, firing, refusal.getMessage(), MisfirePolicy.SKIP.text());
			return "SKIPPED";
		}
		Trigger trigger = TriggerBuilder.newTrigger()
			.withIdentity(TriggerKey.triggerKey(schedule + RETRY_SUFFIX, Schedules.GROUP))
			.forJob(context.getJobDetail().getKey())
			.usingJobData(RETRY_OF, Long.toString(firing.toEpochMilli()))
			.usingJobData(REFUSED, refusal.getMessage())
			.startAt(Date.from(retry))
			.withSchedule(SimpleScheduleBuilder.simpleSchedule().withMisfireHandlingInstructionFireNow())
			.build();
		try {
			Scheduler scheduler = context.getScheduler();
			// this very trigger, when a retry is refused again: Quartz keeps a trigger rescheduled by its own job
			if (scheduler.checkExists(trigger.getKey())) {
				scheduler.rescheduleJob(trigger.getKey(), trigger);
			}
			else {
				scheduler.scheduleJob(trigger);
			}
			// paused while this firing ran (or triggered by hand while paused): its retry waits for the resume
			if (scheduler.getTriggerState(TriggerKey.triggerKey(schedule, Schedules.GROUP)) == Trigger.TriggerState.PAUSED) {
				scheduler.pauseTrigger(trigger.getKey());
			}
		}
		catch (SchedulerException ex) {
			log.error("Schedule {}: the firing of {} was refused: {}; and its retry could not be scheduled: {}", schedule,
					firing, refusal.getMessage(), ex.getMessage());
			return "REFUSED";
		}
		if (!refusal.getMessage().equals(context.getMergedJobDataMap().getString(REFUSED))) {
			log.warn("Schedule {}: the firing of {} was refused: {}; trying it again at {} and every {} ms after (misfire:"
					+ " {}; said once)", schedule, firing, refusal.getMessage(), retry, this.retryDelay.toMillis(),
					policy(context.getMergedJobDataMap()).text());
		}
		else {
			log.debug("Schedule {}: the firing of {} was refused again: {}", schedule, firing, refusal.getMessage());
		}
		return "DEFERRED";
	}

	/** Whether the firing, run at that time, would be a misfire that the schedule's policy skips. */
	private boolean tooLate(JobDataMap data, Instant firing, Instant at) {
		return policy(data) == MisfirePolicy.SKIP && at.isAfter(firing.plus(this.misfireThreshold));
	}

	private static MisfirePolicy policy(JobDataMap data) {
		String text = data.getString(MISFIRE);
		return (text == null) ? MisfirePolicy.FIRE_NOW : MisfirePolicy.of(text);
	}

	/** A retry whose schedule has fired since the firing it retries: that later firing took its place. */
	private static boolean supersededRetry(JobExecutionContext context, String schedule, Instant firing) {
		if (context.getMergedJobDataMap().getString(RETRY_OF) == null) {
			return false;
		}
		try {
			Trigger regular = context.getScheduler().getTrigger(TriggerKey.triggerKey(schedule, Schedules.GROUP));
			Date previous = (regular == null) ? null : regular.getPreviousFireTime();
			if (previous != null && previous.toInstant().isAfter(firing)) {
				log.info("Schedule {}: the retry of the firing of {} is dropped: the firing of {} came after it", schedule,
						firing, previous.toInstant());
				return true;
			}
			return false;
		}
		catch (SchedulerException ex) {
			return false;
		}
	}

	/**
	 * The scheduled time of the firing: for a retry, the refused firing's; for a firing recovered from a node
	 * that died, the original one's.
	 */
	private static Instant firing(JobExecutionContext context) {
		String retryOf = context.getMergedJobDataMap().getString(RETRY_OF);
		if (retryOf != null) {
			return Instant.ofEpochMilli(Long.parseLong(retryOf));
		}
		if (context.isRecovering()) {
			String original = context.getMergedJobDataMap()
				.getString(Scheduler.FAILED_JOB_ORIGINAL_TRIGGER_SCHEDULED_FIRETIME_IN_MILLISECONDS);
			if (original != null) {
				return Instant.ofEpochMilli(Long.parseLong(original));
			}
		}
		return context.getScheduledFireTime().toInstant();
	}

	/**
	 * The scheduler is shutting down: ask the execution to stop after its current chunk, so that it ends
	 * STOPPED and can be restarted, instead of being cut off mid-chunk. An execution not yet recorded (the
	 * firing is still taking its lock or validating) stops before its first step, through the flag.
	 */
	@Override
	public void interrupt() {
		this.interrupted = true;
		String job = this.jobName;
		JobParameters launched = this.parameters;
		if (job == null || launched == null) {
			return;
		}
		JobExecution execution = this.repository.getLastJobExecution(job, launched);
		if (execution != null && execution.getStatus().isRunning()) {
			log.info("Stopping execution {} of {}: the scheduler is shutting down", execution.getId(), job);
			try {
				this.runner.stop(execution.getId());
			}
			catch (RefusedException ex) {
				log.info("Execution {} of {}: {}", execution.getId(), job, ex.getMessage());
			}
		}
	}

}
