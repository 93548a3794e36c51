package dev.pgbatch.schedule;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.backup.PhysicalCatalog;
import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.partition.PartitionRolloverJob;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.quartz.CronTrigger;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.quartz.autoconfigure.QuartzTransactionManager;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A scheduler node in the test's own process, in a cluster of its own name on the test database: it checks
 * in every half second, and tries a refused firing again after one.
 */
@TestPropertySource(properties = { "spring.autoconfigure.exclude=", "etl.scheduler.enabled=true",
		"spring.quartz.properties.org.quartz.jobStore.clusterCheckinInterval=500",
		"spring.quartz.properties.org.quartz.threadPool.threadCount=4", "etl.scheduler.retry-ms=1000",
		// longer than any wait of these tests: a change reaches the node through the store's notification
		"spring.quartz.properties.org.quartz.scheduler.idleWaitTime=120000" })
@DirtiesContext
class SchedulerNodeIntegrationTests extends DatabaseIntegrationTest {

	private static final String CLUSTER = "test-node-" + UUID.randomUUID();

	/** Never fires on its own. */
	private static final String IN_2099 = "0 0 0 1 1 ? 2099";

	@DynamicPropertySource
	static void cluster(DynamicPropertyRegistry registry) {
		registry.add("spring.quartz.scheduler-name", () -> CLUSTER);
	}

	@Autowired
	Scheduler scheduler;

	@Autowired
	Schedules schedules;

	@Autowired
	DataSource jobsPool;

	@Autowired
	SchedulerHealth health;

	@Autowired
	MeterRegistry meters;

	@Autowired
	ExecutionLock lock;

	@Autowired
	@QuartzTransactionManager
	PlatformTransactionManager quartzTransactions;

	@AfterEach
	void stop() throws Exception {
		this.scheduler.standby();
		this.jdbc.update("DELETE FROM etl.qrtz_fired_triggers WHERE sched_name = ?", CLUSTER);
		this.schedules.apply(List.of(), true);
	}

	/** Not before: a node that finds its check-in row gone takes itself for recovered, and recovers its firings. */
	@AfterAll
	static void forgetTheNode() throws Exception {
		try (Connection connection = TestDatabase.connect();
				PreparedStatement statement = connection
					.prepareStatement("DELETE FROM etl.qrtz_scheduler_state WHERE sched_name = ?")) {
			statement.setString(1, CLUSTER);
			statement.executeUpdate();
		}
	}

	@Test
	void theJobsPoolIsSizedFromTheThreadsAndWithEveryConnectionOfItTakenTheNodeStillChecksInAndIsUp()
			throws Exception {
		HikariDataSource pool = (HikariDataSource) this.jobsPool;
		// two connections per thread (archive and refresh-views hold two at once), two beside
		assertThat(pool.getMaximumPoolSize()).isEqualTo(10);
		this.scheduler.start();
		awaitUntil(() -> this.health.health().getStatus() == Status.UP);

		List<Connection> taken = new ArrayList<>();
		try {
			for (int i = 0; i < pool.getMaximumPoolSize(); i++) {
				taken.add(pool.getConnection());
			}
			// UP through six check-in intervals: health is DOWN after three without a check-in
			await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).untilAsserted(() -> {
				Health during = this.health.health();
				assertThat(during.getStatus()).as(during.toString()).isEqualTo(Status.UP);
			});

			Health health = this.health.health();
			assertThat(health.getStatus()).as(health.toString()).isEqualTo(Status.UP);
			assertThat(health.getDetails().get("jobsPool").toString()).startsWith("10 of 10 connections in use");
			assertThat(health.getDetails().get("quartzPool").toString()).endsWith("(at most 7)");
		}
		finally {
			for (Connection connection : taken) {
				connection.close();
			}
		}
	}

	/** Refused again and again, the firing is logged as refused once (review 13 #3: not every retry, all night). */
	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void aFiringRefusedBecauseItsJobIsRunningIsTriedAgainForTheSameFiringOnceTheJobIsFree(CapturedOutput output)
			throws Exception {
		String name = schedule(IN_2099, MisfirePolicy.FIRE_NOW);
		this.scheduler.start();
		try (ExecutionLock.Held elsewhere = this.lock.acquire(PartitionRolloverJob.NAME)) {
			this.schedules.trigger(name);
			// refused, twice at least (a retry refused again is tried again): not dropped
			awaitUntil(() -> this.jdbc.queryForObject("SELECT count(*) FROM etl.qrtz_triggers WHERE sched_name = ?"
					+ " AND trigger_name = ? AND start_time > ?", Long.class, CLUSTER, name + ScheduledRun.RETRY_SUFFIX,
					Instant.now().plusMillis(200).toEpochMilli()) == 1);
			await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(2))
				.untilAsserted(() -> assertThat(executions(name)).isEmpty());
		}

		awaitUntil(() -> executions(name).contains("COMPLETED"));
		assertThat(executions(name)).containsExactly("COMPLETED");
		awaitUntil(() -> !this.scheduler.checkExists(TriggerKey.triggerKey(name + ScheduledRun.RETRY_SUFFIX, Schedules.GROUP)));
		assertThat(output.getAll().lines().filter(line -> line.contains("Schedule " + name + ": the firing of")
				&& line.contains(" was refused"))).hasSize(1);
	}

	/** A retry made in time, whose node went down before it was due: when it fires at last, it is a misfire. */
	@Test
	void aRetryOfASkipScheduleThatComesPastTheMisfireThresholdIsDropped() throws Exception {
		String name = schedule(IN_2099, MisfirePolicy.SKIP);
		TriggerKey retry = TriggerKey.triggerKey(name + ScheduledRun.RETRY_SUFFIX, Schedules.GROUP);
		this.scheduler.scheduleJob(TriggerBuilder.newTrigger()
			.withIdentity(retry)
			.forJob(JobKey.jobKey(name, Schedules.GROUP))
			.usingJobData(ScheduledRun.RETRY_OF, Long.toString(Instant.now().minus(Duration.ofMinutes(10)).toEpochMilli()))
			.startNow()
			.build());
		this.scheduler.start();

		awaitUntil(() -> !this.scheduler.checkExists(retry) && this.scheduler.getCurrentlyExecutingJobs().isEmpty());
		assertThat(executions(name)).isEmpty();
		// not silently: counted (and logged) as SKIPPED
		assertThat(this.meters.find("pgbatch.schedule.runs").tag("schedule", name).tag("status", "SKIPPED").counter())
			.isNotNull()
			.satisfies(skipped -> assertThat(skipped.count()).isEqualTo(1.0));
	}

	@Test
	void pauseHoldsAPendingRetryOfTheScheduleTooUntilResume() throws Exception {
		String name = schedule(IN_2099, MisfirePolicy.FIRE_NOW);
		TriggerKey retry = TriggerKey.triggerKey(name + ScheduledRun.RETRY_SUFFIX, Schedules.GROUP);
		this.scheduler.start();
		try (ExecutionLock.Held elsewhere = this.lock.acquire(PartitionRolloverJob.NAME)) {
			// a firing refused while the schedule is paused: its retry is made paused
			this.schedules.pause(name);
			this.schedules.trigger(name);
			awaitUntil(() -> this.scheduler.getTriggerState(retry) == Trigger.TriggerState.PAUSED);

			// resumed, the retry fires (refused again) and waits; a pause holds that pending retry too
			this.schedules.resume(name);
			awaitUntil(() -> this.scheduler.checkExists(retry) && this.scheduler.getTriggerState(retry) == Trigger.TriggerState.NORMAL
					&& this.scheduler.getTrigger(retry).getStartTime().toInstant().isAfter(Instant.now().plusMillis(200)));
			this.schedules.pause(name);
			assertThat(this.scheduler.getTriggerState(retry)).isEqualTo(Trigger.TriggerState.PAUSED);
		}
		// the job is free, and the retry's time passes: nothing runs while the schedule is paused
		await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
			.untilAsserted(() -> assertThat(executions(name)).isEmpty());
		// the retry is no schedule of its own in the list
		assertThat(this.schedules.list(List.of(new Schedule(name, PartitionRolloverJob.NAME, IN_2099, ZoneOffset.UTC,
				Map.of("dry-run", "true"), MisfirePolicy.FIRE_NOW, true, "test"))))
			.singleElement()
			.satisfies(state -> assertThat(state.state()).isEqualTo("PAUSED"));

		this.schedules.resume(name);
		awaitUntil(() -> executions(name).contains("COMPLETED"));
		assertThat(executions(name)).containsExactly("COMPLETED");
		awaitUntil(() -> !this.scheduler.checkExists(retry));
	}

	/**
	 * The scheduler's shutdown interrupts each firing under way once (interruptJobsOnShutdownWithWait): one whose
	 * execution is not recorded yet, here held in its job's validation by a lock on a partition it reads, was not
	 * found, and its job then ran to its end.
	 */
	@Test
	void aFiringInterruptedBeforeItsExecutionExistsStopsBeforeItsFirstStep() throws Exception {
		String name = schedule(IN_2099, MisfirePolicy.FIRE_NOW);
		this.scheduler.start();
		try (Connection holder = TestDatabase.connect()) {
			holder.setAutoCommit(false);
			holder.createStatement().execute("LOCK TABLE ops.task_executions_default IN ACCESS EXCLUSIVE MODE");
			this.schedules.trigger(name);
			awaitUntil(() -> this.jdbc.queryForObject("SELECT count(*) FROM pg_locks WHERE NOT granted"
					+ " AND relation = 'ops.task_executions_default'::regclass", Long.class) == 1);

			// as the scheduler's shutdown does it
			assertThat(this.scheduler.interrupt(JobKey.jobKey(name, Schedules.GROUP))).isTrue();
			assertThat(executions(name)).isEmpty();
			holder.rollback();
		}

		// ended, and its one-shot trigger gone with it (removing the schedule meanwhile would fail)
		awaitUntil(() -> this.scheduler.getCurrentlyExecutingJobs().isEmpty() && !executions(name).isEmpty()
				&& this.scheduler.getTriggersOfJob(JobKey.jobKey(name, Schedules.GROUP)).size() == 1);
		assertThat(executions(name)).containsExactly("STOPPED");
		assertThat(this.jdbc.queryForObject("SELECT e.exit_message FROM etl.batch_job_execution e JOIN etl.batch_job_execution_params p"
				+ " ON p.job_execution_id = e.job_execution_id AND p.parameter_name = ? WHERE p.parameter_value = ?", String.class,
				ScheduledRun.SCHEDULE_PARAMETER, name)).startsWith("stopped before its first step");
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM etl.batch_step_execution s JOIN etl.batch_job_execution_params p"
				+ " ON p.job_execution_id = s.job_execution_id AND p.parameter_name = ? WHERE p.parameter_value = ?", Long.class,
				ScheduledRun.SCHEDULE_PARAMETER, name)).isZero();
	}

	/**
	 * Quartz tells only its own process's scheduler thread of a change, and before the change commits: the node
	 * looked, found nothing, and saw the firing only at its next idle wait. A change from another process
	 * (bin/etl schedules) is never told at all, as here, where it commits after the node was told.
	 */
	@Test
	void aScheduleChangeCommittedAfterTheNodeLookedReachesTheNodeAtOnce() throws Exception {
		String name = schedule(IN_2099, MisfirePolicy.FIRE_NOW);
		startAndCheckIn();
		new TransactionTemplate(this.quartzTransactions).executeWithoutResult(status -> {
			this.schedules.trigger(name);
			try {
				Thread.sleep(1000);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
		Instant committed = Instant.now();

		awaitUntil(() -> executions(name).contains("COMPLETED"));
		assertThat(Instant.now()).isBefore(committed.plusSeconds(15));
		awaitUntil(() -> this.scheduler.getTriggersOfJob(JobKey.jobKey(name, Schedules.GROUP)).size() == 1);
	}

	@Test
	void aTriggerBlockedPastItsTimeBehindARunOnALiveNodeIsUpAndDownOnceNoNodeRunsIt() throws Exception {
		// daily, half a day from now: an hourly one made the run "past two of its firings" in the first minutes of
		// an hour, and the test failed by the clock
		String daily = schedule("0 0 " + (Instant.now().atZone(ZoneOffset.UTC).getHour() + 12) % 24 + " * * ?",
				MisfirePolicy.FIRE_NOW);
		// as Quartz leaves the trigger while the schedule's previous run goes on, 3 minutes past its firing
		block(daily, Duration.ofMinutes(3));
		startAndCheckIn();

		executing(daily);
		Health slow = this.health.health();
		assertThat(slow.getStatus()).as(slow.toString()).isEqualTo(Status.UP);

		this.jdbc.update("DELETE FROM etl.qrtz_fired_triggers WHERE sched_name = ?", CLUSTER);
		Health down = this.health.health();
		assertThat(down.getStatus()).isEqualTo(Status.DOWN);
		assertThat(down.getDetails().get("reason").toString())
			.isEqualTo("schedules not fired at their time: " + daily + " (blocked, and no live node runs it)");
	}

	/** Quartz leaves a trigger in ERROR when its job cannot be made, and fires it no more. */
	@Test
	void aTriggerInErrorIsDownUntilResumeTakesItOut() throws Exception {
		String name = schedule("0 0 * * * ?", MisfirePolicy.FIRE_NOW);
		this.jdbc.update("UPDATE etl.qrtz_triggers SET trigger_state = 'ERROR' WHERE sched_name = ? AND trigger_name = ?",
				CLUSTER, name);
		startAndCheckIn();

		Health down = this.health.health();
		assertThat(down.getStatus()).isEqualTo(Status.DOWN);
		assertThat(down.getDetails().get("reason").toString()).isEqualTo("schedules not fired at their time: " + name
				+ " (in ERROR, never fired again: see the log, then bin/etl schedules resume " + name + ")");

		this.schedules.resume(name);
		assertThat(this.scheduler.getTriggerState(TriggerKey.triggerKey(name, Schedules.GROUP)))
			.isEqualTo(Trigger.TriggerState.NORMAL);
		assertThat(this.health.health().getStatus()).isEqualTo(Status.UP);
	}

	@Test
	void aTriggerBlockedBehindARunThatHasGoneOnPastTwoOfItsFiringsIsDown() throws Exception {
		String everyMinute = schedule("0 * * * * ?", MisfirePolicy.FIRE_NOW);
		block(everyMinute, Duration.ofMinutes(10));
		startAndCheckIn();

		executing(everyMinute);

		Health down = this.health.health();
		assertThat(down.getStatus()).isEqualTo(Status.DOWN);
		assertThat(down.getDetails().get("reason").toString())
			.isEqualTo("schedules not fired at their time: " + everyMinute + " (its run has gone on past two of its firings)");
	}

	@Test
	void aDailyScheduleInBerlinStoredAndReadBackFiresOnTheSpringForwardDayAtTheEndOfTheGap() throws Exception {
		String name = "berlin-" + UUID.randomUUID().toString().substring(0, 8);
		this.schedules.apply(List.of(new Schedule(name, PartitionRolloverJob.NAME, "0 30 2 * * ?",
				ZoneId.of("Europe/Berlin"), Map.of(), MisfirePolicy.SKIP, true, "test")), true);

		Trigger stored = this.scheduler.getTrigger(TriggerKey.triggerKey(name, Schedules.GROUP));

		assertThat(stored.getMisfireInstruction()).isEqualTo(CronTrigger.MISFIRE_INSTRUCTION_DO_NOTHING);
		assertThat(stored.getFireTimeAfter(Date.from(Instant.parse("2027-03-27T12:00:00Z"))).toInstant())
			.isEqualTo(Instant.parse("2027-03-28T01:00:00Z"));
	}

	@Autowired
	PhysicalCatalog catalog;

	/**
	 * pgbatch_drill_last_passed: the last drill to a restore point passed and no drill of either kind failed after
	 * it. A failed drill to a time after a passing one to a point reads 0 (review 13 #11: it read 1); a passing one
	 * to a time does not hide a failed one to a point; unknown before any drill to a point, unless one failed.
	 */
	@Test
	void theDrillsPassWhenTheLastCountedDrillPassedAndNoDrillFailedAfterIt() {
		List<Boolean> read = new ArrayList<>();
		read.add(this.catalog.drillsPassed());
		// target: a restore point's name (counted, V25), or an instant (a drill to a time); each a second later
		for (String drill : List.of("2026-12-01T05:00:00Z failed", "point passed", "2026-12-02T05:00:00Z passed",
				"2026-12-03T05:00:00Z failed", "point passed", "point failed", "2026-12-04T05:00:00Z passed")) {
			String[] target = drill.split(" ");
			this.jdbc.update("""
					INSERT INTO etl.restore_drill (started_at, target, passed, problems)
					SELECT coalesce(max(started_at), now()) + interval '1 second', ?, ?, ? FROM etl.restore_drill""",
					target[0], target[1].equals("passed"), target[1].equals("passed") ? "" : "failed");
			read.add(this.catalog.drillsPassed());
		}

		assertThat(read).containsExactly(null, false, true, true, false, true, false, false);
	}

	private void startAndCheckIn() throws Exception {
		this.scheduler.start();
		awaitUntil(() -> this.jdbc.queryForObject("SELECT count(*) FROM etl.qrtz_scheduler_state WHERE sched_name = ?"
				+ " AND instance_name = ?", Long.class, CLUSTER, this.scheduler.getSchedulerInstanceId()) == 1);
	}

	/** A schedule of partition-rollover in dry-run, named uniquely. */
	private String schedule(String cron, MisfirePolicy misfire) {
		String name = "rollover-" + UUID.randomUUID().toString().substring(0, 8);
		this.schedules.apply(List.of(new Schedule(name, PartitionRolloverJob.NAME, cron, ZoneOffset.UTC,
				Map.of("dry-run", "true"), misfire, true, "test")), true);
		return name;
	}

	/** As Quartz leaves a trigger whose job's previous firing still runs, with its firing that far past. */
	private void block(String trigger, Duration late) {
		this.jdbc.update("UPDATE etl.qrtz_triggers SET trigger_state = 'BLOCKED', next_fire_time = ? WHERE sched_name = ?"
				+ " AND trigger_name = ?", Instant.now().minus(late).toEpochMilli(), CLUSTER, trigger);
	}

	/** The record Quartz keeps of a firing under way on this node. */
	private void executing(String job) throws Exception {
		String instance = this.scheduler.getSchedulerInstanceId();
		long now = Instant.now().toEpochMilli();
		this.jdbc.update("""
				INSERT INTO etl.qrtz_fired_triggers (sched_name, entry_id, trigger_name, trigger_group, instance_name,
				  fired_time, sched_time, priority, state, job_name, job_group, is_nonconcurrent, requests_recovery)
				VALUES (?, ?, ?, ?, ?, ?, ?, 5, 'EXECUTING', ?, ?, true, true)
				""", CLUSTER, UUID.randomUUID().toString().substring(0, 20), job, Schedules.GROUP, instance, now, now, job,
				Schedules.GROUP);
	}

	/** How the executions launched by the schedule ended, oldest first. */
	private List<String> executions(String schedule) {
		return this.jdbc.queryForList("""
				SELECT e.status FROM etl.batch_job_execution e JOIN etl.batch_job_execution_params p
				  ON p.job_execution_id = e.job_execution_id AND p.parameter_name = ?
				WHERE p.parameter_value = ? ORDER BY e.job_execution_id
				""", String.class, ScheduledRun.SCHEDULE_PARAMETER, schedule);
	}

	private static void awaitUntil(CheckedCondition condition) {
		await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(condition::met);
	}

	@FunctionalInterface
	private interface CheckedCondition {

		boolean met() throws Exception;

	}

}
