package dev.pgbatch.core;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.batch.jdbc.autoconfigure.BatchJdbcAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.context.annotation.Import;

/**
 * What the commands that read executions back (executions, status) need: the {@link DatabaseContext}, Spring
 * Batch's JDBC job repository as the application configures it, the job lock and {@link ExecutionReports}.
 */
@ImportAutoConfiguration({ DataSourceTransactionManagerAutoConfiguration.class, BatchJdbcAutoConfiguration.class })
@Import({ DatabaseContext.class, ExecutionReports.class, ExecutionLock.class })
@EnableConfigurationProperties(LockProperties.class)
public final class ExecutionReportsContext {

	private ExecutionReportsContext() {
	}

}
