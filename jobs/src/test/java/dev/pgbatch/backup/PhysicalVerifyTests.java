package dev.pgbatch.backup;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * backup verify --physical on pgBackRest's output: verify's summary against what info lists, the WAL gap check's
 * segment numbering and timelines.
 */
class PhysicalVerifyTests {

	private static final String FULL = "20261203-151246F";

	private static final String INCR = "20261203-151246F_20261203-160000I";

	private static final PhysicalBackups.Archive TWO_SETS = new PhysicalBackups.Archive(
			List.of(set(FULL, "full", "000000010000000000000003", "000000010000000000000003"),
					set(INCR, "incr", "000000010000000000000005", "000000010000000000000005")),
			"000000010000000000000003", "000000010000000000000006",
			List.of(new PhysicalBackups.WalArchive("15-1", 1, "000000010000000000000003", "000000010000000000000006", 7715095926240503924L)), 1);

	/** verify --verbose's summary of a sound repository: every set and the archive valid. */
	@Test
	void aSummaryListingEverySetAndArchiveValidPasses() {
		assertThat(PhysicalVerify.summaryProblems(List.of("status: ok",
				"archiveId: 15-1, total WAL checked: 4, total valid WAL: 4",
				"missing: 0, checksum invalid: 0, size invalid: 0, other: 0",
				"backup: " + FULL + ", status: valid, total files checked: 1264, total valid files: 1264",
				"missing: 0, checksum invalid: 0, size invalid: 0, other: 0",
				"backup: " + INCR + ", status: valid, total files checked: 20, total valid files: 20",
				"missing: 0, checksum invalid: 0, size invalid: 0, other: 0"), TWO_SETS, true)).isEmpty();
	}

	/**
	 * A set deleted from the repository (info still lists it), or one left without manifests: verify reports no
	 * error for it, and the set must still fail the verify.
	 */
	@Test
	void aSetInfoListsButVerifyDidNotCheckOrFoundWithoutManifestsFails() {
		assertThat(PhysicalVerify.summaryProblems(List.of("status: ok",
				"archiveId: 15-1, total WAL checked: 4, total valid WAL: 4",
				"backup: " + INCR + ", status: valid, total files checked: 20, total valid files: 20"), TWO_SETS, true))
			.containsExactly("pgbackrest verify did not check backup set " + FULL + ", which pgbackrest info lists: its"
					+ " directory or its manifests are gone from the repository");
		assertThat(PhysicalVerify.summaryProblems(List.of("status: ok",
				"archiveId: 15-1, total WAL checked: 4, total valid WAL: 4",
				"backup: " + FULL + ", status: manifest missing",
				"backup: " + INCR + ", status: valid, total files checked: 20, total valid files: 19"), TWO_SETS, true))
			.containsExactly("pgbackrest verify: backup set " + FULL + " is manifest missing (? of ? files valid)",
					"pgbackrest verify: backup set " + INCR + " is valid (19 of 20 files valid)");
	}

	/**
	 * The oldest full expired while verify ran (the backup job's retention): verify's summary lacks it, and info,
	 * read again after, no longer lists it: left out, not a problem.
	 */
	@Test
	void aSetRetentionRemovedWhileVerifyRanIsLeftOut() {
		PhysicalBackups.Archive after = new PhysicalBackups.Archive(List.of(TWO_SETS.sets().get(1)),
				TWO_SETS.walMin(), TWO_SETS.walMax(), TWO_SETS.archives(), 1);
		List<String> summary = List.of("status: ok", "archiveId: 15-1, total WAL checked: 4, total valid WAL: 4",
				"backup: " + INCR + ", status: valid, total files checked: 20, total valid files: 20");

		assertThat(PhysicalVerify.summaryProblems(summary, PhysicalVerify.stillListed(TWO_SETS, after), true)).isEmpty();
		assertThat(PhysicalVerify.summaryProblems(summary, PhysicalVerify.stillListed(TWO_SETS, TWO_SETS), true))
			.containsExactly("pgbackrest verify did not check backup set " + FULL + ", which pgbackrest info lists: its"
					+ " directory or its manifests are gone from the repository");
	}

	private static final String OLD_FULL = "20261129-020000F";

	private static final String OLD_INCR = "20261129-020000F_20261130-030000I";

	private static final String NEW_FULL = "20261206-020000F";

	/**
	 * Retention (pgBackRest's expire) removes the oldest fulls first, each with the sets on it, and never every full:
	 * a set removed otherwise while verify ran is named with why (review 13 #5: any removed set was left out
	 * silently).
	 */
	@Test
	void aSetRemovedWhileVerifyRanThatRetentionCannotHaveRemovedIsNamed() {
		List<PhysicalBackups.BackupSet> before = List.of(full(OLD_FULL), set(OLD_INCR, "incr", "", ""), full(FULL),
				set(INCR, "incr", "", ""));

		// the oldest full and its incr: retention's; also with a full made meanwhile, the one that was newest
		assertThat(PhysicalVerify.notByRetention(before, before.subList(2, 4), 0, true)).isEmpty();
		assertThat(PhysicalVerify.notByRetention(before, List.of(full(NEW_FULL)), 0, true)).isEmpty();
		// the newest full (an older one kept), an incr on a full kept, every full
		assertThat(PhysicalVerify.notByRetention(before, before.subList(0, 2), 0, true)).containsExactly(
				Map.entry(FULL, "full set " + OLD_FULL + ", older, is still listed"),
				Map.entry(INCR, "full set " + OLD_FULL + ", older, is still listed"));
		assertThat(PhysicalVerify.notByRetention(before, List.of(before.get(0), before.get(2), before.get(3)), 0, true))
			.containsExactly(Map.entry(OLD_INCR, "its full set " + OLD_FULL + " is still listed"));
		assertThat(PhysicalVerify.notByRetention(before, List.of(), 0, true)).containsOnlyKeys(OLD_FULL, OLD_INCR, FULL, INCR)
			.containsValue(PhysicalVerify.NO_FULL_LEFT);
	}

	/**
	 * A repo1-retention-diff of the configuration removes the oldest diffs beyond its number, fulls counted as diffs,
	 * each with its incrs, on a full still listed (review 14 M5: named as a removal retention does not make). Such a
	 * removal is not named; one that number cannot explain (a diff with fewer newer fulls and diffs listed, an incr on
	 * the full itself), or any without the setting, still is.
	 */
	@Test
	void aDiffThatRetentionDiffCanHaveRemovedWhileVerifyRanIsNotNamed() {
		String oldDiff = FULL + "_20261204-030000D";
		String onOldDiff = FULL + "_20261204-040000I";
		String diff = FULL + "_20261205-030000D";
		String newDiff = FULL + "_20261206-030000D";
		PhysicalBackups.BackupSet onIt = incr(onOldDiff, oldDiff);
		List<PhysicalBackups.BackupSet> before = List.of(full(FULL), set(oldDiff, "diff", "", ""), onIt,
				set(diff, "diff", "", ""), set(newDiff, "diff", "", ""));
		// with 2, the two newer diffs leave the older diff third from the newest of the full and diffs: removed, with
		// its incr; with 3 it would be kept
		List<PhysicalBackups.BackupSet> after = List.of(full(FULL), set(diff, "diff", "", ""), set(newDiff, "diff", "", ""));

		assertThat(PhysicalVerify.notByRetention(before, after, 2, true)).isEmpty();
		assertThat(PhysicalVerify.notByRetention(before, after, 3, true)).containsOnlyKeys(oldDiff, onOldDiff);
		assertThat(PhysicalVerify.notByRetention(before, after, 0, true)).containsOnlyKeys(oldDiff, onOldDiff);
		// the newer diff gone, the older kept: not retention's, whatever its number
		assertThat(PhysicalVerify.notByRetention(before.subList(0, 4), List.of(full(FULL), set(oldDiff, "diff", "", ""),
				onIt), 1, true)).containsOnlyKeys(diff);
		// an incr on the full itself is never a diff retention's
		assertThat(PhysicalVerify.notByRetention(List.of(full(FULL), set(INCR, "incr", "", "")), after, 1, true))
			.containsOnlyKeys(INCR);
	}

	/**
	 * Review 15 F1: diff retention removes the oldest diffs first, each with its incrs, counting only sets verify
	 * checked. With 2: F, D0, D1, I1 (on D1), D2, D3, and D1 removed with I1 by an expire --set while D0 stays: not
	 * retention's, though D2 and D3 are newer; I1 removed alone while D1 stays: neither; D0 removed because of a diff
	 * made while verify ran, which it did not check: named too.
	 */
	@Test
	void aMiddleDiffALoneIncrOrARemovalOnlyAnUncheckedSetExplainsIsNamed() {
		String d0 = FULL + "_20261204-030000D";
		String d1 = FULL + "_20261205-030000D";
		String i1 = FULL + "_20261205-040000I";
		String d2 = FULL + "_20261206-030000D";
		String d3 = FULL + "_20261207-030000D";
		List<PhysicalBackups.BackupSet> before = List.of(full(FULL), set(d0, "diff", "", ""), set(d1, "diff", "", ""),
				incr(i1, d1), set(d2, "diff", "", ""), set(d3, "diff", "", ""));

		assertThat(PhysicalVerify.notByRetention(before, List.of(before.get(0), before.get(1), before.get(4),
				before.get(5)), 2, true)).containsOnlyKeys(d1, i1);
		assertThat(PhysicalVerify.notByRetention(before, List.of(before.get(0), before.get(1), before.get(2),
				before.get(4), before.get(5)), 2, true)).containsOnlyKeys(i1);
		// the oldest diffs first, each with its incr: retention's
		assertThat(PhysicalVerify.notByRetention(before, List.of(before.get(0), before.get(4), before.get(5)), 2, true))
			.isEmpty();
		// D0 removed, D1 and a diff made meanwhile newer: only one checked set newer than D0 with 2 wanted
		List<PhysicalBackups.BackupSet> three = before.subList(0, 4);
		assertThat(PhysicalVerify.notByRetention(three, List.of(before.get(0), before.get(2), before.get(3),
				set(d2, "diff", "", "")), 2, true)).containsOnlyKeys(d0);
	}

	/**
	 * Review 15 F2: a removal is retention's only when a backup job's retention step ran meanwhile; else even the
	 * oldest full removed is named. A set a backup job made (its restore point) that is gone between verifies, its
	 * full not older than the oldest listed, is named at the next verify; one whose full is older went with it, and
	 * with a repo1-retention-diff a diff or incr is not named.
	 */
	@Test
	void aRemovalWithoutARetentionStepOrASetMadeAndGoneBetweenVerifiesIsNamed() {
		List<PhysicalBackups.BackupSet> before = List.of(full(OLD_FULL), set(OLD_INCR, "incr", "", ""), full(FULL),
				set(INCR, "incr", "", ""));

		assertThat(PhysicalVerify.notByRetention(before, before.subList(2, 4), 0, false)).containsExactly(
				Map.entry(OLD_FULL, "no backup job's retention step ran while it did"),
				Map.entry(OLD_INCR, PhysicalVerify.NO_RETENTION_RAN));
		assertThat(PhysicalVerify.notByRetention(before, before, 0, false)).isEmpty();

		String diff = FULL + "_20261204-030000D";
		Map<String, String> made = Map.of(OLD_FULL, "backup-" + OLD_FULL, FULL, "backup-" + FULL, INCR, "backup-" + INCR,
				diff, "backup-" + diff);
		List<PhysicalBackups.BackupSet> listed = List.of(full(FULL), set(INCR, "incr", "", ""));

		assertThat(PhysicalVerify.madeButGone(made, listed, 0)).containsExactly("backup set " + diff + ", which a backup"
				+ " job of this runner made (restore point backup-" + diff + "), is no longer listed, though its full set"
				+ " is not older than the oldest full listed (" + FULL + "): retention does not remove it; an expire"
				+ " --set by hand, or the repository was changed");
		assertThat(PhysicalVerify.madeButGone(made, listed, 2)).isEmpty();
		assertThat(PhysicalVerify.madeButGone(made, List.of(set(INCR, "incr", "", "")), 0)).isEmpty();
		assertThat(PhysicalVerify.madeButGone(made, List.of(full(OLD_FULL), set(INCR, "incr", "", "")), 0))
			.hasSize(2)
			.allMatch(problem -> problem.startsWith("backup set " + FULL));
	}

	/**
	 * What changed while verify ran is noted: the labels removed and made, and a set made that verify did not check
	 * (not in its summary, or seen while still being made); one it found valid needs no more.
	 */
	@Test
	void theSetsRemovedAndMadeWhileVerifyRanAreNoted() {
		String made = FULL + "_20261203-170000I";
		String seen = FULL + "_20261203-180000I";
		String valid = FULL + "_20261203-190000I";
		List<String> summary = List.of("status: ok", "backup: " + FULL + ", status: valid, total files checked: 9,"
				+ " total valid files: 9", "backup: " + seen + ", status: in-progress",
				"backup: " + valid + ", status: valid, total files checked: 3, total valid files: 3");

		assertThat(PhysicalVerify.changeNotes(TWO_SETS.sets(), TWO_SETS.sets(), summary)).isEmpty();
		assertThat(PhysicalVerify.changeNotes(TWO_SETS.sets(), List.of(TWO_SETS.sets().get(0),
				set(made, "incr", "", ""), set(seen, "incr", "", ""), set(valid, "incr", "", "")), summary))
			.containsExactly("the backup sets changed while pgbackrest verify ran: removed " + INCR + "; made " + made
					+ ", " + seen + ", " + valid,
					"backup set " + made + " was made while pgbackrest verify ran, which did not check its files (not in"
							+ " its summary): its WAL is checked here, its files by the next verify",
					"backup set " + seen + " was made while pgbackrest verify ran, which did not check its files (backup: "
							+ seen + ", status: in-progress): its WAL is checked here, its files by the next verify");
	}

	/**
	 * Through a stand-in pgbackrest: verify finds a damaged file in the newest full, and the full is gone when info is
	 * read again (pgbackrest expire --set): that is a problem, and so is the damaged file. The older full removed
	 * instead is retention's: left out, files and all (the summary's error status with them), and noted.
	 */
	@Test
	void aDamagedSetRemovedUnderTheVerifyIsNoPassUnlessRetentionRemovedIt(@TempDir Path dir) throws Exception {
		String info = """
				[{"name": "pgbatch", "status": {"code": 0, "lock": {"backup": {"held": false}}},
				  "db": [{"id": 1, "system-id": 7715095926240503924, "version": "15"}],
				  "archive": [{"database": {"id": 1}, "id": "15-1", "min": "000000010000000000000001",
				    "max": "000000010000000000000006"}],
				  "backup": [%s]}]""";
		String older = """
				{"label": "%s", "type": "full", "prior": null, "database": {"id": 1},
				 "archive": {"start": "000000010000000000000001", "stop": "000000010000000000000001"}}""".formatted(OLD_FULL);
		String newer = older.replace(OLD_FULL, FULL);
		// verify's output of a damaged file in a set: the set's label, then the other set's
		String damaged = """
				P00   INFO: verify command begin 2.45: --output=none --stanza=pgbatch --verbose
				P01   INFO: invalid checksum '%1$s/pg_data/base/5/16384.zst'
				P00   INFO: stanza: pgbatch
				                    status: error
				                    archiveId: 15-1, total WAL checked: 6, total valid WAL: 6
				                    backup: %2$s, status: valid, total files checked: 9, total valid files: 9
				                    backup: %1$s, status: invalid, total files checked: 9, total valid files: 8
				P00   INFO: verify command end: completed successfully
				""";
		Files.writeString(dir.resolve("verify.out"), damaged.formatted(FULL, OLD_FULL));
		Path bin = PgBackRestTests.standIn(dir, """
				#!/bin/sh
				case "$*" in
				  *" info") cat "%s/info.json" ;;
				  *" verify") cat "%s/verify.out" ;;
				esac
				""".formatted(dir, dir));
		PgBackRestProperties properties = PgBackRestTests.properties(bin, 4, Duration.ZERO);
		PgBackRest pgBackRest = new PgBackRest(properties);
		PhysicalVerify verify = new PhysicalVerify(pgBackRest, new PhysicalBackups(pgBackRest, properties), null, null,
				null, null);
		PhysicalBackups.Archive before = PhysicalBackups.archive(info.formatted(older + ", " + newer));

		Files.writeString(dir.resolve("info.json"), info.formatted(older));
		PhysicalVerify.Verify expired = verify.pgBackRestVerify(before, 0, () -> true);

		assertThat(expired.problems()).containsExactly(
				"backup set " + FULL + " was removed while pgbackrest verify ran, which retention does not do (it"
						+ " removes the oldest fulls first, and diffs beyond repo1-retention-diff, each with the sets on it):"
						+ " full set " + OLD_FULL + ", older,"
						+ " is still listed; an expire --set by hand, or the repository was changed",
				"pgbackrest verify: invalid checksum backup/pgbatch/" + FULL + "/pg_data/base/5/16384.zst");
		assertThat(expired.notes())
			.containsExactly("the backup sets changed while pgbackrest verify ran: removed " + FULL + "; made none");

		Files.writeString(dir.resolve("verify.out"), damaged.formatted(OLD_FULL, FULL));
		Files.writeString(dir.resolve("info.json"), info.formatted(newer));
		PhysicalVerify.Verify retained = verify.pgBackRestVerify(before, 0, () -> true);

		assertThat(retained.problems()).isEmpty();
		assertThat(retained.notes())
			.containsExactly("the backup sets changed while pgbackrest verify ran: removed " + OLD_FULL + "; made none");

		// the same removal with no retention step run meanwhile: named, its files' problems with it
		assertThat(verify.pgBackRestVerify(before, 0, () -> false).problems()).containsExactly(
				PhysicalVerify.SET_REMOVED.formatted(OLD_FULL, PhysicalVerify.NO_RETENTION_RAN),
				"pgbackrest verify: invalid checksum backup/pgbatch/" + OLD_FULL + "/pg_data/base/5/16384.zst");
	}

	/** No summary (or one without a status) is no verify: it fails; so does an archive verify did not check. */
	@Test
	void noSummaryOrAnArchiveNotCheckedFails() {
		assertThat(PhysicalVerify.summaryProblems(null, TWO_SETS, true)).containsExactly(PhysicalVerify.NO_SUMMARY);
		assertThat(PhysicalVerify.summaryProblems(List.of(), TWO_SETS, true)).containsExactly(PhysicalVerify.NO_SUMMARY);
		assertThat(PhysicalVerify.summaryProblems(List.of("status: ok",
				"backup: " + FULL + ", status: valid, total files checked: 1264, total valid files: 1264",
				"backup: " + INCR + ", status: valid, total files checked: 20, total valid files: 20"), TWO_SETS, true))
			.containsExactly("pgbackrest verify did not check WAL archive 15-1, which pgbackrest info lists: its"
					+ " directory is gone from the repository");
	}

	private static final long MB16 = 16L * 1024 * 1024;

	/** With 16 MB segments a log id holds 00 to FF: after ...000000FF comes the next log id's ...00000000. */
	@Test
	void segmentsRunFromFfToTheNextLogId() {
		List<PhysicalVerify.TimelineStart> one = List.of(new PhysicalVerify.TimelineStart(1, 0));
		Set<String> whole = Set.of("0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000",
				"000000010000000100000001");

		assertThat(PhysicalVerify.gaps("15-1", whole, "0000000100000000000000FE", "000000010000000100000001", one, MB16))
			.isEmpty();
		assertThat(PhysicalVerify.gaps("15-1", Set.of("0000000100000000000000FE", "000000010000000100000001"),
				"0000000100000000000000FE", "000000010000000100000001", one, MB16))
			.containsExactly("WAL archive 15-1: 2 segment(s) missing, 0000000100000000000000FF to 000000010000000100000000");
	}

	/**
	 * Review 15 F8: a planted name far ahead (the newest segment then) and a set's far WAL stop are each one gap,
	 * found without counting through the 1e12 segments between.
	 */
	@Test
	void aPlantedFarSegmentOrAFarWalStopIsOneGapFoundAtOnce() {
		List<PhysicalVerify.TimelineStart> one = List.of(new PhysicalVerify.TimelineStart(1, 0));
		String far = "00000001FFFFFFFF000000FF";
		Set<String> segments = Set.of("000000010000000000000001", "000000010000000000000002", far);
		PhysicalBackups.BackupSet farStop = set(FULL, "full", "000000010000000000000001", far);

		PhysicalVerify.Checked checked = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> PhysicalVerify.check("15-1", Set.of("000000010000000000000001", "000000010000000000000002"), one,
						new PhysicalVerify.From("000000010000000000000001", "its first segment"), List.of(farStop), null,
						MB16));
		assertThat(checked.problems()).containsExactly("WAL archive 15-1: backup set " + FULL + " cannot be made"
				+ " consistent, WAL of its own (000000010000000000000001.." + far + ") is missing: 1099511627773"
				+ " segment(s) missing, 000000010000000000000003 to " + far);
		assertThat(assertTimeoutPreemptively(Duration.ofSeconds(10), () -> PhysicalVerify.gaps("15-1", segments,
				"000000010000000000000001", far, one, MB16)))
			.containsExactly("WAL archive 15-1: 1099511627772 segment(s) missing, 000000010000000000000003 to"
					+ " 00000001FFFFFFFF000000FE");
	}

	/** With 1 GB segments (initdb --wal-segsize=1024) a log id holds 00 to 03 only. */
	@Test
	void theSegmentSizeSetsHowManySegmentsALogIdHolds() {
		List<PhysicalVerify.TimelineStart> one = List.of(new PhysicalVerify.TimelineStart(1, 0));

		assertThat(PhysicalVerify.gaps("15-1", Set.of("000000010000000000000003", "000000010000000100000000"),
				"000000010000000000000003", "000000010000000100000000", one, 1024 * 1024 * 1024L))
			.isEmpty();
		assertThat(PhysicalVerify.gaps("15-1", Set.of("000000010000000000000002", "000000010000000100000000"),
				"000000010000000000000002", "000000010000000100000000", one, 1024 * 1024 * 1024L))
			.containsExactly("WAL archive 15-1: segment 000000010000000000000003 missing");
	}

	/**
	 * After a promotion at 0/5000010, timeline 2 begins with segment ...05: timeline 1's ...05 (a .partial in the
	 * archive) is not expected, and each run of missing segments is named on the timeline it belongs to.
	 */
	@Test
	void aTimelineSwitchIsFollowedByTheHistoryFile() {
		List<PhysicalVerify.TimelineStart> starts = PhysicalVerify
			.timelines("1\t0/5000010\tno recovery target specified\n", 2, MB16);

		assertThat(starts).containsExactly(new PhysicalVerify.TimelineStart(1, 0),
				new PhysicalVerify.TimelineStart(2, 5, 0x5000010));
		assertThat(PhysicalVerify.gaps("15-1", Set.of("000000010000000000000003", "000000010000000000000004",
				"000000020000000000000005", "000000020000000000000006"), "000000010000000000000003",
				"000000020000000000000006", starts, MB16))
			.isEmpty();
		assertThat(PhysicalVerify.gaps("15-1", Set.of("000000010000000000000003", "000000010000000000000005",
				"000000020000000000000006"), "000000010000000000000003", "000000020000000000000006", starts, MB16))
			.containsExactly("WAL archive 15-1: 2 segment(s) missing, 000000010000000000000004 to 000000020000000000000005");
	}

	/** A history file names every ancestor: timeline 3 after 2 after 1. */
	@Test
	void aHistoryFileOfSeveralSwitchesGivesEachTimelineItsStart() {
		assertThat(PhysicalVerify.timelines("""
				1	0/3000000	no recovery target specified

				2	1/A0000028	at restore point "p"
				""", 3, MB16))
			.containsExactly(new PhysicalVerify.TimelineStart(1, 0), new PhysicalVerify.TimelineStart(2, 3, 0x3000000),
					new PhysicalVerify.TimelineStart(3, 0x1A0, 0x1A0000028L));
	}

	/**
	 * The last segments deleted, the newest set's stop segment among them: no gap between present segments, yet
	 * that set cannot be made consistent, and the server archived more than the archive holds.
	 */
	@Test
	void aTruncatedTailFailsOnTheSetsOwnWalAndOnWhatTheServerArchived() {
		List<PhysicalVerify.TimelineStart> one = List.of(new PhysicalVerify.TimelineStart(1, 0));
		PhysicalBackups.BackupSet full = set(FULL, "full", "000000010000000000000003", "000000010000000000000004");
		PhysicalBackups.BackupSet incr = set(INCR, "incr", "000000010000000000000006", "000000010000000000000007");
		Set<String> truncated = Set.of("000000010000000000000003", "000000010000000000000004", "000000010000000000000005");

		PhysicalVerify.Checked checked = PhysicalVerify.check("15-1", truncated, one, from(full), List.of(full, incr),
				"000000010000000000000009", MB16);

		assertThat(checked.newest()).isEqualTo("000000010000000000000005");
		assertThat(checked.problems()).containsExactly(
				"WAL archive 15-1: backup set " + INCR + " cannot be made consistent, WAL of its own"
						+ " (000000010000000000000006..000000010000000000000007) is missing: 2 segment(s) missing,"
						+ " 000000010000000000000006 to 000000010000000000000007",
				"WAL archive 15-1 does not hold 000000010000000000000009, which the server of ETL_DB_URL says it archived"
						+ " last (pg_stat_archiver): WAL archived since the archive's newest segment on timeline 1"
						+ " (000000010000000000000005) is not in the repository (dropped on the way, or the repository was"
						+ " rolled back or cut short)");
		// whole, with a .backup file archived last: it names a segment the archive holds
		Set<String> whole = Set.of("000000010000000000000003", "000000010000000000000004", "000000010000000000000005",
				"000000010000000000000006", "000000010000000000000007");
		assertThat(PhysicalVerify.check("15-1", whole, one, from(full), List.of(full, incr),
				"000000010000000000000006.00000028.backup", MB16).problems()).isEmpty();
		assertThat(PhysicalVerify.check("15-1", whole, one, from(full), List.of(full, incr), "00000002.history", MB16)
			.problems()).isEmpty();
	}

	/**
	 * A stray segment of timeline 2 (a standby promoted for a while, then rebuilt) while the server goes on on
	 * timeline 1: checked along timeline 1, the gap in timeline 1's WAL after the stray segment is found.
	 */
	@Test
	void aStrayHigherTimelineNeitherEndsNorHidesTheLiveTimelinesWal() {
		List<PhysicalVerify.TimelineStart> one = List.of(new PhysicalVerify.TimelineStart(1, 0));
		PhysicalBackups.BackupSet full = set(FULL, "full", "000000010000000000000003", "000000010000000000000003");
		Set<String> segments = Set.of("000000010000000000000003", "000000010000000000000004", "000000020000000000000005",
				"000000010000000000000005", "000000010000000000000007", "000000010000000000000008");

		PhysicalVerify.Checked checked = PhysicalVerify.check("15-1", segments, one, from(full), List.of(full),
				"000000010000000000000008", MB16);

		assertThat(checked.newest()).isEqualTo("000000010000000000000008");
		assertThat(checked.problems()).containsExactly("WAL archive 15-1: segment 000000010000000000000006 missing");
	}

	/**
	 * The first 40 bytes of segment 000000010000000000000001 of the stack's cluster, as pgbackrest repo-get gave them
	 * decompressed: magic D110 (PostgreSQL 15), a long header, timeline 1, page address 0/1000000, system
	 * 7715095926240503924 (6B119E38F07D421A), 16 MB segments, 8 kB pages.
	 */
	private static final String FIRST_PAGE = "10d10200010000000000000100000000000000000000000"
			+ "01a427df0389e116b0000000100200000";

	private static final long SYSTEM = 0x6B119E38F07D421AL;

	/** The archive of {@link #FIRST_PAGE}'s system. */
	private static final PhysicalBackups.WalArchive ARCHIVE = new PhysicalBackups.WalArchive("15-1", 1,
			"000000010000000000000001", "000000010000000000000009", SYSTEM);

	/**
	 * A segment's content copied under another segment's name (its checksum, which is in the name, still matches)
	 * does not hold the WAL of that name: its page address says where it belongs. So do another timeline's and
	 * another system's.
	 */
	@Test
	void aSegmentsFirstPageHeaderMustBeThatOfItsName() {
		List<PhysicalVerify.TimelineStart> one = List.of(new PhysicalVerify.TimelineStart(1, 0));
		byte[] first = HexFormat.of().parseHex(FIRST_PAGE);

		assertThat(PhysicalVerify.headerProblem("000000010000000000000001", first, one, MB16, SYSTEM)).isNull();
		assertThat(PhysicalVerify.headerProblem("000000010000000000000001", first, one, MB16, 0)).isNull();
		assertThat(PhysicalVerify.headerProblem("000000010000000000000005", first, one, MB16, SYSTEM))
			.isEqualTo("its first page is at 0/1000000");
		assertThat(PhysicalVerify.headerProblem("000000010000000100000001", first, one, MB16, SYSTEM))
			.isEqualTo("its first page is at 0/1000000");
		assertThat(PhysicalVerify.headerProblem("000000010000000000000001", first, one, MB16, SYSTEM + 1))
			.isEqualTo("its first page is of database system " + SYSTEM + ", the archive's is " + (SYSTEM + 1));
		assertThat(PhysicalVerify.headerProblem("000000010000000000000001", first, one, 1024 * 1024 * 1024L, SYSTEM))
			.isEqualTo("its first page is at 0/1000000");
		assertThat(PhysicalVerify.headerProblem("000000010000000000000001", new byte[8], one, MB16, SYSTEM))
			.isEqualTo(PhysicalVerify.PAGE_NOT_LONG);
		// timeline 2 beginning at segment 1: its first segment may begin with timeline 1's WAL, a later one may not
		List<PhysicalVerify.TimelineStart> two = List.of(new PhysicalVerify.TimelineStart(1, 0),
				new PhysicalVerify.TimelineStart(2, 1));
		assertThat(PhysicalVerify.headerProblem("000000020000000000000001", first, two, MB16, SYSTEM)).isNull();
		assertThat(PhysicalVerify.headerProblem("000000020000000000000001", first, one, MB16, SYSTEM))
			.isEqualTo("its first page is of timeline 1");
	}

	/**
	 * The page of {@link #FIRST_PAGE} (its 8 kB, the rest zeros) as the lz4 and bzip2 programs compress it: lz4's
	 * frame format, which pgBackRest's compress-type=lz4 writes, and bzip2's.
	 */
	private static final String PAGE_LZ4 = "04224d186440a7470000006110d1020001000100030700020200811a427df0389e116b1800122014"
			+ "000f0200ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffdb50000000000000000000224a8b6f";

	private static final String PAGE_BZ2 = "425a68393141592653590bbc518d000049fda2f040601040000040100000080002000120004208"
			+ "200031434d300024546d418d4f28cb492f35842021a8680387f32ebde6e66aaafb003f1772453850900bbc518d";

	/**
	 * Each segment's header is read back by its own compression (the archive holds every compress-type it was pushed
	 * with), lz4 and bz2 too; one of a compression this does not know is one note for the archive, and the segments
	 * after it are still checked (review 13 #6: the first lz4 or bz2 segment ended the check of the whole archive).
	 * Through a stand-in pgbackrest whose repo-get gives the file of the repository directory.
	 */
	@Test
	void eachSegmentsHeaderIsReadByItsOwnCompressionAndOneNotReadStopsNoOther(@TempDir Path dir) throws Exception {
		Path repository = dir.resolve("repository");
		String path = "archive/pgbatch/15-1";
		byte[] page = HexFormat.of().parseHex(FIRST_PAGE + "00".repeat(8192 - 40));
		ByteArrayOutputStream gzipped = new ByteArrayOutputStream();
		try (GZIPOutputStream gzip = new GZIPOutputStream(gzipped)) {
			gzip.write(page);
		}
		Map<String, String> files = new TreeMap<>();
		// the page is segment 1's: right under its name, else another segment's WAL
		files.put("000000010000000000000001", stored(repository, path, "000000010000000000000001", "lz4",
				HexFormat.of().parseHex(PAGE_LZ4)));
		files.put("000000010000000000000002", stored(repository, path, "000000010000000000000002", "bz2",
				HexFormat.of().parseHex(PAGE_BZ2)));
		files.put("000000010000000000000003", stored(repository, path, "000000010000000000000003", "xz", page));
		files.put("000000010000000000000004", stored(repository, path, "000000010000000000000004", "lz4",
				HexFormat.of().parseHex(PAGE_LZ4)));
		files.put("000000010000000000000005", stored(repository, path, "000000010000000000000005", "gz",
				gzipped.toByteArray()));
		Path bin = PgBackRestTests.standIn(dir, """
				#!/bin/sh
				for last; do :; done
				cat "%s/$last"
				""".formatted(repository));
		List<String> problems = new ArrayList<>();
		List<String> notes = new ArrayList<>();

		PhysicalVerify.headers(new PgBackRest(PgBackRestTests.properties(bin, 4, Duration.ZERO)), ARCHIVE,
				path, files, files.keySet(), List.of(new PhysicalVerify.TimelineStart(1, 0)), MB16, problems, notes);

		assertThat(problems).containsExactly(
				PhysicalVerify.NOT_ITS_WAL.formatted("15-1", "000000010000000000000002", "its first page is at 0/1000000"),
				PhysicalVerify.NOT_ITS_WAL.formatted("15-1", "000000010000000000000004", "its first page is at 0/1000000"),
				PhysicalVerify.NOT_ITS_WAL.formatted("15-1", "000000010000000000000005", "its first page is at 0/1000000"));
		assertThat(notes).containsExactly(PhysicalVerify.NOT_DECOMPRESSED.formatted("15-1", "xz"));
	}

	/** A segment stored in the repository directory as pgBackRest names it; its file under the archive. */
	private static String stored(Path repository, String path, String name, String extension, byte[] content)
			throws IOException {
		String file = name.substring(0, 16) + "/" + name + "-" + "0".repeat(40) + (extension.isEmpty() ? "" : "." + extension);
		Path stored = repository.resolve(path).resolve(file);
		Files.createDirectories(stored.getParent());
		Files.write(stored, content);
		return file;
	}

	/**
	 * At a timeline switch the first page may be the parent's (PostgreSQL copies its WAL up to the switch point into
	 * the new timeline's segment), but the page after the switch point must be the new timeline's: the parent's
	 * complete segment renamed to the new timeline's passed on its first page alone (review 13 #7). A page zeroed
	 * after a segment switch tells nothing; one missing is said. Read back through a stand-in pgbackrest too.
	 */
	@Test
	void atATimelineSwitchThePageAfterTheSwitchPointMustBeTheNewTimelines(@TempDir Path dir) throws Exception {
		// timeline 2 begins at 0/1000800, in segment 1: its first page is timeline 1's, the next (0/1002000) 2's
		List<PhysicalVerify.TimelineStart> starts = PhysicalVerify.timelines("1\t0/1000800\tno recovery target specified\n",
				2, MB16);
		byte[] switched = segment(2);
		byte[] renamed = segment(1);

		PhysicalVerify.Pages pages = PhysicalVerify.pages(new ByteArrayInputStream(switched), 0x800, MB16);
		assertThat(pages.afterSwitchAt()).isEqualTo(8192);
		assertThat(PhysicalVerify.headerProblem("000000020000000000000001", pages.first(), starts, MB16, SYSTEM)).isNull();
		assertThat(PhysicalVerify.afterSwitchProblem(pages.afterSwitch(), 0x1002000L, 2)).isNull();
		assertThat(PhysicalVerify.afterSwitchProblem(
				PhysicalVerify.pages(new ByteArrayInputStream(renamed), 0x800, MB16).afterSwitch(), 0x1002000L, 2))
			.isEqualTo("the page after its switch point (0/1002000) is of timeline 1");
		byte[] zeroed = Arrays.copyOf(HexFormat.of().parseHex(FIRST_PAGE), 16384);
		assertThat(PhysicalVerify.afterSwitchProblem(
				PhysicalVerify.pages(new ByteArrayInputStream(zeroed), 0x800, MB16).afterSwitch(), 0x1002000L, 2)).isNull();
		assertThat(PhysicalVerify.afterSwitchProblem(PhysicalVerify.pages(
				new ByteArrayInputStream(Arrays.copyOf(zeroed, 100)), 0x800, MB16).afterSwitch(), 0x1002000L, 2))
			.isEqualTo("it ends before the page after its switch point (0/1002000)");
		// a switch at a page's start: that page is the new timeline's
		assertThat(PhysicalVerify.pages(new ByteArrayInputStream(switched), 0x2000, MB16).afterSwitchAt()).isEqualTo(8192);

		Path repository = dir.resolve("repository");
		String path = "archive/pgbatch/15-1";
		Map<String, String> files = new TreeMap<>();
		files.put("000000020000000000000001", stored(repository, path, "000000020000000000000001", "", renamed));
		Path bin = PgBackRestTests.standIn(dir, """
				#!/bin/sh
				for last; do :; done
				cat "%s/$last"
				""".formatted(repository));
		List<String> problems = new ArrayList<>();
		PhysicalVerify.headers(new PgBackRest(PgBackRestTests.properties(bin, 4, Duration.ZERO)), ARCHIVE,
				path, files, files.keySet(), starts, MB16, problems, new ArrayList<>());
		assertThat(problems).containsExactly(PhysicalVerify.NOT_ITS_WAL.formatted("15-1", "000000020000000000000001",
				"the page after its switch point (0/1002000) is of timeline 1"));
	}

	/**
	 * A set's WAL start on a timeline off the checked line (a set taken on a standby of timeline 2 while the line
	 * followed is timeline 1): its first segment is checked along timeline 2's own history, where it may begin
	 * with timeline 1's WAL (review 13 #7: it was "other WAL"); the page after the switch point is checked so too.
	 * With no history to read, it is checked against its timeline alone, as before.
	 */
	@Test
	void aSegmentOffTheCheckedLineIsCheckedAlongItsOwnTimelinesHistory(@TempDir Path dir) throws Exception {
		Path repository = dir.resolve("repository");
		String path = "archive/pgbatch/15-1";
		Map<String, String> files = new TreeMap<>();
		files.put("000000020000000000000001", stored(repository, path, "000000020000000000000001", "", segment(2)));
		Path bin = PgBackRestTests.standIn(dir, """
				#!/bin/sh
				for last; do :; done
				cat "%s/$last"
				""".formatted(repository));
		PgBackRest pgBackRest = new PgBackRest(PgBackRestTests.properties(bin, 4, Duration.ZERO));
		List<PhysicalVerify.TimelineStart> one = List.of(new PhysicalVerify.TimelineStart(1, 0));
		List<String> withoutHistory = new ArrayList<>();

		PhysicalVerify.headers(pgBackRest, ARCHIVE, path, files, files.keySet(), one, MB16, withoutHistory,
				new ArrayList<>());
		Files.writeString(repository.resolve(path).resolve("00000002.history"), "1\t0/1000800\tno recovery target specified\n");
		List<String> problems = new ArrayList<>();
		PhysicalVerify.headers(pgBackRest, ARCHIVE, path, files, files.keySet(), one, MB16, problems, new ArrayList<>());

		assertThat(withoutHistory).containsExactly(PhysicalVerify.NOT_ITS_WAL.formatted("15-1", "000000020000000000000001",
				"its first page is of timeline 1"));
		assertThat(problems).isEmpty();
	}

	/**
	 * Segment 1 of {@link #FIRST_PAGE}'s system, its first page timeline 1's, its second page's header of
	 * {@code timeline}, and a third page of zeros.
	 */
	private static byte[] segment(int timeline) {
		ByteBuffer segment = ByteBuffer.allocate(3 * 8192).order(ByteOrder.LITTLE_ENDIAN);
		segment.put(HexFormat.of().parseHex(FIRST_PAGE));
		segment.putShort(8192, (short) 0xD110).putInt(8192 + 4, timeline).putLong(8192 + 8, 0x1002000L);
		return segment.array();
	}

	/** Checked: the ends of what is restored and each timeline switch between them, not every segment. */
	@Test
	void theSegmentsBoundAreTheSetsEndsTheNewestAndEachTimelineSwitch() {
		PhysicalBackups.BackupSet full = set(FULL, "full", "000000010000000000000003", "000000010000000000000004");
		PhysicalBackups.BackupSet incr = set(INCR, "incr", "000000020000000000000009", "00000002000000000000000A");
		List<PhysicalVerify.TimelineStart> starts = PhysicalVerify
			.timelines("1\t0/5000010\tno recovery target specified\n", 2, MB16);

		assertThat(PhysicalVerify.bound(full.walStart(), List.of(full, incr), starts, "00000002000000000000000C", MB16))
			.containsExactly("000000010000000000000003", "000000010000000000000004", "000000020000000000000005",
					"000000020000000000000009", "00000002000000000000000A", "00000002000000000000000C");
	}

	/**
	 * After a stanza-upgrade (database id 2, PostgreSQL 16) only the old system's fulls exist: that is a problem
	 * (nothing of the current system can be restored), and the new archive is gap-checked from its first segment
	 * all the same; the old archive from its full's WAL start.
	 */
	@Test
	void afterAStanzaUpgradeTheCurrentSystemNeedsAFullAndItsArchiveIsChecked() {
		String info = """
				[{"name": "pgbatch", "status": {"code": 0, "lock": {"backup": {"held": false}}},
				  "db": [{"id": 1, "repo-key": 1, "system-id": 7715095926240503924, "version": "15"},
				         {"id": 2, "repo-key": 1, "system-id": 7715095926240509999, "version": "16"}],
				  "archive": [
				    {"database": {"id": 1, "repo-key": 1}, "id": "15-1", "min": "000000010000000000000003",
				     "max": "000000010000000000000009"},
				    {"database": {"id": 2, "repo-key": 1}, "id": "16-2", "min": "000000010000000000000001",
				     "max": "000000010000000000000004"}],
				  "backup": [
				    {"label": "%s", "type": "full", "prior": null, "database": {"id": 1, "repo-key": 1},
				     "archive": {"start": "000000010000000000000004", "stop": "000000010000000000000004"},
				     "timestamp": {"start": 1796317079, "stop": 1796317084}, "info": {}}]}]
				""".formatted(FULL);
		PhysicalBackups.Archive archive = PhysicalBackups.archive(info);
		List<String> problems = new ArrayList<>();

		Map<String, PhysicalVerify.From> from = PhysicalVerify.from(archive, "pgbatch", problems);

		assertThat(archive.database()).isEqualTo(2);
		assertThat(problems).containsExactly("stanza pgbatch has no full backup set of its current database system"
				+ " (database id 2, after a stanza-upgrade): nothing of it can be restored (bin/etl run backup type=full)");
		assertThat(from).containsOnly(
				Map.entry("15-1", new PhysicalVerify.From("000000010000000000000004", "the WAL start of full set " + FULL)),
				Map.entry("16-2", new PhysicalVerify.From("000000010000000000000001", "its first segment")));

		// once the new system has a full of its own, nothing is missing
		List<String> after = new ArrayList<>();
		PhysicalVerify.from(PhysicalBackups.archive(info.replace("]}]", ", {\"label\": \"20261210-020000F\","
				+ " \"type\": \"full\", \"prior\": null, \"database\": {\"id\": 2, \"repo-key\": 1},"
				+ " \"archive\": {\"start\": \"000000010000000000000002\", \"stop\": \"000000010000000000000002\"},"
				+ " \"timestamp\": {\"start\": 1796317079, \"stop\": 1796317084}, \"info\": {}}]}]")), "pgbatch", after);
		assertThat(after).isEmpty();
	}

	private static PhysicalVerify.From from(PhysicalBackups.BackupSet full) {
		return new PhysicalVerify.From(full.walStart(), "the WAL start of full set " + full.label());
	}

	private static PhysicalBackups.BackupSet incr(String label, String prior) {
		return new PhysicalBackups.BackupSet(label, "incr", prior, 0, 0, 0, 0, "", "", null, Instant.EPOCH, Instant.EPOCH,
				1, 15);
	}

	private static PhysicalBackups.BackupSet full(String label) {
		return set(label, "full", "", "");
	}

	private static PhysicalBackups.BackupSet set(String label, String type, String walStart, String walStop) {
		return new PhysicalBackups.BackupSet(label, type, null, 0, 0, 0, 0, walStart, walStop, null, Instant.EPOCH,
				Instant.EPOCH, 1, 15);
	}

}
