package dev.pgbatch.schedule;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.pgbatch.core.OwnConnections;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * UP only while this node can fire: its scheduler runs, reaches the job store, has checked in with the
 * cluster recently, and no schedule is overdue (a trigger long past its time that no node fired is
 * the failure that looks healthy from outside). Checked on a connection of its own with short timeouts,
 * so the answer comes quickly even with the pool busy or the server gone.
 */
@Component("scheduler")
@ConditionalOnProperty(name = "etl.scheduler.enabled", havingValue = "true")
class SchedulerHealth implements HealthIndicator {

	private static final Map<String, String> SHORT_WAITS = Map.of("connectTimeout", "5", "socketTimeout", "10",
			"loginTimeout", "5", "ApplicationName", "pgbatch scheduler health");

	private final Scheduler scheduler;

	private final DataSourceProperties database;

	private final Duration misfireThreshold;

	SchedulerHealth(Scheduler scheduler, DataSourceProperties database,
			@Value("${spring.quartz.properties.org.quartz.jobStore.misfireThreshold}") long misfireThresholdMillis) {
		this.scheduler = scheduler;
		this.database = database;
		this.misfireThreshold = Duration.ofMillis(misfireThresholdMillis);
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
				return Health.down()
					.withDetail("instance", instance)
					.withDetail("reason", "this node has not checked in with the cluster since "
							+ (checkedIn == null ? "it started" : checkedIn))
					.build();
			}
			// Quartz handles a misfire within about one threshold; long after that, nobody is firing. A trigger
			// stays ACQUIRED past its time when the node that took it cannot fire it (a wedged lock).
			Instant overdue = now.minus(this.misfireThreshold.multipliedBy(2)).minus(interval).minusSeconds(30);
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
			if (!late.isEmpty()) {
				return Health.down()
					.withDetail("instance", instance)
					.withDetail("reason", "schedules not fired at their time: " + String.join(", ", late))
					.build();
			}
			return Health.up().withDetail("instance", instance).withDetail("lastCheckIn", checkedIn.toString()).build();
		}
		catch (SQLException ex) {
			return Health.down()
				.withDetail("instance", instance)
				.withDetail("reason", "the job store cannot be reached: " + ex.getMessage())
				.build();
		}
	}

}
