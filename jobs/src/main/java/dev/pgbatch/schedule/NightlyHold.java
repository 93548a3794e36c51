package dev.pgbatch.schedule;

import java.time.Duration;
import java.time.Instant;

/**
 * How long a physical backup's firing gives way to a running nightly (ETL_SCHEDULER_BACKUP_HOLD after the firing),
 * and the nightly to it in turn. Held back without a bound, the physical backups (the main way back after a loss)
 * would stop for as long as a nightly hangs (a rollover behind a table lock, a hung object-store call), and a
 * nightly of a day or more could take the gap before the backup's retry, night after night. Past the bound the
 * backup starts anyway: its pgBackRest backup runs beside the nightly, and the nightly's own backup step (a run of
 * job backup) waits for it or fails, which is said.
 */
final class NightlyHold {

	/** What a physical backup's firing does while a nightly runs. */
	enum Backup {
		/** No nightly runs: it starts. */
		STARTS,
		/** Refused and tried again: within its hold. */
		HELD,
		/** It starts beside the nightly: its hold has run out. */
		OVERDUE
	}

	private NightlyHold() {
	}

	static Backup backup(boolean nightlyRuns, Instant firing, Instant now, Duration hold) {
		if (!nightlyRuns) {
			return Backup.STARTS;
		}
		return holds(firing, now, hold) ? Backup.HELD : Backup.OVERDUE;
	}

	/**
	 * Whether a physical backup's firing, held back for a nightly, is still within its hold: while it is, a new
	 * nightly firing waits for it (the backup goes next); past it, the backup would start whatever runs.
	 */
	static boolean holds(Instant firing, Instant now, Duration hold) {
		return now.isBefore(firing.plus(hold));
	}

	/** Whether a refusal is to be said: once per firing and reason, not at every retry (every 30 s for hours). */
	static boolean sayRefusal(String saidBefore, String refusal) {
		return !refusal.equals(saidBefore);
	}

}
