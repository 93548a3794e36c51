package dev.pgbatch.backup;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RetentionTests {

	private static Retention.Candidate at(String id, String instant, boolean verified) {
		return new Retention.Candidate(id, Instant.parse(instant), verified);
	}

	// 2026-03-09 is the Monday of ISO week 11
	private static final List<Retention.Candidate> BACKUPS = List.of(at("t", "2026-11-23T02:00:00Z", false),
			at("a", "2026-03-10T02:00:00Z", false), at("b", "2026-03-10T01:00:00Z", false),
			at("c", "2026-03-09T02:00:00Z", false), at("d", "2026-03-03T02:00:00Z", false),
			at("e", "2026-02-20T02:00:00Z", false), at("f", "2026-01-05T02:00:00Z", true));

	@Test
	void keepsTheNewestTheNewestOfEachDayAndWeekAndTheNewestVerified() {
		assertThat(Retention.keep(BACKUPS, "t", 2, 3, 2)).containsExactlyInAnyOrder("t", "a", "c", "f");
	}

	@Test
	void keepLastAloneKeepsTheNewestAndTheNewestVerified() {
		assertThat(Retention.keep(BACKUPS, "t", 1, 0, 0)).containsExactlyInAnyOrder("t", "f");
	}

	@Test
	void weeksCountOnlyWeeksThatHaveABackup() {
		assertThat(Retention.keep(BACKUPS, "t", 1, 0, 4)).containsExactlyInAnyOrder("t", "a", "d", "e", "f");
	}

	@Test
	void noVerifiedBackupMeansOnlyTheNumbersDecide() {
		List<Retention.Candidate> unverified = BACKUPS.stream()
			.map(candidate -> new Retention.Candidate(candidate.id(), candidate.storedAt(), false))
			.toList();
		assertThat(Retention.keep(unverified, "t", 2, 0, 0)).containsExactlyInAnyOrder("t", "a");
	}

	@Test
	void theCurrentRunsBackupIsKeptWhateverTheNumbersSay() {
		assertThat(Retention.keep(BACKUPS, "e", 1, 0, 0)).containsExactlyInAnyOrder("t", "e", "f");
	}

}
