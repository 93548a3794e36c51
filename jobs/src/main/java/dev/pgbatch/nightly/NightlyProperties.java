package dev.pgbatch.nightly;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * How the nightly treats a job that is already running elsewhere when its step comes, and how it ends.
 *
 * @param waitForRunning ETL_NIGHTLY_WAIT_FOR_RUNNING, how long a step waits for another run of its job (an
 * hourly view refresh still going at 01:00) to end before it fails as already running
 * @param restorePoint ETL_NIGHTLY_RESTORE_POINT, whether the run ends with a restore point of its own
 */
@ConfigurationProperties("etl.nightly")
record NightlyProperties(Duration waitForRunning, boolean restorePoint) {
}
