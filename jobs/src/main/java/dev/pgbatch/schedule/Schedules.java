package dev.pgbatch.schedule;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TimeZone;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import dev.pgbatch.core.UsageException;
import org.quartz.CronTrigger;
import org.quartz.JobBuilder;
import org.quartz.JobDataMap;
import org.quartz.JobDetail;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.impl.matchers.GroupMatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.quartz.autoconfigure.QuartzDataSource;
import org.springframework.boot.quartz.autoconfigure.QuartzTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The schedules in Quartz's job store: one durable Quartz job and one cron trigger per schedule, both
 * named after it. The files say what is scheduled; the store keeps the state (paused, next and previous
 * firing), which survives restarts of the scheduler and is shared by every node of the cluster.
 */
@Component
@ConditionalOnProperty(name = "etl.scheduler.enabled", havingValue = "true")
public class Schedules {

	static final String GROUP = "pgbatch";

	private static final Logger log = LoggerFactory.getLogger(Schedules.class);

	private final Scheduler scheduler;

	private final TransactionTemplate transaction;

	private final JdbcTemplate jdbc;

	/** On Quartz's own connections, so that its changes and the lock that orders the nodes share a transaction. */
	Schedules(Scheduler scheduler, @QuartzTransactionManager PlatformTransactionManager transactionManager,
			@QuartzDataSource DataSource quartzDataSource) {
		this.scheduler = scheduler;
		this.transaction = new TransactionTemplate(transactionManager);
		this.jdbc = new JdbcTemplate(quartzDataSource);
	}

	/**
	 * Brings the store in line with the files: new schedules added, changed ones replaced (a paused one stays
	 * paused). An unchanged trigger is left alone, so that a firing missed while no scheduler ran is still seen
	 * as missed. Stored schedules that no file enables are removed only when {@code removing} (bin/etl schedules
	 * apply): a node with a wrong or partial directory must not delete the cluster's schedules, so the scheduler
	 * only warns about them. Nodes starting together take turns. Returns what was (or, removing aside, would
	 * be) changed.
	 */
	public Difference apply(List<Schedule> schedules, boolean removing) {
		return this.transaction.execute(status -> {
			this.jdbc.queryForObject("SELECT pg_advisory_xact_lock(hashtext('pgbatch.schedules'))::text", String.class);
			try {
				Difference difference = difference(schedules);
				for (Schedule schedule : schedules) {
					if (schedule.enabled()) {
						store(schedule);
					}
				}
				for (String name : difference.removed()) {
					if (removing) {
						this.scheduler.deleteJob(JobKey.jobKey(name, GROUP));
						log.info("Schedule {} removed (no longer in the files, or disabled)", name);
					}
					else {
						log.warn("Schedule {} is stored but no schedule file here enables it: kept (bin/etl schedules apply removes it)",
								name);
					}
				}
				notifyNodes();
				return difference;
			}
			catch (SchedulerException ex) {
				throw new IllegalStateException("the schedules could not be stored: " + ex.getMessage(), ex);
			}
		});
	}

	/** What {@link #apply} with removing would change in the store; changes nothing. */
	public Difference difference(List<Schedule> schedules) {
		try {
			List<String> added = new ArrayList<>();
			List<String> changed = new ArrayList<>();
			for (Schedule schedule : schedules) {
				if (!schedule.enabled()) {
					continue;
				}
				JobDetail stored = this.scheduler.getJobDetail(JobKey.jobKey(schedule.name(), GROUP));
				if (stored == null) {
					added.add(schedule.name());
				}
				else if (jobDiffers(stored, jobDetail(schedule))
						|| triggerDiffers(this.scheduler.getTrigger(TriggerKey.triggerKey(schedule.name(), GROUP)), trigger(schedule))) {
					changed.add(schedule.name());
				}
			}
			Set<String> wanted = schedules.stream().filter(Schedule::enabled).map(Schedule::name).collect(Collectors.toSet());
			List<String> removed = this.scheduler.getJobKeys(GroupMatcher.jobGroupEquals(GROUP))
				.stream()
				.map(JobKey::getName)
				.filter(name -> !wanted.contains(name))
				.sorted()
				.toList();
			return new Difference(added, changed, removed);
		}
		catch (SchedulerException ex) {
			throw new IllegalStateException("the job store could not be read: " + ex.getMessage(), ex);
		}
	}

	private void store(Schedule schedule) throws SchedulerException {
		JobKey jobKey = JobKey.jobKey(schedule.name(), GROUP);
		TriggerKey triggerKey = TriggerKey.triggerKey(schedule.name(), GROUP);
		JobDetail wanted = jobDetail(schedule);
		JobDetail stored = this.scheduler.getJobDetail(jobKey);
		if (stored == null || jobDiffers(stored, wanted)) {
			this.scheduler.addJob(wanted, true);
		}
		CronTrigger trigger = trigger(schedule);
		Trigger current = this.scheduler.getTrigger(triggerKey);
		if (current == null) {
			this.scheduler.scheduleJob(trigger);
			log.info("Schedule {} added: {} at '{}' {}", schedule.name(), schedule.job(), schedule.cron(), schedule.zone());
		}
		else if (triggerDiffers(current, trigger)) {
			boolean paused = this.scheduler.getTriggerState(triggerKey) == Trigger.TriggerState.PAUSED;
			this.scheduler.rescheduleJob(triggerKey, trigger);
			if (paused) {
				this.scheduler.pauseTrigger(triggerKey);
			}
			log.info("Schedule {} changed: {} at '{}' {}{}", schedule.name(), schedule.job(), schedule.cron(),
					schedule.zone(), paused ? " (still paused)" : "");
		}
	}

	private static JobDetail jobDetail(Schedule schedule) {
		return JobBuilder.newJob(ScheduledRun.class)
			.withIdentity(JobKey.jobKey(schedule.name(), GROUP))
			.withDescription(schedule.source())
			.usingJobData(new JobDataMap(ScheduledRun.data(schedule)))
			.storeDurably()
			// a node that dies while it runs the job: another node fires it again for the same firing
			.requestRecovery()
			.build();
	}

	private static CronTrigger trigger(Schedule schedule) {
		return TriggerBuilder.newTrigger()
			.withIdentity(TriggerKey.triggerKey(schedule.name(), GROUP))
			.forJob(JobKey.jobKey(schedule.name(), GROUP))
			.withSchedule(new WallClockCronTrigger.Schedule(schedule.cron(), TimeZone.getTimeZone(schedule.zone()),
					schedule.misfire().cronInstruction()))
			.build();
	}

	private static boolean jobDiffers(JobDetail stored, JobDetail wanted) {
		return !Objects.equals(Map.copyOf(stored.getJobDataMap().getWrappedMap()),
				Map.copyOf(wanted.getJobDataMap().getWrappedMap()));
	}

	/** A plain cron trigger stored before wall-clock triggers differs too. */
	private static boolean triggerDiffers(Trigger current, CronTrigger wanted) {
		return !(current instanceof WallClockCronTrigger cron) || !cron.getCronExpression().equals(wanted.getCronExpression())
				|| !cron.getTimeZone().getID().equals(wanted.getTimeZone().getID())
				|| cron.getMisfireInstruction() != wanted.getMisfireInstruction();
	}

	/** Every schedule of the files with its state in the store. */
	/**
	 * The cluster's schedules as stored (what the nodes fire, whatever this node's files say), then those of
	 * the files here that are not stored: DISABLED, or NOT STORED (no scheduler has started on them and no
	 * schedules apply has run since they were written).
	 */
	public List<State> list(List<Schedule> files) {
		try {
			List<State> states = new ArrayList<>();
			List<String> stored = this.scheduler.getJobKeys(GroupMatcher.jobGroupEquals(GROUP)).stream()
				.map(JobKey::getName).sorted().toList();
			for (String name : stored) {
				JobDetail job = this.scheduler.getJobDetail(JobKey.jobKey(name, GROUP));
				Trigger trigger = this.scheduler.getTrigger(TriggerKey.triggerKey(name, GROUP));
				if (job == null) {
					continue; // removed since the keys were read
				}
				states.add(ScheduledRun.state(name, job.getJobDataMap(),
						(trigger instanceof CronTrigger cron) ? cron.getCronExpression() : "",
						(trigger == null) ? "NO TRIGGER" : this.scheduler.getTriggerState(trigger.getKey()).name(),
						instant(trigger == null ? null : trigger.getNextFireTime()),
						instant(trigger == null ? null : trigger.getPreviousFireTime())));
			}
			for (Schedule schedule : files) {
				if (!stored.contains(schedule.name())) {
					states.add(new State(schedule.name(), schedule.job(), schedule.cron(), schedule.zone().getId(),
							schedule.misfire().text(), schedule.enabled() ? "NOT STORED" : "DISABLED", null, null,
							schedule.parameters()));
				}
			}
			return states;
		}
		catch (SchedulerException ex) {
			throw new IllegalStateException("the job store could not be read: " + ex.getMessage(), ex);
		}
	}

	/** Every trigger of the schedule: its cron trigger and a pending retry of a refused firing alike. */
	public void pause(String name) {
		change(name, this.scheduler::pauseJob);
	}

	/** Also takes the schedule's triggers out of ERROR, where Quartz leaves a trigger whose job could not be made. */
	public void resume(String name) {
		change(name, key -> {
			this.scheduler.resumeJob(key);
			for (Trigger trigger : this.scheduler.getTriggersOfJob(key)) {
				if (this.scheduler.getTriggerState(trigger.getKey()) == Trigger.TriggerState.ERROR) {
					this.scheduler.resetTriggerFromErrorState(trigger.getKey());
					log.info("Schedule {}: trigger {} taken out of ERROR", name, trigger.getKey().getName());
				}
			}
		});
	}

	/** Fires the schedule's job once now, with the schedule's parameters; a running scheduler node picks it up. */
	public void trigger(String name) {
		change(name, this.scheduler::triggerJob);
	}

	/**
	 * How many scheduler nodes of the cluster run now: those whose last check-in in the job store is younger than
	 * twice their check-in interval (Quartz's own measure of a node gone).
	 */
	public int runningNodes() {
		try {
			Integer nodes = this.jdbc.queryForObject("""
					SELECT count(*) FROM etl.qrtz_scheduler_state
					WHERE sched_name = ? AND last_checkin_time + 2 * checkin_interval > ?""", Integer.class,
					this.scheduler.getSchedulerName(), System.currentTimeMillis());
			return nodes == null ? 0 : nodes;
		}
		catch (SchedulerException ex) {
			throw new IllegalStateException("the job store could not be read: " + ex.getMessage(), ex);
		}
	}

	private void change(String name, StoreChange change) {
		this.transaction.executeWithoutResult(status -> {
			try {
				JobKey key = JobKey.jobKey(name, GROUP);
				if (!this.scheduler.checkExists(key)) {
					throw new UsageException("unknown schedule '" + name + "' (known: "
							+ this.scheduler.getJobKeys(GroupMatcher.jobGroupEquals(GROUP))
								.stream()
								.map(JobKey::getName)
								.sorted()
								.collect(Collectors.joining(", "))
							+ ")");
				}
				change.apply(key);
				notifyNodes();
			}
			catch (SchedulerException ex) {
				throw new IllegalStateException("the job store could not be changed: " + ex.getMessage(), ex);
			}
		});
	}

	/** Delivered when the change commits: the nodes, in other processes, look at the store at once ({@link NotifiedJobStore}). */
	private void notifyNodes() {
		this.jdbc.execute("NOTIFY " + NotifiedJobStore.CHANNEL);
	}

	private static Instant instant(Date date) {
		return (date == null) ? null : date.toInstant();
	}

	@FunctionalInterface
	private interface StoreChange {

		void apply(JobKey key) throws SchedulerException;

	}

	/** Schedules a store change adds, changes and removes, by name. */
	public record Difference(List<String> added, List<String> changed, List<String> removed) {

		public boolean isEmpty() {
			return this.added.isEmpty() && this.changed.isEmpty() && this.removed.isEmpty();
		}

	}

	/** A schedule as `schedules list` shows it. */
	public record State(String name, String job, String cron, String timeZone, String misfire, String state,
			Instant nextFire, Instant previousFire, Map<String, String> parameters) {
	}

}
