package dev.pgbatch.backup;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The WAL gap check of backup verify --physical: segment numbering and timelines. */
class PhysicalVerifyTests {

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

		assertThat(starts).containsExactly(new PhysicalVerify.TimelineStart(1, 0), new PhysicalVerify.TimelineStart(2, 5));
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
			.containsExactly(new PhysicalVerify.TimelineStart(1, 0), new PhysicalVerify.TimelineStart(2, 3),
					new PhysicalVerify.TimelineStart(3, 0x1A0));
	}

}
