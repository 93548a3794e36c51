package dev.pgbatch.schedule;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.pgbatch.StackSuperuser;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.WalArchivingOutage;
import dev.pgbatch.cli.EtlInProcess;
import dev.pgbatch.cli.EtlProcess;
import dev.pgbatch.store.CuttingProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * bin/etl scheduler as operators run it: separate processes, two of them as a cluster, on the class's own
 * database (its Quartz store and its executions are then only these tests'). Cron schedules fire every few
 * seconds; check-in and misfire threshold are shortened to one second. The commands that end by themselves
 * (schedules, restart, a scheduler refused for its files) run in this JVM ({@link EtlInProcess}): a process start
 * there would only add seconds.
 */
class SchedulerIntegrationTests {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static JdbcTemplate jdbc;

	private static SingleConnectionDataSource dataSource;

	/**
	 * A node starts with the optimising compiler, for the encryption of the logical backups and archives it runs
	 * (docs/cli.md); these run small jobs and pgBackRest's (whose work is pgBackRest's own), for which compiling costs
	 * more CPU than it saves: the suite's two cores are shared by the other classes' tests.
	 */
	private static final String QUICK_COMPILER = "-XX:TieredStopAtLevel=1";

	private final List<EtlProcess> nodes = new ArrayList<>();

	/**
	 * The node the WAL archiving health tests and the backup gauges' test ask, and the physical backup's test
	 * triggers its schedule on, started by the first of them (a JVM start: seconds of both cores) and killed after
	 * the class. Its schedules never fire by themselves (2099); what each test changes (archive_command, a privilege)
	 * it puts back. Only the gauges' test scrapes its metrics: a reading of the backup gauges serves the scrapes of
	 * the next minute (BackupMetrics.FRESH), so that test's is the first.
	 */
	private static EtlProcess idleNode;

	private static Map<String, String> idleEnvironment;

	/** The cluster of the slow-node tests: each triggers its own schedule of it. */
	private static final String SLOW_CLUSTER = "slow";

	private static final String SLOW_FIRE_NOW = "slow-fire-now-seed";

	private static final String SLOW_SKIP = "slow-skip-seed";

	/**
	 * The two nodes of {@link #SLOW_CLUSTER}, started by the first slow-node test and killed after the class (two JVM
	 * starts the other test is spared): a test pauses whichever of them runs its firing and resumes it.
	 */
	private static final List<EtlProcess> slowNodes = new ArrayList<>();

	private static final List<Map<String, String>> slowEnvironments = new ArrayList<>();

	@BeforeAll
	static void connect() throws SQLException {
		dataSource = new SingleConnectionDataSource(TestDatabase.connect(), true);
		jdbc = new JdbcTemplate(dataSource);
	}

	@AfterAll
	static void disconnect() throws InterruptedException {
		dataSource.destroy();
		if (idleNode != null) {
			idleNode.kill();
		}
		for (EtlProcess node : slowNodes) {
			node.kill();
		}
	}

	/**
	 * A failed test prints what its nodes (and the shared one) wrote to stderr, into the test's output: their logs
	 * are temporary files, kept nowhere else.
	 */
	@RegisterExtension
	final AfterTestExecutionCallback nodeLogsOnFailure = context -> {
		if (context.getExecutionException().isEmpty()) {
			return;
		}
		List<EtlProcess> started = new ArrayList<>(this.nodes);
		if (idleNode != null) {
			started.add(idleNode);
		}
		started.addAll(slowNodes);
		for (int i = 0; i < started.size(); i++) {
			System.out.println("---- " + context.getDisplayName() + ": stderr of the scheduler node started "
					+ (i >= this.nodes.size() ? "for the class" : (i + 1) + ". in the test") + "\n"
					+ started.get(i).stderrSoFar());
		}
	};

	@AfterEach
	void stopNodes() throws Exception {
		for (EtlProcess node : this.nodes) {
			node.kill();
		}
		// a slow-node test that failed while its node was paused leaves it so: the other test needs it running
		for (EtlProcess node : slowNodes) {
			node.resume();
		}
	}

	@Test
	void twoNodesRunEachFiringExactlyOnceAndTheSurvivorTakesOverWhenOneIsKilled() throws Exception {
		Path schedules = schedules("""
				schedules:
				  - name: views-every-2s
				    job: refresh-views
				    cron: "0/2 * * * * ?"
				""");
		String cluster = "two-nodes";
		EtlProcess first = node(cluster, schedules, TestDatabase.url());
		EtlProcess second = node(cluster, schedules, TestDatabase.url());
		awaitTrue(Duration.ofSeconds(60), () -> completed("views-every-2s").size() >= 5);
		Instant killed = Instant.now();
		first.kill();
		awaitTrue(Duration.ofSeconds(60),
				() -> completed("views-every-2s").stream().filter(run -> run.firing().isAfter(killed.plusSeconds(3))).count() >= 3);
		Instant terminating = Instant.now();
		second.terminate();

		List<Firing> runs = firings("views-every-2s");
		// a firing under way when the survivor is terminated ends STOPPED, as a stop does: not one to complete
		Set<Instant> stoppedAtTheEnd = runs.stream()
			.filter(run -> run.status().equals("STOPPED") && run.end() != null && !run.end().isBefore(terminating))
			.map(Firing::firing)
			.collect(Collectors.toSet());
		Map<Instant, List<Firing>> byFiring = runs.stream()
			.filter(run -> !stoppedAtTheEnd.contains(run.firing()))
			.collect(Collectors.groupingBy(Firing::firing));
		// Every firing completed exactly once. A firing cut short by the kill was continued by the other
		// node (its first execution FAILED, then one COMPLETED), not run again from the start.
		assertThat(byFiring.values()).allSatisfy(executions -> assertThat(executions).filteredOn(
				run -> run.status().equals("COMPLETED")).hasSize(1));
		String logs = first.stderrSoFar() + second.stderrSoFar();
		assertThat(matches(logs, "Schedule views-every-2s: firing of (\\S+) starts")).hasSize(byFiring.size() + stoppedAtTheEnd.size())
			.doesNotHaveDuplicates();
		assertThat(logs).doesNotContain("was refused").doesNotContain("already ran");
		// runs of one schedule never overlap
		List<Firing> done = completed("views-every-2s");
		for (int i = 1; i < done.size(); i++) {
			assertThat(done.get(i).start()).isAfterOrEqualTo(done.get(i - 1).end());
		}
		// the survivor fired the schedule after the other node was killed
		assertThat(second.stderrSoFar()).contains("firing of " + done.get(done.size() - 1).firing() + " starts");
	}

	@Test
	void aSchedulerDownOverAFiringAppliesEachSchedulesMisfirePolicyWhenItComesBack() throws Exception {
		Path schedules = schedules("""
				schedules:
				  - name: catch-up
				    job: refresh-views
				    cron: "0/5 * * * * ?"
				    misfire: fire-now
				  - name: skip-missed
				    job: partition-rollover
				    cron: "0/5 * * * * ?"
				    parameters:
				      dry-run: true
				    misfire: skip
				""");
		String cluster = "misfire";
		Map<String, String> environment = environment(cluster, schedules, TestDatabase.url());
		// stored as a node stores them at its start, with their next firings (applied in this JVM: a node started
		// and stopped only to store them cost a JVM's start), and no node runs
		assertThat(etl(environment, "schedules", "apply").exitCode()).isZero();
		Instant down = Instant.now();
		// the scheduler is down over the next firing, for longer than the misfire threshold
		Instant missed = Instant.ofEpochSecond((down.getEpochSecond() / 5 + 1) * 5);
		Thread.sleep(Duration.between(Instant.now(), missed.plusSeconds(3)).toMillis());

		EtlProcess after = EtlProcess.start(environment, "scheduler");
		this.nodes.add(after);
		Supplier<List<Firing>> caughtUp = () -> completed("catch-up").stream()
			.filter(run -> run.firing().isAfter(down))
			.toList();
		// as long as the other waits for a node's start: a JVM's start on a busy machine took more than 30 s
		awaitTrue(Duration.ofSeconds(60), () -> !caughtUp.get().isEmpty());
		Instant comeBack = caughtUp.get().get(0).firing();
		after.terminate();

		// fire-now: one run as soon as it came back, for the missed firing (so not on a 5-second boundary)
		assertThat(comeBack).isAfter(missed);
		assertThat(comeBack.toEpochMilli() % 5_000).isNotZero();
		assertThat(firings("catch-up")).filteredOn(run -> run.firing().isAfter(down) && run.firing().isBefore(comeBack))
			.isEmpty();
		// skip: the missed firing was dropped; whatever ran after it came at its own boundaries
		assertThat(firings("skip-missed")).filteredOn(run -> run.firing().isAfter(down)).allSatisfy(run -> {
			assertThat(run.firing().getEpochSecond() % 5).isZero();
			assertThat(run.firing()).isAfter(missed);
		});
	}

	@Test
	void pauseStopsASchedulesFiringsUntilResumeAndTriggerFiresOneNow() throws Exception {
		Path schedules = schedules("""
				schedules:
				  - name: often
				    job: refresh-views
				    cron: "0/2 * * * * ?"
				  - name: far-off
				    job: partition-rollover
				    cron: "0 0 3 1 1 ? 2099"
				    parameters:
				      dry-run: true
				""");
		String cluster = "pause";
		Map<String, String> environment = environment(cluster, schedules, TestDatabase.url());
		EtlProcess node = node(cluster, schedules, TestDatabase.url());
		awaitTrue(Duration.ofSeconds(60), () -> completed("often").size() >= 1);

		assertThat(etl(environment, "schedules", "pause", "often").exitCode()).isZero();
		Instant paused = Instant.now();
		EtlProcess.Result list = etl(environment, "schedules", "list");
		assertThat(list.stdout().lines().filter(line -> line.startsWith("often "))).singleElement()
			.asString()
			.contains("PAUSED");
		// a firing may have been under way when the pause came; none after it, for 4 s
		await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(firings("often"))
			.allSatisfy(run -> assertThat(run.firing()).isBefore(paused.plusSeconds(1))));

		assertThat(etl(environment, "schedules", "resume", "often").exitCode()).isZero();
		Instant resumed = Instant.now();
		awaitTrue(Duration.ofSeconds(30),
				() -> completed("often").stream().anyMatch(run -> run.firing().isAfter(resumed)));

		Instant triggered = Instant.now();
		EtlProcess.Result trigger = etl(environment, "schedules", "trigger", "far-off");
		assertThat(trigger.exitCode()).isZero();
		assertThat(trigger.stdout().strip()).isEqualTo("schedule far-off triggered: a running scheduler node starts it now");
		awaitTrue(Duration.ofSeconds(30), () -> completed("far-off").size() == 1);
		assertThat(firings("far-off").get(0).firing()).isAfter(triggered);

		EtlProcess.Result unknown = etl(environment, "schedules", "pause", "no-such");
		assertThat(unknown.exitCode()).isEqualTo(2);
		assertThat(unknown.stderr()).contains("unknown schedule 'no-such'");
		node.terminate();
	}

	@Test
	void aBadScheduleFileStopsTheSchedulerAtStartNamingTheFileAndTheEntryAndNothingIsScheduled() throws Exception {
		Path schedules = schedules("""
				schedules:
				  - name: fine
				    job: refresh-views
				    cron: "0 0 * * * ?"
				""");
		Files.writeString(schedules.resolve("zz-broken.yml"), """
				schedules:
				  - name: broken
				    job: refresh-views
				    cron: "0 0 25 * * ?"
				""");
		// refused before anything starts (no Spring, no process of its own needed)
		EtlProcess.Result result = etl(environment("bad-files", schedules, TestDatabase.url()), "scheduler");

		assertThat(result.exitCode()).isEqualTo(2);
		assertThat(result.stderr().strip()).hasLineCount(1)
			.contains(schedules.resolve("zz-broken.yml").toString())
			.contains("entry 'broken'")
			.contains("bad cron '0 0 25 * * ?'");
		assertThat(jdbc.queryForObject("SELECT count(*) FROM etl.qrtz_job_details WHERE sched_name = 'bad-files'",
				Integer.class)).isZero();
	}

	@Test
	void pauseResumeAndTriggerTouchOnlyTheNamedScheduleAndOnlyApplyRemovesStoredSchedules() throws Exception {
		Path both = schedules("""
				schedules:
				  - {name: kept, job: refresh-views, cron: "0 0 3 1 1 ? 2099"}
				  - {name: other, job: backup, cron: "0 0 4 1 1 ? 2099"}
				""");
		Path one = schedules("""
				schedules:
				  - {name: kept, job: refresh-views, cron: "0 0 5 1 1 ? 2099"}
				""");
		String cluster = "apply";
		Map<String, String> full = environment(cluster, both, TestDatabase.url());
		Map<String, String> partial = environment(cluster, one, TestDatabase.url());

		EtlProcess.Result dryRun = etl(full, "schedules", "apply", "--dry-run");
		assertThat(dryRun.exitCode()).as(dryRun.stderr()).isZero();
		assertThat(dryRun.stdout()).contains("added kept", "added other", "dry run: nothing changed");
		assertThat(stored(cluster)).isEmpty();
		assertThat(etl(full, "schedules", "apply").stdout()).contains("added kept", "added other");
		assertThat(stored(cluster)).containsExactly("kept 0 0 3 1 1 ? 2099", "other 0 0 4 1 1 ? 2099");

		// a node whose directory holds one schedule: pause, a typo, resume and trigger leave the others alone
		// and do not rewrite the named one from the files
		assertThat(etl(partial, "schedules", "pause", "kept").exitCode()).isZero();
		EtlProcess.Result typo = etl(partial, "schedules", "pause", "kpet");
		assertThat(typo.exitCode()).isEqualTo(2);
		assertThat(typo.stderr().strip()).hasLineCount(1).contains("unknown schedule 'kpet'");
		assertThat(etl(partial, "schedules", "resume", "other").exitCode()).isZero();
		assertThat(stored(cluster)).containsExactly("kept 0 0 3 1 1 ? 2099", "other 0 0 4 1 1 ? 2099");
		assertThat(jdbc.queryForObject("SELECT trigger_state FROM etl.qrtz_triggers WHERE sched_name = ? AND trigger_name = 'kept'",
				String.class, cluster)).isEqualTo("PAUSED");

		// list shows what the cluster stores, not this node's files: both, kept as stored (03:00) and paused
		EtlProcess.Result list = etl(partial, "schedules", "list");
		assertThat(list.exitCode()).as(list.stderr()).isZero();
		assertThat(list.stdout().lines().filter(line -> line.startsWith("kept "))).singleElement()
			.satisfies(line -> assertThat(line).contains("0 0 3 1 1 ? 2099", "PAUSED"));
		assertThat(list.stdout().lines().filter(line -> line.startsWith("other "))).singleElement()
			.satisfies(line -> assertThat(line).contains("backup", "0 0 4 1 1 ? 2099", "NORMAL"));
		EtlProcess.Result none = etl(environment(cluster, Files.createTempDirectory("schedules"),
				TestDatabase.url()), "schedules", "list");
		assertThat(none.exitCode()).as(none.stderr()).isZero();
		assertThat(none.stdout()).contains("kept ", "other ");

		// the difference names the removal; only apply itself removes
		EtlProcess.Result difference = etl(partial, "schedules", "apply", "--dry-run");
		assertThat(difference.stdout()).contains("changed kept", "removed other").doesNotContain("added");
		assertThat(stored(cluster)).containsExactly("kept 0 0 3 1 1 ? 2099", "other 0 0 4 1 1 ? 2099");
		assertThat(etl(partial, "schedules", "apply").exitCode()).isZero();
		assertThat(stored(cluster)).containsExactly("kept 0 0 5 1 1 ? 2099");
		assertThat(jdbc.queryForObject("SELECT trigger_state FROM etl.qrtz_triggers WHERE sched_name = ? AND trigger_name = 'kept'",
				String.class, cluster)).isEqualTo("PAUSED");
	}

	@Test
	void aSchedulerStartedOnAPartialDirectoryAddsAndUpdatesButRemovesNothingAndAnEmptyOneIsRefused() throws Exception {
		Path both = schedules("""
				schedules:
				  - {name: fast, job: refresh-views, cron: "0 0 3 1 1 ? 2099"}
				  - {name: slow, job: backup, cron: "0 0 4 1 1 ? 2099"}
				""");
		String cluster = "partial";
		assertThat(etl(environment(cluster, both, TestDatabase.url()), "schedules", "apply")
			.exitCode()).isZero();
		// slow.yaml instead of slow.yml is read; a node without 'slow' in its files keeps it and warns
		Path yaml = Files.createTempDirectory("schedules");
		Files.writeString(yaml.resolve("slow.yaml"), "schedules:\n  - {name: slow, job: backup, cron: \"0 0 6 1 1 ? 2099\"}\n");
		EtlProcess node = node(cluster, yaml, TestDatabase.url());
		awaitTrue(Duration.ofSeconds(60), () -> node.stderrSoFar().contains("started: 1 schedules"));
		assertThat(node.stderrSoFar()).contains("Schedule fast is stored but no schedule file here enables it: kept");
		node.terminate();
		assertThat(stored(cluster)).containsExactly("fast 0 0 3 1 1 ? 2099", "slow 0 0 6 1 1 ? 2099");

		Path empty = Files.createTempDirectory("schedules");
		EtlProcess.Result refused = etl(environment(cluster, empty, TestDatabase.url()), "scheduler");
		assertThat(refused.exitCode()).isEqualTo(2);
		assertThat(refused.stderr().strip()).hasLineCount(1).contains("holds no schedule");
		assertThat(stored(cluster)).hasSize(2);
	}

	/** The schedules of a cluster's store: name and cron (of its wall-clock cron trigger), by name. */
	private static List<String> stored(String cluster) {
		return jdbc.queryForList("""
				SELECT t.trigger_name || ' ' || c.str_prop_1 FROM etl.qrtz_triggers t
				JOIN etl.qrtz_simprop_triggers c USING (sched_name, trigger_name, trigger_group)
				WHERE t.sched_name = ? ORDER BY 1""", String.class, cluster);
	}

	@Test
	void healthIsDownWhileTheJobStoreCannotBeReachedAndUpWhenItCanAgain() throws Exception {
		Path schedules = schedules("""
				schedules:
				  - name: hourly
				    job: refresh-views
				    cron: "0 0 * * * ?"
				""");
		int databasePort = URI.create(TestDatabase.url().substring("jdbc:".length())).getPort();
		try (CuttingProxy proxy = new CuttingProxy(databasePort)) {
			String viaProxy = TestDatabase.url().replace(":" + databasePort + "/", ":" + proxy.port() + "/");
			Map<String, String> environment = environment("health", schedules, viaProxy);
			// Quartz tries a lost job store again after a second, not its default 15 s (a Quartz property, no setting)
			environment.put("ETL_JAVA_OPTS",
					QUICK_COMPILER + " -Dspring.quartz.properties.org.quartz.jobStore.dbRetryInterval=1000");
			String health = healthOfNewNode(environment);
			awaitTrue(Duration.ofSeconds(60), () -> get(health).statusCode() == 200);
			assertThat(get(health).body()).contains("\"scheduler\":{").contains("\"status\":\"UP\"");

			proxy.stopAfter(0);
			awaitTrue(Duration.ofSeconds(30), () -> get(health).statusCode() == 503);
			assertThat(get(health).body()).contains("\"status\":\"DOWN\"").contains("the job store cannot be reached");

			proxy.resume();
			awaitTrue(Duration.ofSeconds(60), () -> get(health).statusCode() == 200);
		}
	}

	@Test
	void healthIsDownWhileTheSchedulerLooksAliveButFiresNothing() throws Exception {
		Path schedules = schedules("""
				schedules:
				  - name: every-2s
				    job: refresh-views
				    cron: "0/2 * * * * ?"
				""");
		Map<String, String> environment = environment("stuck", schedules, TestDatabase.url());
		// DOWN 5 s after a missed firing (two misfire thresholds, a check-in interval and this), not 33 s
		environment.put("ETL_SCHEDULER_OVERDUE_GRACE", "2s");
		String health = healthOfNewNode(environment);
		awaitTrue(Duration.ofSeconds(60), () -> !completed("every-2s").isEmpty() && get(health).statusCode() == 200);

		// A session that keeps Quartz's trigger lock: the node still runs, answers and checks in with the
		// cluster, but acquires no trigger and handles no misfire.
		try (Connection wedge = TestDatabase.connect(); Statement statement = wedge.createStatement()) {
			wedge.setAutoCommit(false);
			statement.executeQuery("SELECT * FROM etl.qrtz_locks WHERE sched_name = 'stuck' AND lock_name = 'TRIGGER_ACCESS' FOR UPDATE")
				.close();
			awaitTrue(Duration.ofSeconds(90), () -> get(health).statusCode() == 503);
			assertThat(get(health).body()).contains("schedules not fired at their time: every-2s");
			wedge.rollback();
		}
		awaitTrue(Duration.ofSeconds(60), () -> get(health).statusCode() == 200);
	}

	/**
	 * schedules/backups.yml as shipped: stored with seed 000's times (full Sunday 02:00, incr Monday to Saturday
	 * 03:00, verify daily 04:00, drill Sunday 05:00, UTC) as their next firings; paused and resumed like any
	 * schedule; backup-verify triggered on a node runs backup verify --physical of the stack's repository, recorded, its
	 * run's status as the verify found.
	 */
	@Test
	void theShippedBackupSchedulesAreStoredAtTheirTimesAndPauseResumeAndTriggerWork() throws Exception {
		Path schedules = Files.createTempDirectory("schedules");
		Files.copy(Path.of("..", "schedules", "backups.yml"), schedules.resolve("backups.yml"));
		String cluster = "backups";
		Map<String, String> environment = environment(cluster, schedules, TestDatabase.url());
		Instant applied = Instant.now();
		EtlProcess.Result apply = etl(environment, "schedules", "apply");
		assertThat(apply.exitCode()).as(apply.stderr()).isZero();
		assertThat(apply.stdout()).contains("added backup-full", "added backup-incr", "added backup-verify",
				"added backup-drill");

		Set<DayOfWeek> sunday = EnumSet.of(DayOfWeek.SUNDAY);
		Map<String, Instant> expected = Map.of("backup-full", nextAt(applied, 2, sunday), "backup-incr",
				nextAt(applied, 3, EnumSet.complementOf(EnumSet.of(DayOfWeek.SUNDAY))), "backup-verify",
				nextAt(applied, 4, EnumSet.allOf(DayOfWeek.class)), "backup-drill", nextAt(applied, 5, sunday));
		Map<String, JsonNode> listed = listed(environment);
		assertThat(listed.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
		expected.forEach((name, next) -> assertThat(Instant.parse(listed.get(name).path("nextFire").asString()))
			.as(name).isEqualTo(next));
		assertThat(listed.get("backup-full").path("parameters").path("type").asString()).isEqualTo("full");
		assertThat(listed.get("backup-incr").path("parameters").path("type").asString()).isEqualTo("incr");
		assertThat(listed.values()).allSatisfy(schedule -> assertThat(schedule.path("misfire").asString()).isEqualTo("fire-now"));

		assertThat(etl(environment, "schedules", "pause", "backup-drill").exitCode()).isZero();
		assertThat(listed(environment).get("backup-drill").path("state").asString()).isEqualTo("PAUSED");
		assertThat(etl(environment, "schedules", "resume", "backup-drill").exitCode()).isZero();
		assertThat(listed(environment).get("backup-drill").path("state").asString()).isEqualTo("NORMAL");

		// triggered with no node running: the firing waits in the store, and the first node to start runs it
		EtlProcess.Result trigger = etl(environment, "schedules", "trigger", "backup-verify");
		assertThat(trigger.exitCode()).isZero();
		assertThat(trigger.stdout().strip()).isEqualTo("schedule backup-verify triggered, but no scheduler node runs now:"
				+ " the firing waits in the job store until one starts (bin/etl scheduler), then runs at once");
		EtlProcess node = node(cluster, schedules, TestDatabase.url());
		awaitTrue(Duration.ofSeconds(60), () -> node.stderrSoFar().contains("started: 4 schedules"));
		awaitTrue(Duration.ofSeconds(120), () -> !firings("backup-verify").isEmpty()
				&& List.of("COMPLETED", "FAILED", "STOPPED").contains(firings("backup-verify").get(0).status()));
		Firing verified = firings("backup-verify").get(0);
		// the verify ran and was recorded; it passes or not by the shared repository's state (other classes back up
		// into it: no full set yet fails it), and the run's status says which
		List<Boolean> passed = jdbc.queryForList("SELECT passed FROM etl.physical_verify ORDER BY id DESC LIMIT 1",
				Boolean.class);
		assertThat(passed).as(node.stderrSoFar()).hasSize(1);
		assertThat(verified.status()).as(node.stderrSoFar()).isEqualTo(passed.get(0) ? "COMPLETED" : "FAILED");
		assertThat(jdbc.queryForObject("SELECT parameter_value FROM etl.batch_job_execution_params"
				+ " WHERE job_execution_id = ? AND parameter_name = 'physical'", String.class, verified.executionId()))
			.isEqualTo("true");
		node.terminate();
	}

	/**
	 * A physical backup's firing while a nightly runs its backup step (the nightly's lock and the backup job's own
	 * held, as the nightly and its logical backup hold them) runs at once, to COMPLETED: physical backups take a lock
	 * of their own (issue 15; before, it was held back until the nightly had ended).
	 */
	@Test
	void aPhysicalBackupFiringRunsWhileANightlyRunsItsBackupStep() throws Exception {
		try (Connection nightly = TestDatabase.connect(); Statement statement = nightly.createStatement()) {
			statement.execute("SELECT pg_advisory_lock(hashtext('pgbatch.job'), hashtext('nightly')),"
					+ " pg_advisory_lock(hashtext('pgbatch.job'), hashtext('backup'))");
			Map<String, String> environment = idleNodeEnvironment();
			// stored by the node at its start
			awaitTrue(Duration.ofSeconds(60), () -> idleNode.stderrSoFar().contains("started: 2 schedules"));
			assertThat(etl(environment, "schedules", "trigger", "physical").exitCode()).isZero();
			awaitTrue(Duration.ofSeconds(180), () -> completed("physical").size() == 1);
			assertThat(idleNode.stderrSoFar()).doesNotContain("was refused");
		}
	}

	/** The schedules of {@code schedules list --json}, by name. */
	private static Map<String, JsonNode> listed(Map<String, String> environment) {
		EtlProcess.Result list = etl(environment, "schedules", "list", "--json");
		assertThat(list.exitCode()).as(list.stderr()).isZero();
		Map<String, JsonNode> byName = new HashMap<>();
		JSON.readTree(list.stdout()).forEach(schedule -> byName.put(schedule.path("name").asString(), schedule));
		return byName;
	}

	/** The first whole hour {@code hour} (UTC) after {@code after} on one of those days. */
	private static Instant nextAt(Instant after, int hour, Set<DayOfWeek> days) {
		ZonedDateTime at = after.atZone(ZoneOffset.UTC).truncatedTo(ChronoUnit.HOURS).withHour(hour);
		while (!at.toInstant().isAfter(after) || !days.contains(at.getDayOfWeek())) {
			at = at.plusDays(1);
		}
		return at.toInstant();
	}

	/**
	 * WAL archiving failing for real: archive_command made to fail (ALTER SYSTEM, cluster-wide, for a few seconds;
	 * it heals itself two minutes later should this JVM die, and is reset in any case) and a segment switched. The
	 * node's health is DOWN naming the failure, the scheduler's own part UP; once archive_command works again and the
	 * backlog is archived, UP.
	 */
	@Test
	void healthIsDownWhileWalArchivingFailsAndUpOnceTheBacklogIsArchived() throws Exception {
		String health = idleNodeHealth();
		awaitTrue(Duration.ofSeconds(60), () -> get(health).statusCode() == 200);
		assertThat(component(health, "walArchiving").path("status").asString()).isEqualTo("UP");
		try (WalArchivingOutage outage = WalArchivingOutage.start(TestDatabase.name())) {
			WalArchivingOutage.awaitSwitchingSegments(TestDatabase.name(), () -> get(health).statusCode() == 503);
			assertThat(component(health, "walArchiving").path("details").path("reason").asString())
				.startsWith("WAL archiving fails: archive_command failed at ");
			assertThat(component(health, "scheduler").path("status").asString()).isEqualTo("UP");
		}
		WalArchivingOutage.awaitSwitchingSegments(TestDatabase.name(), () -> get(health).statusCode() == 200);
		assertThat(component(health, "walArchiving").path("status").asString()).isEqualTo("UP");
	}

	/** A role that may not read pg_stat_archiver: the archiving part is UNKNOWN naming the GRANT, the node UP. */
	@Test
	void walArchivingIsUnknownNamingTheGrantWhenTheRoleMayNotReadTheArchiver() throws Exception {
		String health = idleNodeHealth();
		// in the class's database only: the privileges of pg_catalog's objects are per database
		StackSuperuser.execute(TestDatabase.name(), "REVOKE SELECT ON pg_catalog.pg_stat_archiver FROM PUBLIC");
		try {
			awaitTrue(Duration.ofSeconds(60), () -> get(health).statusCode() == 200);
			JsonNode archiving = component(health, "walArchiving");
			assertThat(archiving.path("status").asString()).isEqualTo("UNKNOWN");
			String role = '"' + jdbc.queryForObject("SELECT current_user", String.class) + '"';
			assertThat(archiving.path("details").path("reason").asString())
				.startsWith("the runner's role " + role + " may not read the WAL archiver's state")
				.contains("GRANT SELECT ON pg_catalog.pg_stat_archiver TO " + role + ";");
		}
		finally {
			StackSuperuser.execute(TestDatabase.name(), "GRANT SELECT ON pg_catalog.pg_stat_archiver TO PUBLIC");
		}
	}

	/**
	 * The backup gauges after a full backup and a drill that failed (its drills directory is one any user may write,
	 * which a drill refuses): the full's age in seconds, the newest restorable time at or after it, the last drill
	 * failed and recent, the archive's lag.
	 */
	@Test
	void theBackupGaugesShowTheNewestFullTheRestorableTimeAndTheLastDrill() throws Exception {
		Instant before = Instant.now();
		EtlProcess.Result full = etl(Map.of(), "run", "backup", "type=full");
		assertThat(full.exitCode()).as(full.stdout() + full.stderr()).isZero();
		Path unsafe = Files.createTempDirectory("drills");
		Files.setPosixFilePermissions(unsafe, PosixFilePermissions.fromString("rwxrwxrwx"));
		EtlProcess.Result drill = etl(Map.of("ETL_PGBACKREST_DRILL_DIR", unsafe.toString()), "run", "backup-drill");
		assertThat(drill.exitCode()).as(drill.stdout() + drill.stderr()).isEqualTo(1);
		// then a drill to a time (pg_amcheck only, no counts) that passed, as backup drill --to-time records one: the
		// failed drill to a point stays the last drill the gauges read (review 10 #18)
		jdbc.update("""
				INSERT INTO etl.restore_drill (started_at, target, backup_label, restore_seconds, replay_seconds, passed,
				                               problems)
				VALUES (now() + interval '1 second', '2026-12-03T02:40:00Z', NULL, 1, 1, true, '')""");

		String health = idleNodeHealth();
		awaitTrue(Duration.ofSeconds(60), () -> get(health).statusCode() == 200);
		// (read in the background: a scrape may come before the first reading)
		String[] scrape = new String[1];
		awaitTrue(Duration.ofSeconds(60), () -> {
			scrape[0] = get(health.replace("/health", "/prometheus")).body();
			return !Double.isNaN(gauge(scrape[0], "pgbatch_backup_last_age_seconds{type=\"full\"}"));
		});
		String metrics = scrape[0];
		Instant scraped = Instant.now();

		double since = Duration.between(before, scraped).toMillis() / 1000.0;
		assertThat(gauge(metrics, "pgbatch_backup_last_age_seconds{type=\"full\"}")).isBetween(0.0, since);
		assertThat(gauge(metrics, "pgbatch_backup_restorable_newest_seconds"))
			.isBetween((double) before.getEpochSecond(), (double) scraped.getEpochSecond());
		assertThat(gauge(metrics, "pgbatch_drill_last_passed")).isZero();
		assertThat(gauge(metrics, "pgbatch_drill_last_age_seconds")).isBetween(0.0, since);
		assertThat(gauge(metrics, "pgbatch_wal_archive_lag_seconds")).isGreaterThanOrEqualTo(0.0).isLessThan(600.0);
		assertThat(metrics).contains("pgbatch_backup_last_age_seconds{type=\"incr\"} ");
	}

	/** One component of the node's health, as its health endpoint answers now. */
	private static JsonNode component(String health, String name) {
		return JSON.readTree(get(health).body()).path("components").path(name);
	}

	/** The value of a metric of the Prometheus text (its name with its labels as written there). */
	private static double gauge(String metrics, String name) {
		return metrics.lines()
			.filter(line -> line.startsWith(name + " "))
			.map(line -> Double.parseDouble(line.substring(name.length() + 1).strip()))
			.findFirst()
			.orElseThrow(() -> new AssertionError(name + " is not among the metrics:\n" + metrics));
	}

	@Test
	void sigtermStopsTheRunningJobAfterItsChunkAndARestartFinishesIt() throws Exception {
		Path schedules = schedules("""
				schedules:
				  - name: seed-on-demand
				    job: seed-data
				    cron: "0 0 3 1 1 ? 2099"
				    parameters:
				      scale: 0.5
				      # another test's seed may have run before in this class's database
				      reset: true
				""");
		Map<String, String> environment = environment("sigterm", schedules, TestDatabase.url());
		environment.put("ETL_SEED_CHUNK_ROWS", "200");
		EtlProcess node = EtlProcess.start(environment, "scheduler");
		this.nodes.add(node);
		awaitTrue(Duration.ofSeconds(60), () -> node.stderrSoFar().contains("started: 1 schedules"));
		assertThat(etl(environment, "schedules", "trigger", "seed-on-demand").exitCode()).isZero();
		// Wait for this schedule's own execution to have committed a chunk. Any STARTED execution of the
		// database would not do: another test's node killed mid-run leaves one behind (a refresh-views that
		// wrote a view), the wait passed at once and the SIGTERM came before the firing was recorded.
		awaitTrue(Duration.ofSeconds(60), () -> jdbc.queryForObject("""
				SELECT coalesce(sum(s.write_count), 0) FROM etl.batch_step_execution s
				JOIN etl.batch_job_execution e ON e.job_execution_id = s.job_execution_id
				JOIN etl.batch_job_execution_params p ON p.job_execution_id = e.job_execution_id
				WHERE e.status = 'STARTED' AND p.parameter_name = 'schedule' AND p.parameter_value = 'seed-on-demand'
				""", Long.class) > 0);

		EtlProcess.Result stopped = node.terminate();
		List<Firing> runs = firings("seed-on-demand");
		assertThat(runs).hasSize(1);
		assertThat(runs.get(0).status()).isEqualTo("STOPPED");
		assertThat(stopped.stderr()).contains("Stopping execution " + runs.get(0).executionId());

		EtlProcess.Result restart = etl(environment, "restart", Long.toString(runs.get(0).executionId()));
		assertThat(restart.exitCode()).as(restart.stderr()).isZero();
		assertThat(jdbc.queryForObject("SELECT count(*) FROM retail.stores", Long.class)).isPositive();
	}

	/**
	 * Issue 14's slow node: node A is paused (SIGSTOP) past its check-in while its firing's job runs, and node B
	 * recovers that firing, which the job's lock refuses (A's run still holds it). Under fire-now B tries the
	 * same firing again until the job is free: after A resumes, the firing has one execution, COMPLETED, and
	 * the last try finds it so, once; nothing is dropped.
	 */
	@Test
	void aFiringRecoveredFromAPausedNodeIsTriedAgainUnderFireNowUntilThePausedRunCompletes() throws Exception {
		SlowNode slow = slowNodeRecovered(SLOW_FIRE_NOW);
		String firing = "the firing of " + slow.firing();
		// refused again and again while A is paused: each time tried again (its retry trigger scheduled anew, at a
		// later time), never dropped, and said once
		java.util.Set<Long> retries = new java.util.HashSet<>();
		awaitTrue(Duration.ofSeconds(30), () -> {
			retries.addAll(jdbc.queryForList("SELECT next_fire_time FROM etl.qrtz_triggers WHERE sched_name = ? AND"
					+ " trigger_name = ?", Long.class, SLOW_CLUSTER, slow.schedule() + ScheduledRun.RETRY_SUFFIX));
			return retries.size() >= 3;
		});
		assertThat(matches(slow.recoveringLog(), "(" + firing + " was refused: )")).hasSize(1);
		assertThat(slow.recoveringLog()).containsPattern("trying it again at \\S+ and every \\d+ ms after \\(misfire: fire-now")
			.doesNotContain("dropped");

		slow.paused().resume();
		// A, running again, fires the cluster's triggers too: the try that finds the firing done may be A's
		String alreadyRan = "(" + Pattern.quote(firing) + " already ran)";
		awaitTrue(Duration.ofSeconds(90), () -> !matches(slow.logs(), alreadyRan).isEmpty());
		assertThat(firings(slow.schedule())).singleElement()
			.satisfies(run -> assertThat(run.status()).isEqualTo("COMPLETED"))
			.satisfies(run -> assertThat(run.firing()).isEqualTo(slow.firing()));
		awaitTrue(Duration.ofSeconds(10), () -> jdbc.queryForObject("SELECT count(*) FROM etl.qrtz_triggers"
				+ " WHERE sched_name = ? AND trigger_name LIKE ?", Long.class, SLOW_CLUSTER,
				slow.schedule() + ScheduledRun.RETRY_SUFFIX) == 0);
		assertThat(matches(slow.logs(), alreadyRan)).hasSize(1);
	}

	/**
	 * The same under skip, with the firing past the misfire threshold once B recovers it: B drops its try, and
	 * says so in its log and in its SKIPPED count; A's run, resumed, completes the firing.
	 */
	@Test
	void aFiringRecoveredFromAPausedNodePastItsMisfireThresholdUnderSkipIsDroppedWithALogLineAndASkippedCount()
			throws Exception {
		SlowNode slow = slowNodeRecovered(SLOW_SKIP);
		awaitTrue(Duration.ofSeconds(30), () -> slow.recoveringLog().contains("the firing of " + slow.firing()
				+ " was refused: "));
		assertThat(slow.recoveringLog()).contains("dropped, as its misfire policy 'skip' says");
		assertThat(get(slow.metrics()).body()).containsPattern("pgbatch_schedule_runs_total\\{job=\"seed-data\",schedule=\""
				+ slow.schedule() + "\",status=\"SKIPPED\"} 1\\.0");
		assertThat(jdbc.queryForObject("SELECT count(*) FROM etl.qrtz_triggers WHERE sched_name = ? AND trigger_name = ?",
				Long.class, SLOW_CLUSTER, slow.schedule() + ScheduledRun.RETRY_SUFFIX)).isZero();

		slow.paused().resume();
		awaitTrue(Duration.ofSeconds(90), () -> firings(slow.schedule()).stream().anyMatch(run -> run.status().equals("COMPLETED")));
		assertThat(firings(slow.schedule())).singleElement()
			.satisfies(run -> assertThat(run.firing()).isEqualTo(slow.firing()));
	}

	/**
	 * A node A paused (SIGSTOP) mid-run, whose firing a node B has recovered and been refused; their logs from
	 * {@code pausedFrom} and {@code recoveringFrom} on are the test's (the two nodes serve both slow-node tests).
	 */
	private record SlowNode(String schedule, Instant firing, EtlProcess paused, int pausedFrom, EtlProcess recovering,
			int recoveringFrom, String metrics) {

		String recoveringLog() throws IOException {
			return this.recovering.stderrSoFar().substring(this.recoveringFrom);
		}

		/** What both nodes logged in this test. */
		String logs() throws IOException {
			return this.paused.stderrSoFar().substring(this.pausedFrom) + recoveringLog();
		}

	}

	/**
	 * Triggers the schedule on the slow-node cluster, pauses the node that runs it once a chunk of its execution has
	 * committed (the job's lock held), and waits until the other has recovered the firing and been refused.
	 */
	private SlowNode slowNodeRecovered(String name) throws Exception {
		List<EtlProcess> both = slowNodes();
		int[] from = { both.get(0).stderrSoFar().length(), both.get(1).stderrSoFar().length() };
		assertThat(etl(slowEnvironments.get(0), "schedules", "trigger", name).exitCode()).isZero();
		// mid-run: a chunk of this firing's execution committed, the job's lock held by the node running it
		awaitTrue(Duration.ofSeconds(60), () -> jdbc.queryForObject("""
				SELECT coalesce(sum(s.write_count), 0) FROM etl.batch_step_execution s
				JOIN etl.batch_job_execution e ON e.job_execution_id = s.job_execution_id
				JOIN etl.batch_job_execution_params p ON p.job_execution_id = e.job_execution_id
				WHERE e.status = 'STARTED' AND p.parameter_name = 'schedule' AND p.parameter_value = ?
				""", Long.class, name) > 0);
		Instant firing = firings(name).get(0).firing();
		String starts = "Schedule " + name + ": firing of " + firing + " starts";
		int a = both.get(0).stderrSoFar().substring(from[0]).contains(starts) ? 0 : 1;
		int b = 1 - a;
		assertThat(both.get(a).stderrSoFar().substring(from[a])).contains(starts);
		both.get(a).pause();
		// B finds A's check-in stale (an interval and Quartz's 7.5 s of grace) and fires A's firing again
		awaitTrue(Duration.ofSeconds(60), () -> both.get(b).stderrSoFar().substring(from[b])
			.contains("the firing of " + firing + " was refused: "));
		return new SlowNode(name, firing, both.get(a), from[a], both.get(b), from[b],
				"http://127.0.0.1:" + slowEnvironments.get(b).get("ETL_SCHEDULER_PORT") + "/actuator/prometheus");
	}

	/** The two nodes of {@link #SLOW_CLUSTER}, started now (side by side) unless they run, each once up. */
	private static synchronized List<EtlProcess> slowNodes() throws IOException {
		if (slowNodes.isEmpty()) {
			Path schedules = schedules("""
					schedules:
					  - name: %s
					    job: seed-data
					    cron: "0 0 3 1 1 ? 2099"
					    misfire: fire-now
					    parameters: {scale: 0.5, reset: true}
					  - name: %s
					    job: seed-data
					    cron: "0 0 3 1 1 ? 2099"
					    misfire: skip
					    parameters: {scale: 0.5, reset: true}
					""".formatted(SLOW_FIRE_NOW, SLOW_SKIP));
			for (int i = 0; i < 2; i++) {
				Map<String, String> environment = environment(SLOW_CLUSTER, schedules, TestDatabase.url());
				environment.put("ETL_SEED_CHUNK_ROWS", "200");
				environment.put("ETL_SCHEDULER_RETRY_MS", "1000");
				slowEnvironments.add(environment);
				slowNodes.add(EtlProcess.start(environment, "scheduler"));
			}
		}
		for (EtlProcess node : slowNodes) {
			awaitTrue(Duration.ofSeconds(60), () -> node.stderrSoFar().contains("started: 2 schedules"));
		}
		return slowNodes;
	}

	/** A command that ends by itself, run in this JVM: the process is not the point there. */
	private static EtlProcess.Result etl(Map<String, String> environment, String... arguments) {
		return EtlInProcess.run(environment, arguments);
	}

	private EtlProcess node(String cluster, Path schedules, String databaseUrl) throws IOException {
		EtlProcess node = EtlProcess.start(environment(cluster, schedules, databaseUrl), "scheduler");
		this.nodes.add(node);
		return node;
	}

	/** The health endpoint of {@link #idleNode}, started now unless it runs. */
	private static String idleNodeHealth() throws IOException {
		return "http://127.0.0.1:" + idleNodeEnvironment().get("ETL_SCHEDULER_PORT") + "/actuator/health";
	}

	/** The settings of {@link #idleNode}, started now unless it runs. */
	private static synchronized Map<String, String> idleNodeEnvironment() throws IOException {
		if (idleNode == null) {
			idleEnvironment = environment("idle", schedules("""
					schedules:
					  - {name: far-off, job: refresh-views, cron: "0 0 3 1 1 ? 2099"}
					  - name: physical
					    job: backup
					    cron: "0 0 3 1 1 ? 2099"
					    # as a full, but it copies only what changed, not the whole cluster (a full when the repository
					    # has none)
					    parameters:
					      type: incr
					"""), TestDatabase.url());
			idleNode = EtlProcess.start(idleEnvironment, "scheduler");
		}
		return idleEnvironment;
	}

	/** Starts a node and returns the address of its health endpoint. */
	private String healthOfNewNode(Map<String, String> environment) throws IOException {
		this.nodes.add(EtlProcess.start(environment, "scheduler"));
		return "http://127.0.0.1:" + environment.get("ETL_SCHEDULER_PORT") + "/actuator/health";
	}

	private static Map<String, String> environment(String cluster, Path schedules, String databaseUrl)
			throws IOException {
		Map<String, String> environment = new HashMap<>();
		environment.put("ETL_DB_URL", databaseUrl);
		environment.put("ETL_DB_MIGRATE", "false");
		environment.put("ETL_SCHEDULER_NAME", cluster);
		environment.put("ETL_SCHEDULES_DIR", schedules.toString());
		environment.put("ETL_SCHEDULER_PORT", Integer.toString(freePort()));
		environment.put("ETL_SCHEDULER_CHECKIN_MS", "1000");
		environment.put("ETL_SCHEDULER_MISFIRE_THRESHOLD_MS", "1000");
		environment.put("ETL_LOG_LEVEL", "INFO");
		environment.put("ETL_JAVA_OPTS", QUICK_COMPILER);
		return environment;
	}

	private static Path schedules(String yaml) throws IOException {
		Path directory = Files.createTempDirectory("schedules");
		Files.writeString(directory.resolve("test.yml"), yaml);
		return directory;
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	/** The executions a schedule launched, oldest first, with the firing (run.id) each belongs to. */
	private static List<Firing> firings(String schedule) {
		return jdbc.query("""
				SELECT e.job_execution_id, e.status, e.start_time, e.end_time,
				       (SELECT r.parameter_value FROM etl.batch_job_execution_params r
				        WHERE r.job_execution_id = e.job_execution_id AND r.parameter_name = 'run.id')::bigint AS run_id
				FROM etl.batch_job_execution e
				JOIN etl.batch_job_execution_params p ON p.job_execution_id = e.job_execution_id
				WHERE p.parameter_name = 'schedule' AND p.parameter_value = ?
				ORDER BY e.job_execution_id
				""", (row, i) -> new Firing(row.getLong("job_execution_id"), row.getString("status"),
				Instant.ofEpochMilli(row.getLong("run_id")), instant(row.getTimestamp("start_time")),
				instant(row.getTimestamp("end_time"))), schedule);
	}

	/** A time of an execution, null while it is not there yet (an execution is recorded before it starts). */
	private static Instant instant(java.sql.Timestamp timestamp) {
		return (timestamp == null) ? null : timestamp.toInstant();
	}

	private static List<Firing> completed(String schedule) {
		return firings(schedule).stream().filter(run -> run.status().equals("COMPLETED")).toList();
	}

	private static List<String> matches(String text, String regex) {
		List<String> found = new ArrayList<>();
		Matcher matcher = Pattern.compile(regex).matcher(text);
		while (matcher.find()) {
			found.add(matcher.group(1));
		}
		return found;
	}

	private static HttpResponse<String> get(String url) {
		try {
			return HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
						HttpResponse.BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private static void awaitTrue(Duration timeout, ThrowingCondition condition) {
		// IllegalStateException: not there yet (the server is still starting)
		await().atMost(timeout).pollInterval(Duration.ofMillis(250)).ignoreException(IllegalStateException.class)
			.until(condition::holds);
	}

	@FunctionalInterface
	private interface ThrowingCondition {

		boolean holds() throws Exception;

	}

	private record Firing(long executionId, String status, Instant firing, Instant start, Instant end) {
	}

}
