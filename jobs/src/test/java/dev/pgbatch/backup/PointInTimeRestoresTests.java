package dev.pgbatch.backup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** What the printed switch-over names: the configuration file when ETL_PGBACKREST_CONFIG is empty, what it resets. */
class PointInTimeRestoresTests {

	/** pgBackRest reads /etc/pgbackrest/pgbackrest.conf, or /etc/pgbackrest.conf when that does not exist (Debian's). */
	@Test
	void theDefaultConfigurationIsTheFilePgBackRestReads(@TempDir Path etc) throws Exception {
		assertThat(PointInTimeRestores.defaultConfig(etc)).isEqualTo(etc.resolve("pgbackrest.conf").toString());
		Files.createDirectory(etc.resolve("pgbackrest"));
		Files.writeString(etc.resolve("pgbackrest/pgbackrest.conf"), "");
		assertThat(PointInTimeRestores.defaultConfig(etc)).isEqualTo(etc.resolve("pgbackrest/pgbackrest.conf").toString());
	}

	/**
	 * The switch-over resets the memory settings the restored cluster ran with beside the live one, after the
	 * isolation's and before its own port and sockets, and never the archive ones.
	 */
	@Test
	void theSwitchOverResetsTheMemoryTheRestoredClusterRanWith(@TempDir Path data) {
		assertThat(PointInTimeRestores.resets(data, Map.of("port", "56999"))).containsSubsequence("shared_preload_libraries",
				"shared_buffers", "huge_pages", "wal_buffers", "work_mem", "maintenance_work_mem", "autovacuum_work_mem",
				"external_pid_file", "port").noneMatch(name -> name.startsWith("archive_"));
	}

	/**
	 * No restore goes where files are not kept (a restored cluster may become production): /tmp, /var/tmp, /dev/shm,
	 * or a file system in memory (/dev is a devtmpfs); elsewhere it may.
	 */
	@Test
	void aTemporaryPlaceIsRefused() {
		assertThat(PointInTimeRestores.temporary(Path.of("/var/tmp/restored")))
			.isEqualTo("/var/tmp/restored is in /var/tmp: files not touched for days are removed there (systemd-tmpfiles) or"
					+ " are lost at a reboot (a tmpfs), and a restored cluster may become production: name a directory elsewhere");
		assertThat(PointInTimeRestores.temporary(Path.of("/tmp/a/b"))).startsWith("/tmp/a/b is in /tmp: ");
		assertThat(PointInTimeRestores.temporary(Path.of("/dev/shm/restored"))).startsWith("/dev/shm/restored is in /dev/shm: ");
		assertThat(PointInTimeRestores.temporary(Path.of("/dev/pgbatch-restored")))
			.startsWith("/dev/pgbatch-restored is in a devtmpfs (/dev): ");
		assertThat(PointInTimeRestores.temporary(Path.of("/var/lib/pgbatch-restored"))).isNull();
	}

}
