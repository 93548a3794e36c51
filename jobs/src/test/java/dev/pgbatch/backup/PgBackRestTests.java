package dev.pgbatch.backup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** How pgbatch runs pgBackRest, with a stand-in executable (ETL_PGBACKREST_BIN) that starts a worker, as process-max does. */
class PgBackRestTests {

	@Test
	void aRunThatDoesNotEndInTimeIsKilledWithTheProcessesItStarted(@TempDir Path dir) throws Exception {
		Path bin = dir.resolve("pgbackrest");
		Path workerPid = dir.resolve("worker.pid");
		Files.writeString(bin, """
				#!/bin/sh
				sleep 300 &
				echo $! >"%s.tmp" && mv "%s.tmp" "%s"
				wait
				""".formatted(workerPid, workerPid, workerPid));
		Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwx------"));
		PgBackRest pgBackRest = new PgBackRest(new PgBackRestProperties(bin.toString(), "", "pgbatch"));

		PgBackRest.Result result = pgBackRest.run(Duration.ofSeconds(1), "backup");

		assertThat(result.timedOut()).isTrue();
		ProcessHandle worker = ProcessHandle.of(Long.parseLong(Files.readString(workerPid).strip())).orElse(null);
		if (worker != null) {
			worker.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
		}
	}

}
