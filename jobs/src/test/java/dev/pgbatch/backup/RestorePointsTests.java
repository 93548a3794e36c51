package dev.pgbatch.backup;

import java.sql.SQLException;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How a failed restore point is told: one a later try may make, or not. */
class RestorePointsTests {

	/**
	 * Review 20 #4: a lock timeout, a deadlock, and a table the nightly's rollover or archive dropped between the
	 * listing and the lock are tried again; anything else is not.
	 */
	@Test
	void aLockTimeoutADeadlockAndADroppedTableAreTriedAgain() {
		Duration timeout = Duration.ofSeconds(10);

		assertThat(RestorePoints.failure("p", new SQLException("canceling statement due to lock timeout", "55P03"),
				timeout))
			.isInstanceOf(RestorePoints.TryAgain.class)
			.hasMessage("restore point p: a managed table stayed locked by another session for 10000 ms"
					+ " (ETL_BACKUP_POINT_LOCK_TIMEOUT): nothing was made; canceling statement due to lock timeout");
		assertThat(RestorePoints.failure("p", new SQLException("deadlock detected", "40P01"), timeout))
			.isInstanceOf(RestorePoints.TryAgain.class)
			.hasMessage("restore point p: deadlock detected");
		assertThat(RestorePoints.failure("p", new SQLException("relation \"s.t_2026_11\" does not exist", "42P01"),
				timeout))
			.isInstanceOf(RestorePoints.TryAgain.class);
		assertThat(RestorePoints.failure("p", new SQLException("connection refused", "08001"), timeout))
			.isNotInstanceOf(RestorePoints.TryAgain.class)
			.hasMessage("restore point p: connection refused");
		assertThat(RestorePoints.failure("p", new SQLException("no state"), timeout))
			.isNotInstanceOf(RestorePoints.TryAgain.class);
	}

}
