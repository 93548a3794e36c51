package dev.pgbatch.partition;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * How partitioned tables are managed.
 *
 * @param policy ETL_PARTITION_POLICY, a policy file to use instead of the built-in partition-policy.yml
 * @param batchRows ETL_ROLLOVER_BATCH_ROWS, rows moved out of a default partition per transaction
 */
@ConfigurationProperties("etl.partition")
public record PartitionProperties(String policy, int batchRows) {

	public PartitionPolicies policies() {
		return PartitionPolicies.load(this.policy);
	}

}
