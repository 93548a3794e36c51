package dev.pgbatch.core;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.StackSuperuser;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.partition.PartitionLock;
import dev.pgbatch.seed.SeedDataJob;
import dev.pgbatch.seed.SeedDataRuns;
import dev.pgbatch.store.CuttingProxy;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.repository.support.ResourcelessJobRepository;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Launch, stop and restart through the job repository in PostgreSQL, as bin/etl's commands do. */
@TestPropertySource(properties = { "etl.seed.chunk-rows=100", "etl.lock.check-interval=500ms" })
class JobRunnerIntegrationTests extends DatabaseIntegrationTest {

	@Autowired
	ExecutionLock lock;

	@Autowired
	ExecutionReports reports;

	@Autowired
	JobRepository repository;

	@Autowired
	PlatformTransactionManager transactions;

	private JobExecution seed(String... parameters) {
		return SeedDataRuns.seed(this.runner, parameters);
	}

	@Test
	void aRunningExecutionStopsAfterItsChunkAndRestartFinishesIt() throws Exception {
		CompletableFuture<JobExecution> run = CompletableFuture.supplyAsync(() -> seed("scale=2", "reset=true"));
		long id = awaitCommittedChunks(3);
		assertThat(this.lock.isHeld(SeedDataJob.NAME)).isTrue();

		this.runner.stop(id);
		JobExecution stopped = run.get();

		assertThat(stopped.getStatus()).isEqualTo(BatchStatus.STOPPED);
		// the reason as people read it, not the name of the exception that carried the stop
		assertThat(ExecutionReport.of(stopped, false).exitDescription()).isEqualTo(ExecutionReport.STOPPED);
		assertThat(this.lock.isHeld(SeedDataJob.NAME)).isFalse();
		// stopped three chunks of 100 rows in: far from the last table of either schema
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM ops.task_executions", Long.class)).isLessThan(20000);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM retail.sales_transactions", Long.class)).isLessThan(10000);

		JobExecution finished = this.runner.restart(id);

		assertThat(finished.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(finished.getJobInstance().getId()).isEqualTo(stopped.getJobInstance().getId());
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM retail.customers", Long.class)).isEqualTo(4000);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM ops.task_executions", Long.class)).isEqualTo(20000);
	}

	@Test
	void aCompletedExecutionIsNotRestartedAndAnUnknownOneIsBadInput() {
		JobExecution done = seed("scale=0.01", "reset=true");
		assertThat(done.getStatus()).isEqualTo(BatchStatus.COMPLETED);

		assertThatThrownBy(() -> this.runner.restart(done.getId())).isInstanceOf(RefusedException.class)
			.hasMessageContaining("already COMPLETED");
		assertThatThrownBy(() -> this.runner.restart(987654321L)).isInstanceOf(UsageException.class)
			.hasMessage("there is no execution 987654321");
		assertThatThrownBy(() -> this.runner.stop(done.getId())).isInstanceOf(RefusedException.class)
			.hasMessageContaining("is not running");
	}

	@Test
	void anExecutionWithANewerOneAfterItIsNotRestartedNorContinuedAsANightlysChild() {
		seed("scale=0.01", "reset=true");
		JobExecution failed = seed("scale=0.01");
		assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
		JobExecution newer = seed("scale=0.01", "reset=true");
		long executions = this.jdbc.queryForObject("SELECT count(*) FROM etl.batch_job_execution", Long.class);

		assertThatThrownBy(() -> this.runner.restart(failed.getId())).isInstanceOf(RefusedException.class)
			.hasMessageContaining("is not the newest")
			.hasMessageContaining("launch the job again instead");
		// what the nightly's restart does with its children
		assertThatThrownBy(() -> this.runner.continueOrStart(SeedDataJob.NAME, failed.getJobParameters()))
			.isInstanceOf(RefusedException.class)
			.hasMessage("execution " + failed.getId() + " of seed-data is not the newest (" + newer.getId()
					+ " ran after it): continuing it now could mix its work with the newer run's; launch the job again"
					+ " instead");
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM etl.batch_job_execution", Long.class))
			.isEqualTo(executions);
	}

	@Test
	void aRunWhoseLockSessionIsTerminatedStopsAndSaysWhy() throws Exception {
		// scale 10: its loads take seconds, where the lock's loss is seen within the check interval (scale 2 loaded
		// whole in less than that here)
		CompletableFuture<JobExecution> run = CompletableFuture.supplyAsync(() -> seed("scale=10", "reset=true"));
		awaitCommittedChunks(2);

		List<Integer> holders = TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.job", SeedDataJob.NAME);
		assertThat(holders).hasSize(1);
		assertThat(this.jdbc.queryForObject("SELECT pg_terminate_backend(?)", Boolean.class, holders.get(0))).isTrue();

		JobExecution ended = run.get(1, TimeUnit.MINUTES);
		assertThat(ended.getStatus()).isEqualTo(BatchStatus.STOPPED);
		assertThat(ended.getExitStatus().getExitDescription()).isEqualTo(JobRunner.LOCK_LOST);
		assertThat(this.runner.execution(ended.getId()).getExitStatus().getExitDescription()).isEqualTo(JobRunner.LOCK_LOST);
		// stopped soon after: far from all of the 50,000 transactions and 100,000 task executions
		assertThat(this.jdbc.queryForObject("SELECT (SELECT count(*) FROM retail.sales_transactions)"
				+ " + (SELECT count(*) FROM ops.task_executions)", Long.class)).isLessThan(100000);
	}

	/**
	 * The shared lock of the partitions is watched like the job's own: its session terminated, the run stops
	 * (seed-data holds both).
	 */
	@Test
	void aRunWhosePartitionsLockSessionIsTerminatedEndsAndSaysWhy() throws Exception {
		CompletableFuture<JobExecution> run = CompletableFuture.supplyAsync(() -> seed("scale=2", "reset=true"));
		awaitCommittedChunks(2);

		List<Integer> holders = TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.shared", "partitions of the managed tables");
		assertThat(holders).hasSize(1);
		assertThat(this.jdbc.queryForObject("SELECT pg_terminate_backend(?)", Boolean.class, holders.get(0))).isTrue();

		JobExecution ended = run.get(1, TimeUnit.MINUTES);
		// stopped by the watch after a chunk, or failed at the next commit of a step that changes partitions
		// (PartitionLock.heldAtCommit), whichever comes first
		// (both at once too, in the two flows of seed-data): the loss is said by the run or one of its steps
		assertThat(ended.getStatus()).isIn(BatchStatus.STOPPED, BatchStatus.FAILED);
		JobExecution stored = this.runner.execution(ended.getId());
		List<String> said = new java.util.ArrayList<>(List.of(stored.getExitStatus().getExitDescription()));
		stored.getStepExecutions().forEach(step -> said.add(step.getExitStatus().getExitDescription()));
		ended.getAllFailureExceptions().forEach(failure -> said.add(String.valueOf(failure.getMessage())));
		assertThat(said).anyMatch(text -> text.contains(PartitionLock.LOCK_LOST));
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM ops.task_executions", Long.class)).isLessThan(20000);
	}

	/**
	 * A bounded statement sets its short lock_timeout with SET LOCAL in a savepoint, which outlives the
	 * savepoint's release: the statements after it run with the caller's lock_timeout again.
	 */
	@Test
	void aStatementAfterABoundedOneWaitsForLocksAsTheCallerSaid() {
		BoundedLocks locks = new BoundedLocks(this.transactions, this.jdbc, Duration.ofMillis(500), 2);
		String after = new TransactionTemplate(this.transactions).execute(status -> {
			this.jdbc.execute("SET LOCAL lock_timeout = '7s'");
			locks.execute("etl.batch_job_instance", () -> this.jdbc.execute("LOCK TABLE etl.batch_job_instance IN SHARE MODE"));
			return this.jdbc.queryForObject("SHOW lock_timeout", String.class);
		});
		assertThat(after).isEqualTo("7s");
	}

	/**
	 * A wait for a shared lock that can be stopped keeps its place in the lock's queue: on the holder's release
	 * it gets the lock before a session that queued after it and waits as every other wait now does (a wait
	 * taken in turns of 500 ms queued anew each turn, behind it, and was overtaken on every release). Asked to
	 * stop, it gives up within a look and leaves no lock and no session behind; not given the lock in time, it
	 * refuses naming the holder.
	 */
	@Test
	void aStoppableWaitForASharedLockKeepsItsPlaceInTheQueueAndLeavesNothingBehind() throws Exception {
		String resource = "queue of the test";
		try (Connection later = this.jdbc.getDataSource().getConnection()) {
			CompletableFuture<ExecutionLock.Held> first;
			CompletableFuture<Boolean> second;
			try (ExecutionLock.Held holder = this.lock.acquireShared(resource, "test holder", Duration.ofSeconds(1))) {
				first = BackgroundThreads.start("first waiter",
						() -> this.lock.acquireShared(resource, "test first", Duration.ofMinutes(1), () -> false));
				awaitWaiters(resource, 1);
				second = BackgroundThreads.start("second waiter", () -> {
					try (PreparedStatement statement = later
						.prepareStatement("SELECT pg_advisory_lock(hashtext('pgbatch.shared'), hashtext(?))")) {
						statement.setString(1, resource);
						return statement.execute();
					}
					catch (SQLException ex) {
						throw new IllegalStateException(ex);
					}
				});
				awaitWaiters(resource, 2);
				// long enough for a wait in turns to have queued anew, behind the second
				Thread.sleep(700);
			}
			CompletableFuture.anyOf(first, second).get(10, TimeUnit.SECONDS);
			boolean secondFirst = second.isDone();
			if (secondFirst) {
				try (Statement statement = later.createStatement()) {
					statement.execute("SELECT pg_advisory_unlock_all()");
				}
			}
			first.get(10, TimeUnit.SECONDS).close();
			second.get(10, TimeUnit.SECONDS);
			try (Statement statement = later.createStatement()) {
				statement.execute("SELECT pg_advisory_unlock_all()");
			}
			assertThat(secondFirst).as("the session queued later got the lock first").isFalse();
		}

		try (ExecutionLock.Held holder = this.lock.acquireShared(resource, "test holder", Duration.ofSeconds(1))) {
			AtomicBoolean stop = new AtomicBoolean();
			CompletableFuture<ExecutionLock.Held> stoppable = BackgroundThreads.start("stoppable waiter",
					() -> this.lock.acquireShared(resource, "test stoppable", Duration.ofMinutes(1), stop::get));
			awaitWaiters(resource, 1);
			stop.set(true);
			assertThat(stoppable.get(5, TimeUnit.SECONDS)).isNull();
			awaitWaiters(resource, 0);
			await().atMost(Duration.ofSeconds(10)).until(() -> this.jdbc.queryForObject(
					"SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgbatch test stoppable,%'",
					Long.class) == 0);

			assertThatThrownBy(() -> this.lock.acquireShared(resource, "test late", Duration.ofMillis(300), () -> false))
				.isInstanceOf(RefusedException.class)
				.hasMessageStartingWith("the " + resource + " are being changed by pgbatch test holder, pid ");
		}
		assertThat(TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.shared", resource)).isEmpty();
		awaitWaiters(resource, 0);
	}

	/**
	 * The lock sessions' settings hold whatever ETL_DB_URL's options= and the role's settings say: with a
	 * statement_timeout and an idle_session_timeout of a second for the role (in this database only), a wait of
	 * 3 s for a shared lock still refuses naming its holder, a longer one gets the lock when the holder lets go,
	 * and a job's lock stays held while its session idles (set through PgJDBC's options, they lost to the URL's).
	 */
	@Test
	void theLockSessionsKeepTheirSettingsWhateverTheUrlAndTheRoleSay() throws Exception {
		String resource = "timeouts of the test";
		String url = TestDatabase.url();
		ExecutionLock lock = LockWaiter.at(url + (url.contains("?") ? "&" : "?") + "options=-c%20search_path%3Dretail");
		String role = "ALTER ROLE CURRENT_USER IN DATABASE " + TestDatabase.name();
		try (Connection admin = TestDatabase.connect(); Statement statement = admin.createStatement()) {
			statement.execute(role + " SET statement_timeout = '1s'");
			statement.execute(role + " SET idle_session_timeout = '1s'");
			try (ExecutionLock.Held job = lock.acquire("test idle job")) {
				CompletableFuture<ExecutionLock.Held> patient;
				try (ExecutionLock.Held holder = lock.acquireShared(resource, "test holder", Duration.ofSeconds(1))) {
					patient = BackgroundThreads.start("patient waiter",
							() -> lock.acquireShared(resource, "test patient", Duration.ofMinutes(1), () -> false));
					awaitWaiters(resource, 1);
					assertThatThrownBy(() -> lock.acquireShared(resource, "test refused", Duration.ofSeconds(3)))
						.isInstanceOf(RefusedException.class)
						.hasMessageStartingWith("the " + resource + " are being changed by pgbatch test holder, pid ");
				}
				try (ExecutionLock.Held taken = patient.get(10, TimeUnit.SECONDS)) {
					assertThat(taken.check()).isTrue();
				}
				assertThat(job.check()).as("the job's lock, its session idle for 3 s").isTrue();
			}
			finally {
				statement.execute(role + " RESET statement_timeout");
				statement.execute(role + " RESET idle_session_timeout");
				// the pool's sessions made meanwhile have the role's timeouts: not for the tests after this one
				this.jdbc.getDataSource().unwrap(HikariDataSource.class).getHikariPoolMXBean().softEvictConnections();
			}
		}
		assertThat(TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.shared", resource)).isEmpty();
	}

	/**
	 * A waiter whose process is killed (kill -9; Ctrl-C or a closed ssh session end a CLI's wait alike) leaves
	 * the lock's queue within seconds, as the server checks the client's connection while the session waits:
	 * it kept its place until its wait ended (ETL_PARTITION_LOCK_WAIT, up to a day), every live waiter behind it.
	 */
	@Test
	void aWaiterWhoseProcessIsKilledLeavesTheQueue() throws Exception {
		String resource = "queue of the killed waiter";
		try (ExecutionLock.Held holder = this.lock.acquireShared(resource, "test holder", Duration.ofSeconds(1))) {
			Process waiter = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
					"-cp", System.getProperty("java.class.path"), LockWaiter.class.getName(), TestDatabase.url(),
					resource, "test killed waiter")
				.redirectOutput(ProcessBuilder.Redirect.INHERIT)
				.redirectError(ProcessBuilder.Redirect.INHERIT)
				.start();
			try {
				awaitWaiters(resource, 1, Duration.ofMinutes(1));
			}
			finally {
				waiter.destroyForcibly().waitFor();
			}
			awaitWaiters(resource, 0, Duration.ofSeconds(5));
			assertThat(holder.check()).isTrue();
		}
	}

	/**
	 * A stop that comes as the lock is granted: the server has granted it and answered, the answer is on its way
	 * (held by a proxy, as a slow network holds it), and the watch says stop and cancels, too late to end the
	 * wait. The outcome is STOPPED all the same: the lock, taken, is released with the session and never handed
	 * on as held.
	 */
	@Test
	void aStopThatComesAsTheLockIsGrantedReleasesItAndHandsNothingOn() throws Exception {
		String resource = "race of the test";
		try (CuttingProxy proxy = inFrontOfPostgres()) {
			ExecutionLock proxied = lockThrough(proxy);
			AtomicBoolean stop = new AtomicBoolean();
			CompletableFuture<ExecutionLock.Held> racing;
			CuttingProxy.Hold grant;
			try (ExecutionLock.Held holder = this.lock.acquireShared(resource, "test holder", Duration.ofSeconds(1))) {
				racing = BackgroundThreads.start("racing waiter", () -> proxied.acquireShared(resource, "test racing",
						Duration.ofMinutes(1), stop::get));
				awaitWaiters(resource, 1);
				grant = proxy.holdAnswers("pg_advisory_lock");
			}
			assertThat(grant.reached(10)).as("the server answered the wait").isTrue();
			assertThat(this.jdbc.queryForList("SELECT application_name FROM pg_stat_activity WHERE pid = ANY (?)",
					String.class, (Object) TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.shared", resource)
						.toArray(Integer[]::new)))
				.singleElement()
				.asString()
				.startsWith("pgbatch test racing, pid ");
			stop.set(true);
			// the watch marks the wait stopped, then cancels it: on a connection of its own, through the proxy
			await("the cancel").atMost(Duration.ofSeconds(10)).until(proxy::accepted, connections -> connections >= 2);
			grant.close();
			assertThat(racing.get(10, TimeUnit.SECONDS)).as("handed on as held").isNull();
		}
		await().atMost(Duration.ofSeconds(10))
			.until(() -> TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.shared", resource).isEmpty());
	}

	/**
	 * A stop whose first cancel reaches the server before the wait has begun there (the query held on its way, as
	 * a slow network holds it; a cancel of an idle session does nothing) still ends the wait: the next look
	 * cancels again. PgJDBC's Statement.cancel sends one cancel per execution, so the wait went on to its end.
	 */
	@Test
	void aStopWhoseFirstCancelComesBeforeTheWaitStillEndsIt() throws Exception {
		String resource = "early cancel of the test";
		try (CuttingProxy proxy = inFrontOfPostgres();
				ExecutionLock.Held holder = this.lock.acquireShared(resource, "test holder", Duration.ofSeconds(1))) {
			ExecutionLock proxied = lockThrough(proxy);
			AtomicBoolean stop = new AtomicBoolean();
			CompletableFuture<ExecutionLock.Held> waiter;
			try (CuttingProxy.Hold query = proxy.hold("pg_advisory_lock")) {
				waiter = BackgroundThreads.start("early stopped waiter", () -> proxied.acquireShared(resource, "test early stop",
						Duration.ofMinutes(1), stop::get));
				assertThat(query.reached(10)).as("the wait's query on its way").isTrue();
				stop.set(true);
				await("the first cancel").atMost(Duration.ofSeconds(10))
					.until(proxy::accepted, connections -> connections >= 2);
				// the server has the cancel at once, while the session is idle
				Thread.sleep(500);
			}
			assertThat(waiter.get(5, TimeUnit.SECONDS)).isNull();
		}
		awaitWaiters(resource, 0);
	}

	/** A proxy in front of the test database's server. */
	private static CuttingProxy inFrontOfPostgres() throws IOException {
		int port = URI.create(TestDatabase.url().substring("jdbc:".length())).getPort();
		return new CuttingProxy(port < 0 ? 5432 : port);
	}

	/** The runner's lock, its connections through {@code proxy}. */
	private static ExecutionLock lockThrough(CuttingProxy proxy) {
		return LockWaiter.at(TestDatabase.url().replaceFirst("//[^/]+/", "//127.0.0.1:" + proxy.port() + "/"));
	}

	/**
	 * The stop question failing during a wait (the repository cannot be read, which StopRequests counts as not
	 * asked to stop) neither ends nor fails the wait, and the looks go on: once the repository says STOPPING,
	 * the wait stops.
	 */
	@Test
	void aStopQuestionThatFailsDuringAWaitLeavesItWaitingAndIsAskedAgain() throws Exception {
		String resource = "failing stop question of the test";
		JobExecution launching = new JobExecution(7, new JobInstance(3, "partition-rollover"), new JobParameters());
		AtomicInteger failures = new AtomicInteger();
		AtomicBoolean answers = new AtomicBoolean();
		ResourcelessJobRepository repository = new ResourcelessJobRepository() {
			@Override
			public JobExecution getJobExecution(long executionId) {
				if (!answers.get()) {
					failures.incrementAndGet();
					throw new DataAccessResourceFailureException("the repository cannot be read");
				}
				launching.setStatus(BatchStatus.STOPPING);
				return launching;
			}
		};
		try (ExecutionLock.Held holder = this.lock.acquireShared(resource, "test holder", Duration.ofSeconds(1))) {
			CompletableFuture<ExecutionLock.Held> waiter = BackgroundThreads.start("waiter asking a failing question",
					() -> this.lock.acquireShared(resource, "test failing question", Duration.ofMinutes(1),
							new StopRequests(repository).requested(launching)));
			awaitWaiters(resource, 1);
			await().atMost(Duration.ofSeconds(10)).until(() -> failures.get() >= 2);
			assertThat(waiter).isNotDone();
			awaitWaiters(resource, 1);
			answers.set(true);
			assertThat(waiter.get(5, TimeUnit.SECONDS)).isNull();
		}
		awaitWaiters(resource, 0);
	}

	/**
	 * A session of another role holding a job's lock (here the stack's superuser; any role may take advisory locks
	 * unless EXECUTE on them is revoked) is no run of the job: the job does not count as running (a schedule's wait,
	 * a stop, a restart trust that), and its launch is refused naming that role and the session's pid, not "already
	 * running" nor waited for in silence (review 13 #4).
	 */
	@Test
	void aJobLockHeldByASessionOfAnotherRoleIsNoRunAndItsLaunchIsRefusedNamingTheRole() throws Exception {
		String job = "a job of the test";
		// the server notices within moments that psql is gone (pg_sleep alone would keep the session to its end)
		Process foreign = StackSuperuser.start(TestDatabase.name(), "SET client_connection_check_interval = '100ms';"
				+ " SELECT set_config('application_name', 'squatter', false), pg_advisory_lock(hashtext('pgbatch.job'),"
				+ " hashtext('" + job + "')), pg_sleep(300)");
		try {
			await().atMost(Duration.ofSeconds(30))
				.until(() -> TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.job", job).size() == 1);
			int pid = TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.job", job).get(0);

			assertThat(this.lock.isHeld(job)).isFalse();
			assertThat(this.lock.holder(job)).isNull();
			String role = this.jdbc.queryForObject("SELECT session_user::text", String.class);
			assertThatThrownBy(() -> this.lock.acquire(job)).isInstanceOf(RefusedException.class)
				.hasMessage(String.format(ExecutionLock.FOREIGN_HOLDER, "job " + job, "postgres", pid, "squatter", role,
						pid));
		}
		finally {
			foreign.destroy();
			foreign.waitFor();
		}
		await().atMost(Duration.ofSeconds(30))
			.until(() -> TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.job", job).isEmpty());
	}

	/**
	 * Review 22 #7: a session of another role named as a runner names its sessions is most likely a runner configured
	 * with that role: said so, and no pg_terminate_backend is suggested.
	 */
	@Test
	void aJobLockHeldByARunnerOfAnotherRoleIsSaidToBeProbablyAnotherRunner() throws Exception {
		String job = "a job of another runner";
		String application = "pgbatch backup retention, pid 7 on another host";
		Process other = StackSuperuser.start(TestDatabase.name(), "SET client_connection_check_interval = '100ms';"
				+ " SELECT set_config('application_name', '" + application + "', false),"
				+ " pg_advisory_lock(hashtext('pgbatch.job'), hashtext('" + job + "')), pg_sleep(300)");
		try {
			await().atMost(Duration.ofSeconds(30))
				.until(() -> TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.job", job).size() == 1);
			int pid = TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.job", job).get(0);
			String role = this.jdbc.queryForObject("SELECT session_user::text", String.class);

			assertThatThrownBy(() -> this.lock.acquire(job)).isInstanceOf(RefusedException.class)
				.hasMessage("the lock of job " + job + " is held by a session of role postgres (server pid " + pid
						+ ", application_name '" + application + "'), not of the runner's role " + role
						+ ": probably another pgbatch runner, configured with that role; it cannot start until that run"
						+ " ends, and runners that share a server are to log in as one role (docs/operations.md,"
						+ " \"Advisory locks\")");
		}
		finally {
			other.destroy();
			other.waitFor();
		}
		await().atMost(Duration.ofSeconds(30))
			.until(() -> TestDatabase.advisoryLockHolders(this.jdbc, "pgbatch.job", job).isEmpty());
	}

	/**
	 * A refusal says which command holds the lock and where: its own holder name (several commands share a lock),
	 * its process and host, where its session connected from and since when, and its server pid (review 12 #7).
	 */
	@Test
	void aRefusalNamesTheHoldingCommandWhereItRunsAndSinceWhen() throws Exception {
		try (ExecutionLock.Held held = this.lock.acquire("a shared lock of the test", "test holder", null)) {
			assertThatThrownBy(() -> this.lock.acquire("a shared lock of the test", "test second", null))
				.isInstanceOf(RefusedException.class)
				.message()
				.matches("job a shared lock of the test is already running \\(pgbatch test holder, pid "
						+ ProcessHandle.current().pid() + " on \\S+; connected from \\S+ since"
						+ " \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ, server pid \\d+\\); a second run is refused");
		}
	}

	/**
	 * A backup's execution is judged by the lock of its type (issue 15): a physical one left STARTED is alive while
	 * "backup physical" is held (its restart refused naming that holder), and while the job's own "backup" is: a
	 * runner not yet upgraded runs its physical backups under it, so the restart is refused and the run left as it
	 * is; with neither held it has no live process, and a stop marks it FAILED. Only a later physical execution
	 * supersedes it, a later logical one does not.
	 */
	@Test
	void aBackupExecutionIsJudgedByTheLockOfItsTypeOrTheJobsAndSupersededOnlyByOneOfTheSameType() {
		JobExecution physical = startedBackup("incr");
		JobExecution logical = startedBackup("logical");
		try (ExecutionLock.Held held = this.lock.acquire("backup physical")) {
			assertThat(this.reports.report(physical.getId()).orphaned()).isFalse();
			assertThat(this.reports.report(logical.getId()).orphaned()).isTrue();
			assertThatThrownBy(() -> this.runner.restart(physical.getId())).isInstanceOf(RefusedException.class)
				.hasMessageStartingWith("job backup physical is already running (pgbatch backup physical, pid ");
		}
		assertThat(this.reports.report(physical.getId()).superseded()).isFalse();
		try (ExecutionLock.Held held = this.lock.acquire("backup")) {
			// a runner not yet upgraded holds "backup" for its physical runs too: alive, and not run a second time
			assertThat(this.reports.report(physical.getId()).orphaned()).isFalse();
			assertThat(this.reports.report(logical.getId()).orphaned()).isFalse();
			assertThatThrownBy(() -> this.runner.restart(physical.getId())).isInstanceOf(RefusedException.class)
				.hasMessage(JobRunner.STILL_RUNS_UNDER_JOB_LOCK.formatted(physical.getId(), "backup",
						this.lock.holder("backup")));
			assertThat(this.runner.execution(physical.getId()).getStatus()).isEqualTo(BatchStatus.STARTED);
		}
		assertThat(this.reports.report(physical.getId()).orphaned()).isTrue();
		assertThat(this.runner.stop(physical.getId()).getStatus()).isEqualTo(BatchStatus.FAILED);
		JobExecution full = startedBackup("full");
		assertThat(this.reports.report(physical.getId()).superseded()).isTrue();
		assertThat(this.reports.report(logical.getId()).superseded()).isFalse();
		// none left recorded as running: a backup wait of another test would take them for a run under way
		for (JobExecution started : List.of(logical, full)) {
			assertThat(this.runner.stop(started.getId()).getStatus()).isEqualTo(BatchStatus.FAILED);
		}
	}

	/**
	 * Whether a later execution shares the lock is read in one query of the repository's tables, not by loading each
	 * later execution with its steps and contexts: one that cannot be loaded (deleted meanwhile; here, a parameter of
	 * a type this runner does not know) does not fail the report of an earlier one.
	 */
	@Test
	void aReportDoesNotLoadTheLaterExecutions() {
		JobExecution physical = startedBackup("incr");
		JobExecution logical = startedBackup("logical");
		this.jdbc.update("""
				INSERT INTO etl.batch_job_execution_params (job_execution_id, parameter_name, parameter_type,
				  parameter_value, identifying)
				VALUES (?, 'later', 'dev.pgbatch.NoSuchType', 'x', 'N')""", logical.getId());
		try {
			assertThat(this.reports.report(physical.getId()).superseded()).isFalse();
		}
		finally {
			this.jdbc.update("DELETE FROM etl.batch_job_execution_params WHERE parameter_name = 'later'");
		}
		// none left recorded as running: a backup wait of another test would take them for a run under way
		for (JobExecution started : List.of(physical, logical)) {
			assertThat(this.runner.stop(started.getId()).getStatus()).isEqualTo(BatchStatus.FAILED);
		}
	}

	/** An execution of job backup of that type recorded as running, with no process behind it. */
	private JobExecution startedBackup(String type) {
		JobParameters parameters = new JobParametersBuilder().addString("type", type)
			.addLong("run.id", System.nanoTime())
			.toJobParameters();
		JobInstance instance = this.repository.createJobInstance("backup", parameters);
		JobExecution execution = this.repository.createJobExecution(instance, parameters, new ExecutionContext());
		execution.setStatus(BatchStatus.STARTED);
		this.repository.update(execution);
		return execution;
	}

	private void awaitWaiters(String resource, long waiters) {
		awaitWaiters(resource, waiters, Duration.ofSeconds(10));
	}

	private void awaitWaiters(String resource, long waiters, Duration within) {
		await(waiters + " waiting for the " + resource).atMost(within)
			.pollInterval(Duration.ofMillis(20))
			.until(() -> this.jdbc.queryForObject("""
					SELECT count(*) FROM pg_locks l
					WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = hashtext('pgbatch.shared')::oid
					  AND l.objid = hashtext(?)::oid AND l.objsubid = 2
					  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
					""", Long.class, resource), count -> count == waiters);
	}

	private long awaitCommittedChunks(int chunks) {
		return await("the run commits " + chunks + " chunks of customers").atMost(Duration.ofMinutes(1))
			.pollInterval(Duration.ofMillis(20))
			.until(() -> this.jdbc.queryForObject("""
					SELECT max(e.job_execution_id) FROM etl.batch_job_execution e
					JOIN etl.batch_step_execution s ON s.job_execution_id = e.job_execution_id
					WHERE e.status = 'STARTED' AND s.step_name = 'customers' AND s.commit_count >= ?
					""", Long.class, chunks), Objects::nonNull);
	}

}
