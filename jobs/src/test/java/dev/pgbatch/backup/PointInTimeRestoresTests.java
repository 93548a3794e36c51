package dev.pgbatch.backup;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/** What the printed switch-over resets, where a restore may go, what it counts as its own. */
class PointInTimeRestoresTests {

	/**
	 * The switch-over resets the memory settings the restored cluster ran with beside the live one, after the
	 * isolation's and before its own port and sockets, then what it was given (the live cluster's pg_control
	 * settings when its configuration lives in /etc, its port), and never the archive ones.
	 */
	@Test
	void theSwitchOverResetsTheMemoryTheRestoredClusterRanWith(@TempDir Path data) {
		Map<String, String> given = new LinkedHashMap<>();
		given.put("max_connections", "300");
		given.put("port", "56999");
		assertThat(PointInTimeRestores.resets(ClusterRestore.written(data, given))).containsSubsequence(
				"shared_preload_libraries", "shared_buffers", "huge_pages", "wal_buffers", "work_mem", "maintenance_work_mem",
				"autovacuum_work_mem", "min_dynamic_shared_memory", "external_pid_file", "max_connections", "port")
			.noneMatch(name -> name.startsWith("archive_"));
	}

	/**
	 * The printed switch-over: archive_command and the check run pgbackrest with the restore's configuration options
	 * (here none: its defaults and include files), and when no configuration file was restored (Debian's layout), a
	 * step before the restart says to put the old cluster's pg_hba.conf, pg_ident.conf and postgresql.conf settings in
	 * place: the placeholders would become production's.
	 */
	@Test
	void theSwitchOverSaysToPutTheLiveConfigurationInPlaceWhenNoneWasRestored() {
		String pgbackrest = "/usr/bin/pgbackrest --stanza=pgbatch";
		PointInTimeRestores.Restored debian = restored(pgbackrest, true);
		PointInTimeRestores.Restored restoredWithIt = restored(pgbackrest, false);

		String said = String.join("\n", debian.report());
		assertThat(said).contains("ALTER SYSTEM SET archive_command = '/usr/bin/pgbackrest --stanza=pgbatch archive-push %p'",
				"  5. /usr/bin/pgbackrest --stanza=pgbatch check: it must pass")
			.doesNotContain("--config");
		int placeholders = said.indexOf("before step 4 (the live cluster's configuration files were not restored");
		assertThat(placeholders).isGreaterThan(said.indexOf("  3. ")).isLessThan(said.indexOf("  4. restart it"));
		assertThat(said.substring(placeholders)).contains("put the old cluster's pg_hba.conf and pg_ident.conf in place of"
				+ " /srv/restored/pg_hba.conf", "its postgresql.conf's settings");
		assertThat(String.join("\n", restoredWithIt.report())).doesNotContain("before step 4");
	}

	private static PointInTimeRestores.Restored restored(String pgbackrest, boolean placeholders) {
		return new PointInTimeRestores.Restored("20261203-010000F", "pgbatch", Path.of("/srv/restored"),
				Path.of("/srv/restored-tablespaces"), 56999, "restore point p", 2, "0/3000000", "at restore point p",
				"00000002.history", List.of(), "/var/lib/postgresql/15/main", "/etc/pgbackrest.conf", "postgres", "",
				pgbackrest, "/usr/lib/postgresql/15/bin/pg_ctl", List.of("port"), placeholders);
	}

	/**
	 * A directory the restore makes counts as made only once made: one that something else put there first (the
	 * operator, another user, between the check and the making) is not the restore's, and its clean-up leaves it.
	 */
	@Test
	void aDirectoryCountsAsMadeOnlyOnceMade(@TempDir Path base) throws Exception {
		AtomicBoolean made = new AtomicBoolean();
		Path theirs = Files.createDirectory(base.resolve("theirs"));
		assertThatExceptionOfType(FileAlreadyExistsException.class)
			.isThrownBy(() -> PointInTimeRestores.makeDirectory(theirs, made));
		assertThat(made).isFalse();

		PointInTimeRestores.makeDirectory(base.resolve("ours"), made);
		assertThat(made).isTrue();
		assertThat(Files.getPosixFilePermissions(base.resolve("ours"))).isEqualTo(PosixFilePermissions.fromString("rwx------"));
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

	/**
	 * Review s22 #3: a restored copy is kept only when the restore lock held all through pgBackRest's restore and info
	 * still lists its set; else it fails, so that it is removed: a kept copy of a set an expire removed could not
	 * resume.
	 */
	@Test
	void aCopyIsKeptOnlyWhenTheLockHeldAndItsSetIsListed(@TempDir Path dir) throws Exception {
		Path bin = PgBackRestTests.standIn(dir, """
				#!/bin/sh
				case "$*" in *" info") echo '[{"name":"pgbatch","backup":[{"label":"20261206-020000F","type":"full"}]}]' ;; esac
				""");
		PhysicalBackups physical = new PhysicalBackups(new PgBackRest(PgBackRestTests.properties(bin, 1, Duration.ZERO)),
				PgBackRestTests.properties(bin, 1, Duration.ZERO));

		PointInTimeRestores.keepable(true, physical, "20261206-020000F");
		assertThatIllegalStateException().isThrownBy(() -> PointInTimeRestores.keepable(false, physical, "20261206-020000F"))
			.withMessage(PointInTimeRestores.LOCK_LOST_NOT_KEPT.formatted("20261206-020000F"))
			.withMessage("the restore lock was lost during pgBackRest's restore (its session ended): retention may have"
					+ " expired set 20261206-020000F meanwhile, and a copy of it is not kept");
		assertThatIllegalStateException().isThrownBy(() -> PointInTimeRestores.keepable(true, physical, "20261129-020000F"))
			.withMessage("pgbackrest info no longer lists set 20261129-020000F after its restore: its replay could not"
					+ " resume, and a copy of it is not kept");
	}

}
