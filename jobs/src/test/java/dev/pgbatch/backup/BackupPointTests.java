package dev.pgbatch.backup;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A physical backup's own point, against a stand-in for the restore points that fails as it is told (what the
 * database answers is RestorePointsTests' and the integration tests').
 */
class BackupPointTests {

	/**
	 * Review 20 #4: a try that may succeed later is made again within the wait, and still failing after it is said in
	 * the summary; any other failure is said too, at once: neither fails the step, so that retention runs.
	 */
	@Test
	void aPointNotMadeIsSaidInTheSummaryAndDoesNotFailTheStep() throws Exception {
		RestorePoints.TryAgain changed = new RestorePoints.TryAgain(RestorePoints.TABLES_CHANGED.formatted("backup-x"),
				null);

		StandIn again = new StandIn(changed, 1);
		assertThat(point(again, Duration.ofSeconds(1)).make("backup-x", "x")).isEqualTo("backup-x");
		assertThat(again.tries).isEqualTo(2);

		assertThat(point(new StandIn(changed, Integer.MAX_VALUE), Duration.ZERO).make("backup-x", "x"))
			.isEqualTo("none: restore point backup-x was not made within 0 s (ETL_PGBACKREST_LOCK_WAIT): the managed"
					+ " tables changed (one created or dropped) while restore point backup-x was being made: nothing"
					+ " was made; try again; make one with bin/etl backup point NAME");

		StandIn other = new StandIn(new IllegalStateException("restore point backup-x: connection refused"),
				Integer.MAX_VALUE);
		assertThat(point(other, Duration.ofSeconds(60)).make("backup-x", "x"))
			.isEqualTo(BackupPoint.NOT_MADE.formatted("backup-x", "restore point backup-x: connection refused"))
			.isEqualTo("none: restore point backup-x was not made: restore point backup-x: connection refused; make one"
					+ " with bin/etl backup point NAME");
		assertThat(other.tries).isEqualTo(1);
	}

	private static BackupPoint point(RestorePoints points, Duration wait) {
		return new BackupPoint(points, new PgBackRestProperties("pgbackrest", "", "pgbatch", 1, wait, "/tmp"));
	}

	/** Restore points whose creation fails with {@code failure} on its first {@code failing} tries, then makes one. */
	private static final class StandIn extends RestorePoints {

		private final RuntimeException failure;

		private final int failing;

		private boolean made;

		private int tries;

		StandIn(RuntimeException failure, int failing) {
			super(null, new BackupProperties("backup", "", Duration.ofHours(24), "", Duration.ofSeconds(10)));
			this.failure = failure;
			this.failing = failing;
		}

		@Override
		public boolean exists(String name) {
			return this.made;
		}

		@Override
		public Point create(String name, String backupLabel) {
			if (++this.tries <= this.failing) {
				throw this.failure;
			}
			this.made = true;
			return new Point(name, "0/0", Instant.now(), Map.of());
		}

	}

}
