package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;

import dev.pgbatch.core.OneLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How pgbatch runs pgBackRest, with stand-in executables (ETL_PGBACKREST_BIN). */
class PgBackRestTests {

	private static final PhysicalBackups.Covered NOTHING_COVERED = new PhysicalBackups.Covered(null, Set.of());

	/** No drill or restore to keep off: a hold that is always given. */
	private static final PhysicalBackups.Apart ALONE = () -> () -> {
	};

	/** No kept restore holds a set. */
	private static final Supplier<List<KeptRestores.Hold>> NONE_KEPT = List::of;

	@Test
	void aRunThatDoesNotEndInTimeIsKilledWithTheProcessesItStarted(@TempDir Path dir) throws Exception {
		Path workerPid = dir.resolve("worker.pid");
		Path bin = standIn(dir, """
				#!/bin/sh
				sleep 300 &
				echo $! >"%s.tmp" && mv "%s.tmp" "%s"
				wait
				""".formatted(workerPid, workerPid, workerPid));
		PgBackRest pgBackRest = new PgBackRest(properties(bin, 4, Duration.ZERO));

		PgBackRest.Result result = pgBackRest.run(Duration.ofSeconds(1), "backup");

		assertThat(result.timedOut()).isTrue();
		ProcessHandle worker = ProcessHandle.of(Long.parseLong(Files.readString(workerPid).strip())).orElse(null);
		if (worker != null) {
			worker.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
		}
	}

	/**
	 * Retention of physical backups, against a stand-in that lists two fulls, each with a set on it, and logs each
	 * command it is given: with one full kept, the older full and its incr go; a dry run names them and runs no expire,
	 * a real one runs pgBackRest's expire with that count.
	 */
	@Test
	void retentionKeepsTheNewestFullsWithTheirSetsAndADryRunExpiresNothing(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("commands");
		Path info = dir.resolve("info.json");
		Files.writeString(info, """
				[{"name":"pgbatch","backup":[
				 {"label":"20261201-020000F","type":"full","prior":null},
				 {"label":"20261201-020000F_20261202-030000I","type":"incr","prior":"20261201-020000F"},
				 {"label":"20261203-020000F","type":"full","prior":null},
				 {"label":"20261203-020000F_20261203-030000D","type":"diff","prior":"20261203-020000F"}]}]
				""");
		PhysicalBackups backups = keepingOneFull(dir, log, info);

		PhysicalBackups.Expired dry = backups.expire(true, NOTHING_COVERED, NONE_KEPT, ALONE);

		assertThat(dry.labels()).containsExactly("20261201-020000F", "20261201-020000F_20261202-030000I");
		assertThat(dry.kept()).isEqualTo(2);
		assertThat(Files.readAllLines(log)).noneMatch(line -> line.endsWith(" expire"));

		backups.expire(false, NOTHING_COVERED, NONE_KEPT, ALONE);

		assertThat(Files.readAllLines(log)).filteredOn(line -> line.endsWith(" expire"))
			.singleElement()
			.satisfies(line -> assertThat(line).contains("--stanza=pgbatch", "--repo1-retention-full-type=count",
					"--repo1-retention-full=1", "--repo1-retention-archive-type=full", "--repo1-retention-archive=1"));
	}

	/** pgbackrest info of three weekly fulls, the middle one with an incr after it. */
	private static final String THREE_WEEKS = """
			[{"name":"pgbatch","backup":[
			 {"label":"20261122-020000F","type":"full","prior":null,"timestamp":{"start":1795312800,"stop":1795313400}},
			 {"label":"20261129-020000F","type":"full","prior":null,"timestamp":{"start":1795917600,"stop":1795918200}},
			 {"label":"20261129-020000F_20261130-020000I","type":"incr","prior":"20261129-020000F",
			  "timestamp":{"start":1796004000,"stop":1796004100}},
			 {"label":"20261206-020000F","type":"full","prior":null,"timestamp":{"start":1796522400,"stop":1796523000}}]}]
			""";

	/**
	 * Review 15 F3: with one full kept, Sunday's full (pgbackrest exited 0, but no verify or drill has passed on it)
	 * does not let retention remove last week's, the newest a passed verify or drill covered: the count is raised to
	 * keep it, and the summary says so. A verify that began in the second the newer full ended does not cover it.
	 */
	@Test
	void retentionKeepsTheNewestFullAPassedVerifyOrDrillCovered(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("commands");
		Path info = dir.resolve("info.json");
		Files.writeString(info, THREE_WEEKS);
		PhysicalBackups backups = keepingOneFull(dir, log, info);
		// Monday's verify, after last week's full ended and before Sunday's
		PhysicalBackups.Covered verified = new PhysicalBackups.Covered(Instant.ofEpochSecond(1796004000), Set.of());

		PhysicalBackups.Expired dry = backups.expire(true, verified, NONE_KEPT, ALONE);

		assertThat(dry.labels()).containsExactly("20261122-020000F");
		assertThat(dry.keptFulls()).isEqualTo(2);
		assertThat(dry.verifiedFull()).isEqualTo("20261129-020000F");
		assertThat(PhysicalBackups.KEPT_FOR_VERIFIED.formatted(dry.keptFulls(), 1, dry.verifiedFull()))
			.isEqualTo("kept 2 full backups, more than ETL_PGBACKREST_RETENTION_FULL (1): full backup 20261129-020000F is"
					+ " the newest a passed backup verify --physical or restore drill covered, and retention never"
					+ " removes it");
		backups.expire(false, verified, NONE_KEPT, ALONE);
		assertThat(Files.readAllLines(log)).filteredOn(line -> line.endsWith(" expire"))
			.singleElement()
			.satisfies(line -> assertThat(line).contains("--repo1-retention-full=2"));

		// a passed drill of the oldest full's set keeps all three; nothing covered keeps the configured one
		assertThat(backups.expire(true, new PhysicalBackups.Covered(null, Set.of("20261122-020000F")), NONE_KEPT, ALONE)
			.labels()).isEmpty();
		assertThat(backups.expire(true, NOTHING_COVERED, NONE_KEPT, ALONE).labels()).containsExactly("20261122-020000F",
				"20261129-020000F", "20261129-020000F_20261130-020000I");
		// the newest full ended at 1796523000: a verify begun within that second does not cover it
		assertThat(backups.expire(true, new PhysicalBackups.Covered(Instant.ofEpochSecond(1796523000, 500_000_000),
				Set.of()), NONE_KEPT, ALONE).verifiedFull()).isEqualTo("20261129-020000F");
		assertThat(backups.expire(true, new PhysicalBackups.Covered(Instant.ofEpochSecond(1796523001), Set.of()), NONE_KEPT,
				ALONE).keptFulls()).isEqualTo(1);
	}

	/**
	 * A kept restore of a set (here an incr of last week's full) holds its full from retention: the count reaches it,
	 * so pgBackRest keeps it, the sets after it and the WAL from it on, and each hold is said; a hold of a set no
	 * longer listed keeps nothing more, and is said: its restore cannot resume. Released, the set is expired as the count says.
	 */
	@Test
	void retentionKeepsTheFullOfAKeptRestoresSetAndSaysWhichHoldsIt(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("commands");
		Path info = dir.resolve("info.json");
		Files.writeString(info, THREE_WEEKS);
		PhysicalBackups backups = keepingOneFull(dir, log, info);
		KeptRestores.Hold hold = new KeptRestores.Hold("db1", "/srv/restore", "pgbatch",
				"20261129-020000F_20261130-020000I", "restore point before-the-bug", Instant.ofEpochSecond(1796600000));
		KeptRestores.Hold gone = new KeptRestores.Hold("db2", "/srv/old", "pgbatch", "20261101-020000F",
				"2026-11-02T00:00:00Z", Instant.ofEpochSecond(1796000000));

		PhysicalBackups.Expired dry = backups.expire(true, NOTHING_COVERED, () -> List.of(hold, gone), ALONE);

		assertThat(dry.labels()).containsExactly("20261122-020000F");
		assertThat(dry.keptFulls()).isEqualTo(2);
		assertThat(dry.verifiedFull()).isNull();
		// an incr is held: the configuration's diff retention (which may be set) expires no diff it builds on
		assertThat(dry.everyDiff()).isTrue();
		assertThat(dry.held()).containsExactly("full backup 20261129-020000F (and the WAL from it on) held for the kept"
				+ " restore of set 20261129-020000F_20261130-020000I into /srv/restore on db1, to restore point"
				+ " before-the-bug, since 2026-12-06T23:33:20Z: released once it is promoted, by bin/etl backup restore"
				+ " --release /srv/restore there", "set 20261101-020000F is no longer in the repository: the kept restore"
				+ " into /srv/old on db2 cannot resume; release it (bin/etl backup restore --release /srv/old there)");
		// a restore that ends kept only once the expire holds drills and restores off is counted all the same
		AtomicBoolean apart = new AtomicBoolean();
		backups.expire(false, NOTHING_COVERED, () -> apart.get() ? List.of(hold) : List.of(), () -> {
			apart.set(true);
			return () -> apart.set(false);
		});
		assertThat(Files.readAllLines(log)).filteredOn(line -> line.endsWith(" expire"))
			.singleElement()
			.satisfies(line -> assertThat(line).contains("--repo1-retention-full=2", "--repo1-retention-archive=2",
					"--repo1-retention-diff=9999999"));
		// covered and held: the count reaches the older of the two, and each is named
		PhysicalBackups.Expired both = backups.expire(true, new PhysicalBackups.Covered(null, Set.of("20261122-020000F")),
				() -> List.of(hold), ALONE);
		assertThat(both.keptFulls()).isEqualTo(3);
		assertThat(both.verifiedFull()).isEqualTo("20261122-020000F");
		assertThat(both.held()).hasSize(1);
		PhysicalBackups.Expired released = backups.expire(true, NOTHING_COVERED, () -> List.of(gone), ALONE);
		assertThat(released.labels()).containsExactly("20261122-020000F", "20261129-020000F",
				"20261129-020000F_20261130-020000I");
		assertThat(released.everyDiff()).isFalse();
	}

	/**
	 * Review s22 #5: a hold's stored text is said on one line, and a set that is not a label of pgBackRest's shape
	 * fails naming it (one line too).
	 */
	@Test
	void aHoldIsSaidOnOneLineAndItsLabelIsChecked() {
		KeptRestores.Hold hold = new KeptRestores.Hold("db1\nWARN forged", "/srv/re\nstore", "pgbatch",
				"20261206-020000F", "restore point a\rb", Instant.ofEpochSecond(1796600000));

		assertThat(hold.said()).doesNotContain("\n", "\r").contains("into /srv/re");
		assertThat(hold.said(List.of())).doesNotContain("\n", "\r").startsWith("set 20261206-020000F is no longer");
		hold.checked();
		assertThatIllegalStateException()
			.isThrownBy(() -> new KeptRestores.Hold("db1", "/srv/restore", "pgbatch", "../other\n20261206-020000F", "t",
					Instant.ofEpochSecond(1796600000))
				.checked())
			.withMessage(KeptRestores.NOT_A_LABEL.formatted(OneLine.of("../other\n20261206-020000F"), "/srv/restore", "db1"))
			.withMessageNotContaining("\n")
			.withMessageStartingWith("etl.kept_restore holds set '../other")
			.withMessageEndingWith("which is not a pgBackRest set's label: no retention runs on it; release it (bin/etl"
					+ " backup restore --release /srv/restore there)");
	}

	/**
	 * A backup of the stanza that runs already (a killed runner's pgbackrest: info says its backup lock is held) is
	 * waited for; once it ended, the set it made for this run (its annotation) is the run's, and no backup runs. One
	 * that does not end within the wait fails the run with one line, and no backup runs either.
	 */
	@Test
	void aRunningBackupIsWaitedForAndTheSetItMadeForThisRunIsReported(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("commands");
		// info: the lock held on the first two calls, then free with the set the killed execution's pgbackrest made
		Path bin = standIn(dir, """
				#!/bin/sh
				echo "$*" >>"%s"
				case "$*" in
				*" info")
					if [ "$(grep -c ' info$' "%s")" -le 2 ]; then
						echo '[{"name":"pgbatch","status":{"lock":{"backup":{"held":true}}},"backup":[]}]'
					else
						echo '[{"name":"pgbatch","status":{"lock":{"backup":{"held":false}}},"backup":[
						 {"label":"20261203-020000F","type":"full","prior":null,"annotation":{"pgbatch-run":"17-3"}}]}]'
					fi ;;
				esac
				""".formatted(log, log));
		PhysicalBackups waiting = new PhysicalBackups(new PgBackRest(properties(bin, 4, Duration.ofSeconds(30))),
				properties(bin, 4, Duration.ofSeconds(30)));

		PhysicalBackups.BackupSet made = waiting.backup("incr", "17-3");

		assertThat(made.label()).isEqualTo("20261203-020000F");
		assertThat(Files.readAllLines(log)).hasSize(3).allMatch(line -> line.endsWith(" info"));

		Files.delete(log);
		PhysicalBackups notWaiting = new PhysicalBackups(new PgBackRest(properties(bin, 4, Duration.ZERO)),
				properties(bin, 4, Duration.ZERO));

		assertThatIllegalStateException().isThrownBy(() -> notWaiting.backup("incr", "17-4"))
			.withMessage(PhysicalBackups.STILL_RUNNING.formatted("pgbatch", 0));
		assertThat(Files.readAllLines(log)).singleElement().satisfies(line -> assertThat(line).endsWith(" info"));
	}

	/** A stand-in pgbackrest logging each command: one full listed, the first expire refused on the stanza's lock. */
	private static Path expireMeetingTheLockOnce(Path dir, Path log) throws IOException {
		return standIn(dir, """
				#!/bin/sh
				echo "$*" >>"%s"
				case "$*" in
				  *" info") echo '[{"name":"pgbatch","backup":[{"label":"20261201-020000F","type":"full","prior":null}]}]' ;;
				  *" expire") [ "$(grep -c ' expire$' "%s")" -gt 1 ] || { echo 'ERROR: [050]: unable to acquire lock'; exit 50; } ;;
				esac
				""".formatted(log, log));
	}

	/**
	 * An expire that meets the stanza's lock (a killed runner's backup, its set listed already, still ending) is run
	 * again once it is free, within ETL_PGBACKREST_LOCK_WAIT; with no wait it fails saying a backup still runs.
	 */
	@Test
	void anExpireThatMeetsTheStanzasLockRunsAgainOnceItIsFree(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("commands");
		Path bin = expireMeetingTheLockOnce(dir, log);
		PhysicalBackups waiting = new PhysicalBackups(new PgBackRest(properties(bin, 4, Duration.ofSeconds(30))),
				properties(bin, 4, Duration.ofSeconds(30)));

		assertThat(waiting.expire(false, NOTHING_COVERED, NONE_KEPT, ALONE).kept()).isEqualTo(1);
		assertThat(Files.readAllLines(log)).filteredOn(line -> line.endsWith(" expire")).hasSize(2);

		Files.delete(log);
		PhysicalBackups notWaiting = new PhysicalBackups(new PgBackRest(properties(bin, 4, Duration.ZERO)),
				properties(bin, 4, Duration.ZERO));
		assertThatIllegalStateException().isThrownBy(() -> notWaiting.expire(false, NOTHING_COVERED, NONE_KEPT, ALONE))
			.withMessage(PhysicalBackups.STILL_RUNNING.formatted("pgbatch", 0));
	}

	/**
	 * Review 22 #1: drills and restores are held off only while an expire runs, not while it waits for the stanza's
	 * lock (ETL_PGBACKREST_LOCK_WAIT), so that a drill's wait for retention is seconds; a drill running when the expire
	 * is to run again skips it, and nothing is expired.
	 */
	@Test
	void anExpireHoldsDrillsOffOnlyWhileItRuns(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("commands");
		Path bin = expireMeetingTheLockOnce(dir, log);
		PhysicalBackups backups = new PhysicalBackups(new PgBackRest(properties(bin, 4, Duration.ofSeconds(30))),
				properties(bin, 4, Duration.ofSeconds(30)));
		PhysicalBackups.Apart apart = () -> {
			append(log, "hold");
			return () -> append(log, "release");
		};

		Supplier<List<KeptRestores.Hold>> read = () -> {
			append(log, "holds");
			return List.of();
		};

		assertThat(backups.expire(false, NOTHING_COVERED, read, apart).kept()).isEqualTo(1);

		// the sets and holds read under the hold, just before each expire: a restore that ended kept since is counted
		assertThat(Files.readAllLines(log)).map(line -> line.substring(line.lastIndexOf(' ') + 1))
			.containsExactly("hold", "info", "holds", "expire", "release", "hold", "info", "holds", "expire", "release",
					"info");

		Files.delete(log);
		int[] holds = { 0 };
		PhysicalBackups.Apart drillOnTheSecond = () -> ++holds[0] == 1 ? () -> {
		} : null;
		assertThat(backups.expire(false, NOTHING_COVERED, NONE_KEPT, drillOnTheSecond)).isNull();
		assertThat(Files.readAllLines(log)).filteredOn(line -> line.endsWith(" expire")).hasSize(1);
	}

	private static void append(Path log, String line) {
		try {
			Files.writeString(log, line + "\n", java.nio.file.StandardOpenOption.CREATE,
					java.nio.file.StandardOpenOption.APPEND);
		}
		catch (IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

	/**
	 * Review 20 #1: an expire that met the lock while another backup ended counts again from a fresh info: the drilled
	 * full kept with two fulls listed is kept with three once the third ended, and the expire run after the wait says
	 * three. One after which the drilled full is no longer listed fails naming it.
	 */
	@Test
	void anExpireRunAgainAfterTheLockCountsTheFullsThatEndedMeanwhile(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("commands");
		// info-N.json: pgbackrest info's answer after N expires were run
		String drilled = "{\"label\":\"20261129-020000F\",\"type\":\"full\",\"prior\":null}";
		String sunday = "{\"label\":\"20261206-020000F\",\"type\":\"full\",\"prior\":null}";
		String monday = "{\"label\":\"20261207-020000F\",\"type\":\"full\",\"prior\":null}";
		Files.writeString(dir.resolve("info-0.json"), sets(drilled, sunday));
		Files.writeString(dir.resolve("info-1.json"), sets(drilled, sunday, monday));
		Files.writeString(dir.resolve("info-2.json"), sets(drilled, sunday, monday));
		Path bin = standIn(dir, """
				#!/bin/sh
				echo "$*" >>"%s"
				expires=$(grep -c ' expire$' "%s")
				case "$*" in
				  *" info") cat "%s/info-$expires.json" ;;
				  *" expire") [ "$expires" -gt 1 ] || { echo 'ERROR: [050]: unable to acquire lock'; exit 50; } ;;
				esac
				""".formatted(log, log, dir));
		PhysicalBackups backups = new PhysicalBackups(new PgBackRest(properties(bin, 1, Duration.ofSeconds(30))),
				properties(bin, 1, Duration.ofSeconds(30)));
		PhysicalBackups.Covered covered = new PhysicalBackups.Covered(null, Set.of("20261129-020000F"));

		PhysicalBackups.Expired expired = backups.expire(false, covered, NONE_KEPT, ALONE);

		assertThat(expired.keptFulls()).isEqualTo(3);
		assertThat(expired.labels()).isEmpty();
		assertThat(Files.readAllLines(log)).filteredOn(line -> line.endsWith(" expire"))
			.satisfiesExactly(first -> assertThat(first).contains("--repo1-retention-full=2"),
					second -> assertThat(second).contains("--repo1-retention-full=3", "--repo1-retention-archive=3"));

		Files.delete(log);
		Files.writeString(dir.resolve("info-2.json"), sets(sunday, monday));
		assertThatIllegalStateException().isThrownBy(() -> backups.expire(false, covered, NONE_KEPT, ALONE))
			.withMessage(PhysicalBackups.COVERED_EXPIRED.formatted("20261129-020000F"))
			.withMessage("pgbackrest expire removed full backup 20261129-020000F, the newest a passed backup verify"
					+ " --physical or restore drill covered: no set left is known to restore; run backup verify"
					+ " --physical");
	}

	/**
	 * Review s22 #2: the sets are read under the hold too, so a full that ended before it is counted: a backup running
	 * then is waited for (the hold released meanwhile), and the count is of what info lists once it ended. An expire
	 * after which a held set is no longer listed fails naming it and its restore.
	 */
	@Test
	void anExpireCountsTheSetsReadUnderItsHoldAndFailsWhenAHeldSetIsGone(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("commands");
		// info-N.json: pgbackrest info's answer after N earlier infos
		String held = "{\"label\":\"20261129-020000F\",\"type\":\"full\",\"prior\":null}";
		String sunday = "{\"label\":\"20261206-020000F\",\"type\":\"full\",\"prior\":null}";
		String monday = "{\"label\":\"20261207-020000F\",\"type\":\"full\",\"prior\":null}";
		Files.writeString(dir.resolve("info-0.json"), "[{\"name\":\"pgbatch\",\"status\":{\"lock\":{\"backup\":"
				+ "{\"held\":true}}},\"backup\":[" + held + "," + sunday + "]}]");
		Files.writeString(dir.resolve("info-1.json"), sets(held, sunday, monday));
		// the stand-in's expire removed the held full all the same
		Files.writeString(dir.resolve("info-2.json"), sets(sunday, monday));
		Path bin = standIn(dir, """
				#!/bin/sh
				infos=$(grep -c ' info$' "%s")
				echo "$*" >>"%s"
				case "$*" in *" info") cat "%s/info-$infos.json" ;; esac
				""".formatted(log, log, dir));
		PhysicalBackups backups = new PhysicalBackups(new PgBackRest(properties(bin, 1, Duration.ofSeconds(30))),
				properties(bin, 1, Duration.ofSeconds(30)));
		Files.writeString(log, "");
		List<String> holdsAndReleases = new java.util.ArrayList<>();
		PhysicalBackups.Apart apart = () -> {
			holdsAndReleases.add("hold");
			return () -> holdsAndReleases.add("release");
		};
		KeptRestores.Hold hold = new KeptRestores.Hold("db1", "/srv/restore", "pgbatch", "20261129-020000F",
				"2026-12-01T00:00:00Z", Instant.ofEpochSecond(1796600000));

		assertThatIllegalStateException().isThrownBy(() -> backups.expire(false, NOTHING_COVERED, () -> List.of(hold), apart))
			.withMessage(PhysicalBackups.HELD_EXPIRED.formatted("20261129-020000F", "/srv/restore", "db1"))
			.withMessage("pgbackrest expire removed backup set 20261129-020000F, which the kept restore into /srv/restore"
					+ " on db1 holds: that restore cannot resume; restore again, or release it");
		assertThat(holdsAndReleases).containsExactly("hold", "release", "hold", "release");
		assertThat(Files.readAllLines(log)).filteredOn(line -> line.endsWith(" expire"))
			.singleElement()
			.satisfies(line -> assertThat(line).contains("--repo1-retention-full=3"));
	}

	private static String sets(String... sets) {
		return "[{\"name\":\"pgbatch\",\"backup\":[" + String.join(",", sets) + "]}]";
	}

	/**
	 * A file decrypted with a wrong repo1-cipher-pass: pgBackRest's detail is a refused padding or a failed parse,
	 * by the key; each says to check the passphrase, and the detail itself (garbage, maybe) is not repeated.
	 */
	@Test
	void anInfoFileDecryptedWithAWrongPassphraseIsSaidToReadAsGarbageWhateverTheDetail() {
		for (String detail : List.of("CryptoError: unable to flush", "FormatError: key/value found outside of section",
				"JsonFormatError: invalid type")) {
			PgBackRest.Result result = new PgBackRest.Result(95, "P00  ERROR: [095]: unable to load info file"
					+ " '/r/archive/pgbatch/archive.info' or '/r/archive/pgbatch/archive.info.copy':\n"
					+ "            " + detail + "\n", "");
			assertThat(result.errors()).as(detail).containsExactly("[095]: unable to load info file"
					+ " '/r/archive/pgbatch/archive.info' or '/r/archive/pgbatch/archive.info.copy'" + PgBackRest.UNREADABLE);
		}
		PgBackRest.Result other = new PgBackRest.Result(55, "P00  ERROR: [055]: unable to open missing file:\n"
				+ "            FileMissingError: no such file\n", "");
		assertThat(other.errors()).containsExactly("[055]: unable to open missing file:");
	}

	/**
	 * A reader that needs the first bytes only (a WAL segment's page header) gets them as they come, and pgbackrest,
	 * still writing (a segment of up to 1 GB), is killed, its exit code of the kill ignored: nothing is held whole
	 * (review 13 #8: the whole output was read into memory). A run that fails before writing is its failure, with
	 * its errors, though its reader failed first; one that exits 0 with output its reader cannot read is that
	 * reader's IOException.
	 */
	@Test
	void aReaderThatNeedsTheFirstBytesOnlyGetsThemAndTheRunStillWritingIsKilled(@TempDir Path dir) throws Exception {
		Path pid = dir.resolve("pid");
		Path endless = standIn(dir, """
				#!/bin/sh
				echo $$ >"%s.tmp" && mv "%s.tmp" "%s"
				printf 'the header, then more than any pipe or memory holds'
				exec cat /dev/zero
				""".formatted(pid, pid, pid));

		PgBackRest.Read<byte[]> read = new PgBackRest(properties(endless, 4, Duration.ZERO))
			.runReading(Duration.ofSeconds(60), "repo-get", List.of("archive/pgbatch/15-1/SEGMENT"), in -> in.readNBytes(10));

		assertThat(read.result().timedOut()).isFalse();
		assertThat(read.result().exitCode()).isZero();
		assertThat(new String(read.read(), StandardCharsets.US_ASCII)).isEqualTo("the header");
		ProcessHandle run = ProcessHandle.of(Long.parseLong(Files.readString(pid).strip())).orElse(null);
		if (run != null) {
			run.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
		}

		Path failing = standIn(dir, """
				#!/bin/sh
				echo 'P00  ERROR: [055]: unable to open missing file' >&2
				exit 55
				""");
		PgBackRest.Read<byte[]> failed = new PgBackRest(properties(failing, 4, Duration.ZERO))
			.runReading(Duration.ofSeconds(60), "repo-get", List.of("x"), in -> new GZIPInputStream(in).readNBytes(40));
		assertThat(failed.result().exitCode()).isEqualTo(55);
		assertThat(failed.result().failure()).isEqualTo("[055]: unable to open missing file");
		assertThat(failed.read()).isNull();

		Path garbage = standIn(dir, """
				#!/bin/sh
				printf 'not gzip at all'
				""");
		assertThatThrownBy(() -> new PgBackRest(properties(garbage, 4, Duration.ZERO))
			.runReading(Duration.ofSeconds(60), "repo-get", List.of("x"), in -> new GZIPInputStream(in).readNBytes(40)))
			.isInstanceOf(java.util.zip.ZipException.class);
	}

	/** Physical backups keeping one full, on a stand-in pgbackrest that logs its commands and answers info with a file. */
	private static PhysicalBackups keepingOneFull(Path dir, Path log, Path info) throws IOException {
		Path bin = standIn(dir, """
				#!/bin/sh
				echo "$*" >>"%s"
				case "$*" in *" info") cat "%s" ;; esac
				""".formatted(log, info));
		return new PhysicalBackups(new PgBackRest(properties(bin, 1, Duration.ZERO)), properties(bin, 1, Duration.ZERO));
	}

	/** A stand-in pgbackrest in {@code dir}: the script, executable by its owner only. */
	static Path standIn(Path dir, String script) throws IOException {
		Path bin = dir.resolve("pgbackrest");
		Files.writeString(bin, script);
		Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwx------"));
		return bin;
	}

	static PgBackRestProperties properties(Path bin, long retentionFull, Duration lockWait) {
		return new PgBackRestProperties(bin.toString(), "", "pgbatch", retentionFull, lockWait, "/var/tmp/pgbatch-drills");
	}

}
