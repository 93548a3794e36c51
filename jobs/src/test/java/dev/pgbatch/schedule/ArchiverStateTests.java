package dev.pgbatch.schedule;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The judgement of the WAL archiver's state (read from the server in SchedulerIntegrationTests, where archive_command
 * fails for real): a failure since the last success is DOWN at once; a finished segment waiting is DOWN only once
 * nothing was archived for more than twice archive_timeout; WAL merely written since (a quiet server's first write,
 * switched at the next archive_timeout check) is not.
 */
class ArchiverStateTests {

	private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

	private static final long SEGMENT = 16 * 1024 * 1024;

	private static final String STACK_COMMAND = "/usr/bin/pgbackrest --stanza=pgbatch archive-push %p";

	@Test
	void aFailureSinceTheLastSuccessIsAProblemAndOneBeforeItIsNot() {
		ArchiverState failing = state(NOW.minusSeconds(30), NOW.minusSeconds(5), 1L);
		assertThat(failing.failing()).isTrue();
		assertThat(failing.problems()).singleElement()
			.asString()
			.startsWith("WAL archiving fails: archive_command failed at 2026-12-03T11:59:55Z on 00000001000000000000000B");
		assertThat(state(NOW.minusSeconds(5), NOW.minusSeconds(30), 0L).problems()).isEmpty();
	}

	@Test
	void aFinishedSegmentWaitingLongerThanTwiceArchiveTimeoutIsBehindAndWalOnlyWrittenSinceIsNot() {
		ArchiverState behind = state(NOW.minusSeconds(601), null, 2L);
		assertThat(behind.lag().toSeconds()).isEqualTo(601);
		assertThat(behind.problems()).singleElement()
			.asString()
			.isEqualTo("WAL archiving is behind: nothing archived for 601 s, more than 600 s (twice archive_timeout),"
					+ " while 2 finished segment(s) wait (the last archived: 00000001000000000000000A at 2026-12-03T11:49:59Z)");
		// nothing finished since: the segment after the last archived one is still being written
		ArchiverState quiet = state(NOW.minusSeconds(3_600), null, 0L);
		assertThat(quiet.lag()).isZero();
		assertThat(quiet.problems()).isEmpty();
		assertThat(state(NOW.minusSeconds(599), null, 1L).problems()).isEmpty();
	}

	/** archive_timeout 0 (PostgreSQL's default) does not switch the check off: 600 s is the bound then. */
	@Test
	void archiveTimeoutZeroChecksAgainstAFixedBound() {
		ArchiverState hung = new ArchiverState("on", STACK_COMMAND, "", false, 0, "00000001000000000000000A",
				NOW.minusSeconds(3_600), 0, null, null, NOW.minusSeconds(86_400), 3L, NOW);
		assertThat(hung.behind()).isTrue();
		assertThat(hung.problems()).singleElement()
			.asString()
			.startsWith("WAL archiving is behind: nothing archived for 3600 s, more than 600 s (archive_timeout is 0: the"
					+ " bound used then), while 3 finished segment(s) wait");
		assertThat(new ArchiverState("on", STACK_COMMAND, "", false, 0, "00000001000000000000000A",
				NOW.minusSeconds(599), 0, null, null, NOW.minusSeconds(86_400), 3L, NOW).behind()).isFalse();
	}

	/**
	 * With a stanza configured, archiving that cannot work is named: archive_mode off, an archive_command that is not
	 * pgBackRest's archive-push for the stanza, or one whose exit code the shell may make up (review 15 F4: '... ||
	 * true' and '/bin/true %p' passed), an archive library. Without a stanza, and on a standby, it is not; nor when the
	 * role may not see archive_command. The command is not quoted back: it may hold a secret.
	 */
	@Test
	void archivingThatCannotWorkIsNamedWhenAStanzaIsConfigured() {
		assertThat(mode("off", STACK_COMMAND, false).disabled("pgbatch")).startsWith(
				"archive_mode is off while pgBackRest stanza pgbatch is configured for this runner (ETL_PGBACKREST_STANZA)");
		assertThat(mode("off", STACK_COMMAND, false).disabled(null)).isNull();
		assertThat(mode("off", STACK_COMMAND, true).disabled("pgbatch")).isNull();
		assertThat(mode("on", "true", false).disabled("pgbatch")).isEqualTo("WAL archiving does not go through pgBackRest"
				+ " while stanza pgbatch is configured for this runner (ETL_PGBACKREST_STANZA): it does not run pgbackrest"
				+ " archive-push: the server may count each segment archived while none reaches the repository (set"
				+ " archive_command to pgbackrest's archive-push, as docs/operations.md says)");
		assertThat(mode("on", STACK_COMMAND + " || true", false).disabled("pgbatch"))
			.contains(": it holds the shell's '||'").doesNotContain(STACK_COMMAND);
		assertThat(mode("always", "/bin/true %p", false).disabled("pgbatch")).contains("does not run pgbackrest");
		assertThat(mode("on", "", false).disabled("pgbatch")).contains("archives nothing and keeps every segment");
		assertThat(mode("on", STACK_COMMAND, false).disabled("pgbatch")).isNull();
		assertThat(mode("on", STACK_COMMAND.replace("pgbatch", "other"), false).disabled("pgbatch"))
			.contains("it does not push to stanza pgbatch: it names --stanza=other");
		// a role that may not see archive_command: not judged
		assertThat(mode("on", null, false).disabled("pgbatch")).isNull();
		assertThat(new ArchiverState("on", "", "basic_archive", false, 300, null, null, 0, null, null, NOW, null, NOW)
			.disabled("pgbatch")).contains("archive_library is set");
		assertThat(new ArchiverState("on", "", "basic_archive", false, 300, null, null, 0, null, null, NOW, null, NOW)
			.disabled(null)).isNull();
	}

	/**
	 * After a crash or a statistics reset pg_stat_archiver names nothing archived: the .ready files say what waits,
	 * and an archiver that has made no progress since the reset is behind.
	 */
	@Test
	void afterAStatisticsResetTheReadyFilesSayWhatWaits() {
		assertThat(ArchiverState.pending(100L, null, 3L)).isEqualTo(3);
		assertThat(ArchiverState.pending(100L, null, null)).isNull();
		assertThat(ArchiverState.pending(100L, 97L, 0L)).isEqualTo(2);
		assertThat(ArchiverState.pending(null, null, 3L)).isNull();
		ArchiverState reset = new ArchiverState("on", STACK_COMMAND, "", false, 300, null, null, 0, null, null,
				NOW.minusSeconds(3_600), ArchiverState.pending(100L, null, 3L), NOW);
		assertThat(reset.lag().toSeconds()).isEqualTo(3_600);
		assertThat(reset.behind()).isTrue();
	}

	@Test
	void segmentNumbersCountAsTheServersPositionDoesAndOtherFilesHaveNone() {
		assertThat(ArchiverState.segmentNumber("00000001000000000000000A", SEGMENT)).isEqualTo(10);
		// 256 segments of 16 MB to a log file
		assertThat(ArchiverState.segmentNumber("000000020000000100000003", SEGMENT)).isEqualTo(259);
		assertThat(ArchiverState.segmentNumber("000000010000000000000003.00000028.backup", SEGMENT)).isEqualTo(3);
		assertThat(ArchiverState.segmentNumber("00000002.history", SEGMENT)).isNull();
		assertThat(ArchiverState.segmentNumber(null, SEGMENT)).isNull();
	}

	private static ArchiverState mode(String mode, String command, boolean standby) {
		return new ArchiverState(mode, command, "", standby, 300, null, null, 0, null, null, NOW, null, NOW);
	}

	private static ArchiverState state(Instant archived, Instant failed, Long pending) {
		return new ArchiverState("on", STACK_COMMAND, "", false, 300, "00000001000000000000000A", archived, failed == null ? 0 : 1,
				failed == null ? null : "00000001000000000000000B", failed, NOW.minusSeconds(86_400), pending, NOW);
	}

}
