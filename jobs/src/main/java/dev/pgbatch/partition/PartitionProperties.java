package dev.pgbatch.partition;

import java.time.Duration;

import dev.pgbatch.core.BoundedLocks;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * How partitioned tables are managed.
 *
 * @param policy ETL_PARTITION_POLICY, a policy file to use instead of the built-in partition-policy.yml
 * @param batchRows ETL_ROLLOVER_BATCH_ROWS, rows moved out of a default partition per transaction
 * @param lockTimeout ETL_PARTITION_LOCK_TIMEOUT, how long one DDL statement of rollover, archive, archive
 *        restore or seed-data waits for a table's lock before it is tried again
 * @param lockTries ETL_PARTITION_LOCK_TRIES, how many times such a statement is tried before its job fails
 * @param lockWait ETL_PARTITION_LOCK_WAIT, how long one of those jobs waits for another to end before it is
 *        refused (they change the same partitions, so they run one at a time)
 */
@ConfigurationProperties("etl.partition")
public record PartitionProperties(String policy, int batchRows, Duration lockTimeout, int lockTries, Duration lockWait) {

	public PartitionPolicies policies() {
		return PartitionPolicies.load(this.policy);
	}

	/** Bounded lock waits for the DDL of these jobs. */
	public BoundedLocks locks(PlatformTransactionManager transactions, JdbcTemplate jdbc) {
		return new BoundedLocks(transactions, jdbc, this.lockTimeout, this.lockTries);
	}

}
