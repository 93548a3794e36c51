package dev.pgbatch.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;

import dev.pgbatch.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An upgrade under a running scheduler node (a git pull, then any bin/etl): the new runner is prepared beside the
 * node's, which the node keeps until it ends. In a project of its own (a copy of bin/etl and the jar), so that the
 * other classes' processes never meet these runners.
 */
class RunnerVersionsIntegrationTests {

	private static final String SCHEDULE = "views-every-2s";

	@Test
	void aPrepareLeavesARunningNodeItsRunnerWhichALaterPrepareRemovesOnceTheNodeHasEnded(@TempDir Path top)
			throws Exception {
		Path etl = Files.createDirectories(top.resolve("bin")).resolve("etl");
		Files.copy(Path.of("..", "bin", "etl"), etl, StandardCopyOption.COPY_ATTRIBUTES);
		// the jar copied (the test makes it newer), the runner prepared for it linked (the first prepare here would
		// take half a minute): a project as bin/etl leaves it
		Path jar = Files.createDirectories(top.resolve("jobs/target")).resolve("pgbatch.jar");
		Files.copy(Path.of("target", "pgbatch.jar"), jar, StandardCopyOption.COPY_ATTRIBUTES);
		Path prepared = Path.of("target", "runner").toRealPath();
		Path first = top.toRealPath().resolve("jobs/target/runners").resolve(prepared.getFileName());
		linkTree(prepared, first);
		Path runner = Files.createSymbolicLink(top.resolve("jobs/target/runner"),
				Path.of("runners").resolve(prepared.getFileName()));
		// the class-data training after each prepare, without a database and with a bad setting: its commands stop at
		// the settings' check (10 s, not 50; without a database alone, 20)
		Map<String, String> noDatabase = Map.of("ETL_DB_URL", "jdbc:postgresql://127.0.0.1:" + freePort() + "/none",
				"ETL_SEED_CHUNK_ROWS", "0");
		Path schedules = Files.createDirectories(top.resolve("schedules"));
		Files.writeString(schedules.resolve("test.yml"), """
				schedules:
				  - {name: %s, job: refresh-views, cron: "0/2 * * * * ?"}
				""".formatted(SCHEDULE));
		EtlProcess node = EtlProcess.start(etl,
				Map.of("ETL_DB_MIGRATE", "false", "ETL_SCHEDULER_NAME", "runner-versions", "ETL_SCHEDULES_DIR",
						schedules.toString(), "ETL_SCHEDULER_PORT", Integer.toString(freePort()), "ETL_JAVA_OPTS",
						"-XX:TieredStopAtLevel=1"),
				"scheduler");
		Path second;
		try {
			awaitCompleted(node, 1);

			prepare(etl, jar, noDatabase);

			second = runner.toRealPath();
			assertThat(second).isNotEqualTo(first);
			assertThat(first.resolve("lib")).isDirectory();
			// the node goes on from its own runner (its class path does not go through the link), firing after firing
			awaitCompleted(node, completed() + 2);
			assertThat(node.isAlive()).isTrue();
			assertThat(node.info().arguments().orElseThrow()).contains(first.resolve("pgbatch.jar").toString());
		}
		finally {
			node.terminate();
		}

		prepare(etl, jar, noDatabase);

		assertThat(first).doesNotExist();
		// the runner it replaced stays until the next prepare: a bin/etl may have read the link just before
		assertThat(second.resolve("ready")).exists();
		assertThat(runner.toRealPath()).isNotEqualTo(second);
	}

	/** Hard links to {@code from}'s files, in directories of their own: nothing of the project's runner changes. */
	private static void linkTree(Path from, Path to) throws IOException {
		try (Stream<Path> paths = Files.walk(from)) {
			for (Path path : paths.toList()) {
				Path copy = to.resolve(from.relativize(path).toString());
				if (Files.isDirectory(path)) {
					Files.createDirectories(copy);
				}
				else {
					Files.createLink(copy, path);
				}
			}
		}
	}

	/** A jar newer than the runner's, as a build leaves it: the next bin/etl prepares a runner for it. */
	private static void prepare(Path etl, Path jar, Map<String, String> environment) throws Exception {
		Files.setLastModifiedTime(jar, FileTime.from(Instant.now()));
		EtlProcess.Result help = EtlProcess.start(etl, environment, "--help").await();
		assertThat(help.exitCode()).as(help.stderr()).isZero();
		assertThat(help.stderr()).contains("etl: preparing the runner...");
	}

	private static void awaitCompleted(EtlProcess node, long count) {
		await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(500))
			.untilAsserted(() -> assertThat(completed()).as(node.stderrSoFar()).isGreaterThanOrEqualTo(count));
	}

	private static long completed() throws Exception {
		try (Connection connection = TestDatabase.connect();
				PreparedStatement statement = connection.prepareStatement("""
						SELECT count(*) FROM etl.batch_job_execution e
						JOIN etl.batch_job_execution_params p ON p.job_execution_id = e.job_execution_id
						WHERE p.parameter_name = 'schedule' AND p.parameter_value = ? AND e.status = 'COMPLETED'
						""")) {
			statement.setString(1, SCHEDULE);
			try (ResultSet count = statement.executeQuery()) {
				count.next();
				return count.getLong(1);
			}
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

}
