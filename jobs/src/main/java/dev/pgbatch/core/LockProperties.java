package dev.pgbatch.core;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * How the job lock is watched while a job runs.
 *
 * @param checkInterval ETL_LOCK_CHECK_INTERVAL, how often the lock's session is checked: a run whose lock
 * is gone (its connection dropped) is stopped, since a second run could start beside it
 */
@ConfigurationProperties("etl.lock")
record LockProperties(Duration checkInterval) {
}
