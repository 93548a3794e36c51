package dev.pgbatch.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How long a physical backup gives way to a running nightly, on a clock set by the test (review 13 #3): held back
 * only up to ETL_SCHEDULER_BACKUP_HOLD after its firing, then started whatever runs; a nightly gives way to a
 * backup held back for it only within that hold; a refusal said once, not at every retry.
 */
class NightlyHoldTests {

	private static final Instant FIRING = Instant.parse("2026-12-06T02:00:00Z");

	private static final Duration HOLD = Duration.ofHours(6);

	/** The clock of a retry that long after the firing. */
	private static Instant after(Duration since) {
		return Instant.now(Clock.offset(Clock.fixed(FIRING, ZoneOffset.UTC), since));
	}

	@Test
	void aPhysicalBackupIsHeldBackWhileANightlyRunsUpToItsHoldThenStartsAnyway() {
		assertThat(NightlyHold.backup(true, FIRING, after(Duration.ZERO), HOLD)).isEqualTo(NightlyHold.Backup.HELD);
		assertThat(NightlyHold.backup(true, FIRING, after(HOLD.minusMillis(1)), HOLD)).isEqualTo(NightlyHold.Backup.HELD);
		assertThat(NightlyHold.backup(true, FIRING, after(HOLD), HOLD)).isEqualTo(NightlyHold.Backup.OVERDUE);
		assertThat(NightlyHold.backup(true, FIRING, after(Duration.ofDays(3)), HOLD)).isEqualTo(NightlyHold.Backup.OVERDUE);
		// a retry whose node was down comes before its firing's time never; a clock set back still holds it
		assertThat(NightlyHold.backup(true, FIRING, after(Duration.ofMinutes(-5)), HOLD)).isEqualTo(NightlyHold.Backup.HELD);
	}

	@Test
	void withNoNightlyRunningItStartsAndAHoldOfZeroNeverHoldsIt() {
		assertThat(NightlyHold.backup(false, FIRING, after(Duration.ofMinutes(1)), HOLD)).isEqualTo(NightlyHold.Backup.STARTS);
		assertThat(NightlyHold.backup(false, FIRING, after(Duration.ofDays(1)), HOLD)).isEqualTo(NightlyHold.Backup.STARTS);
		assertThat(NightlyHold.backup(true, FIRING, after(Duration.ZERO), Duration.ZERO)).isEqualTo(NightlyHold.Backup.OVERDUE);
	}

	@Test
	void aNightlyGivesWayToAHeldBackupOnlyWithinItsHold() {
		assertThat(NightlyHold.holds(FIRING, after(Duration.ofHours(5)), HOLD)).isTrue();
		assertThat(NightlyHold.holds(FIRING, after(HOLD), HOLD)).isFalse();
	}

	@Test
	void aRefusalIsSaidOncePerFiringAndAgainOnlyWhenItChanges() {
		String nightly = "a physical backup does not start while a nightly runs (pgbatch nightly, pid 1 on h)";
		assertThat(NightlyHold.sayRefusal(null, nightly)).isTrue();
		assertThat(NightlyHold.sayRefusal(nightly, nightly)).isFalse();
		assertThat(NightlyHold.sayRefusal(nightly, "job backup is already running (pgbatch backup, pid 2 on h)")).isTrue();
	}

}
