package dev.pgbatch.refresh;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Which materialized views refresh-views refreshes, and how long each may wait for its lock.
 *
 * @param schemas ETL_REFRESH_SCHEMAS, the schemas whose materialized views are refreshed
 * @param lockTimeout ETL_REFRESH_LOCK_TIMEOUT, how long a refresh waits for its view's lock before that view
 * fails (the others go on)
 */
@ConfigurationProperties("etl.refresh")
record RefreshProperties(List<String> schemas, Duration lockTimeout) {

	/** As PostgreSQL's lock_timeout takes it and as messages show it: 10s, 1500ms. */
	String lockTimeoutText() {
		long millis = this.lockTimeout.toMillis();
		return (millis % 1000 == 0) ? (millis / 1000) + "s" : millis + "ms";
	}

}
