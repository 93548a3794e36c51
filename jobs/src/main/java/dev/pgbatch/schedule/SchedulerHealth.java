package dev.pgbatch.schedule;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import dev.pgbatch.core.OwnConnections;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.Trigger;
import org.quartz.TriggerKey;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.quartz.autoconfigure.QuartzDataSource;
import org.springframework.stereotype.Component;

/**
 * UP only while this node can fire: its scheduler runs, reaches the job store, has checked in with the
 * cluster recently, and no schedule is overdue (a trigger long past its time that no node fired, or one
 * blocked behind a firing that is hung, is the failure that looks healthy from outside). Checked on a
 * connection of its own with short timeouts, so the answer comes quickly even with the pool busy or the
 * server gone. Every answer shows how busy the
 * jobs' pool and Quartz's are: a node that cannot check in usually lacks connections.
 */
@Component("scheduler")
@ConditionalOnProperty(name = "etl.scheduler.enabled", havingValue = "true")
class SchedulerHealth implements HealthIndicator {

	static final Map<String, String> SHORT_WAITS = Map.of("connectTimeout", "5", "socketTimeout", "10",
			"loginTimeout", "5", "ApplicationName", "pgbatch scheduler health");

	private final Scheduler scheduler;

	private final DataSourceProperties database;

	private final Duration misfireThreshold;

	private final Duration overdueGrace;

	private final DataSource jobsPool;

	private final DataSource quartzPool;

	SchedulerHealth(Scheduler scheduler, DataSourceProperties database,
			@Value("${spring.quartz.properties.org.quartz.jobStore.misfireThreshold}") long misfireThresholdMillis,
			@Value("${etl.scheduler.overdue-grace}") Duration overdueGrace, DataSource jobsPool,
			@QuartzDataSource DataSource quartzPool) {
		this.scheduler = scheduler;
		this.database = database;
		this.misfireThreshold = Duration.ofMillis(misfireThresholdMillis);
		this.overdueGrace = overdueGrace;
		this.jobsPool = jobsPool;
		this.quartzPool = quartzPool;
	}

	@Override
	public Health health() {
		String name;
		String instance;
		try {
			if (!this.scheduler.isStarted() || this.scheduler.isShutdown() || this.scheduler.isInStandbyMode()) {
				return Health.down().withDetail("reason", "the scheduler is not running").build();
			}
			name = this.scheduler.getSchedulerName();
			instance = this.scheduler.getSchedulerInstanceId();
		}
		catch (SchedulerException ex) {
			return Health.down().withDetail("reason", ex.getMessage()).build();
		}
		Instant now = Instant.now();
		try (Connection connection = OwnConnections.open(this.database, SHORT_WAITS)) {
			Instant checkedIn = null;
			Duration interval = Duration.ZERO;
			try (PreparedStatement statement = connection.prepareStatement(
					"SELECT last_checkin_time, checkin_interval FROM etl.qrtz_scheduler_state WHERE sched_name = ? AND instance_name = ?")) {
				statement.setString(1, name);
				statement.setString(2, instance);
				try (ResultSet row = statement.executeQuery()) {
					if (row.next()) {
						checkedIn = Instant.ofEpochMilli(row.getLong(1));
						interval = Duration.ofMillis(row.getLong(2));
					}
				}
			}
			if (checkedIn == null || checkedIn.isBefore(now.minus(interval.multipliedBy(3)))) {
				return withPools(Health.down()
					.withDetail("instance", instance)
					.withDetail("reason", "this node has not checked in with the cluster since "
							+ (checkedIn == null ? "it started" : checkedIn) + " (Quartz's connections: "
							+ usage(this.quartzPool) + ")"))
					.build();
			}
			// Quartz handles a misfire within about one threshold; long after that, nobody is firing. A trigger
			// stays ACQUIRED past its time when the node that took it cannot fire it (a wedged lock).
			Instant overdue = now.minus(this.misfireThreshold.multipliedBy(2)).minus(interval).minus(this.overdueGrace);
			List<String> late = new ArrayList<>();
			try (PreparedStatement statement = connection.prepareStatement(
					"SELECT trigger_name FROM etl.qrtz_triggers WHERE sched_name = ? AND trigger_state IN ('WAITING', 'ACQUIRED') AND next_fire_time < ? ORDER BY 1")) {
				statement.setString(1, name);
				statement.setLong(2, overdue.toEpochMilli());
				try (ResultSet rows = statement.executeQuery()) {
					while (rows.next()) {
						late.add(rows.getString(1));
					}
				}
			}
			late.addAll(hung(connection, name, overdue, now.minus(interval.multipliedBy(3))));
			late.addAll(inError(connection, name));
			if (!late.isEmpty()) {
				return withPools(Health.down()
					.withDetail("instance", instance)
					.withDetail("reason", "schedules not fired at their time: " + String.join(", ", late)))
					.build();
			}
			return withPools(Health.up().withDetail("instance", instance).withDetail("lastCheckIn", checkedIn.toString()))
				.build();
		}
		catch (SQLException ex) {
			return withPools(Health.down()
				.withDetail("instance", instance)
				.withDetail("reason", "the job store cannot be reached: " + ex.getMessage()))
				.build();
		}
	}

	/**
	 * Schedules whose trigger is BLOCKED (its previous firing still runs) long past its time, and whose
	 * blocking firing is either in no live node's hands (nothing will ever release the trigger) or has run
	 * past the schedule's next firing after that one too: a run that long is hung, not slow.
	 */
	private List<String> hung(Connection connection, String name, Instant overdue, Instant liveSince)
			throws SQLException {
		List<String> hung = new ArrayList<>();
		try (PreparedStatement statement = connection.prepareStatement("""
				SELECT t.trigger_name, t.trigger_group, t.next_fire_time, EXISTS (
				  SELECT 1 FROM etl.qrtz_fired_triggers f JOIN etl.qrtz_scheduler_state s
				    ON s.sched_name = f.sched_name AND s.instance_name = f.instance_name
				  WHERE f.sched_name = t.sched_name AND f.job_name = t.job_name AND f.job_group = t.job_group
				    AND f.state = 'EXECUTING' AND s.last_checkin_time >= ?)
				FROM etl.qrtz_triggers t WHERE t.sched_name = ? AND t.trigger_state = 'BLOCKED' AND t.next_fire_time < ?
				ORDER BY 1""")) {
			statement.setLong(1, liveSince.toEpochMilli());
			statement.setString(2, name);
			statement.setLong(3, overdue.toEpochMilli());
			try (ResultSet rows = statement.executeQuery()) {
				while (rows.next()) {
					String trigger = rows.getString(1);
					if (!rows.getBoolean(4)) {
						hung.add(trigger + " (blocked, and no live node runs it)");
						continue;
					}
					Date after = fireTimeAfter(TriggerKey.triggerKey(trigger, rows.getString(2)), new Date(rows.getLong(3)));
					if (after != null && after.toInstant().isBefore(overdue)) {
						hung.add(trigger + " (its run has gone on past two of its firings)");
					}
				}
			}
		}
		return hung;
	}

	/**
	 * Triggers Quartz put in ERROR (their job could not be made or loaded): it never fires them again, nor does
	 * anything else show it.
	 */
	private static List<String> inError(Connection connection, String name) throws SQLException {
		List<String> failed = new ArrayList<>();
		try (PreparedStatement statement = connection.prepareStatement(
				"SELECT trigger_name, job_name FROM etl.qrtz_triggers WHERE sched_name = ? AND trigger_state = 'ERROR' ORDER BY 1")) {
			statement.setString(1, name);
			try (ResultSet rows = statement.executeQuery()) {
				while (rows.next()) {
					failed.add(rows.getString(1) + " (in ERROR, never fired again: see the log, then bin/etl schedules resume "
							+ rows.getString(2) + ")");
				}
			}
		}
		return failed;
	}

	private Date fireTimeAfter(TriggerKey key, Date time) {
		try {
			Trigger trigger = this.scheduler.getTrigger(key);
			// from its schedule alone: a trigger fires nothing before its start, which may be after that time
			return (trigger == null) ? null : trigger.getTriggerBuilder().startAt(new Date(0)).build().getFireTimeAfter(time);
		}
		catch (SchedulerException ex) {
			return null;
		}
	}

	private Health.Builder withPools(Health.Builder health) {
		return health.withDetail("jobsPool", usage(this.jobsPool)).withDetail("quartzPool", usage(this.quartzPool));
	}

	/** "6 of 6 connections in use, 2 threads waiting for one (at most 6)". */
	static String usage(DataSource dataSource) {
		if (!(dataSource instanceof HikariDataSource pool) || pool.getHikariPoolMXBean() == null) {
			return "no connection opened yet";
		}
		HikariPoolMXBean state = pool.getHikariPoolMXBean();
		return state.getActiveConnections() + " of " + state.getTotalConnections() + " connections in use, "
				+ state.getThreadsAwaitingConnection() + " threads waiting for one (at most "
				+ pool.getMaximumPoolSize() + ")";
	}

}
