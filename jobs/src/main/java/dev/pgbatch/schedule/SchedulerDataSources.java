package dev.pgbatch.schedule;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.boot.quartz.autoconfigure.QuartzDataSource;
import org.springframework.boot.quartz.autoconfigure.QuartzTransactionManager;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The scheduler's connections. Quartz's job store gets a small pool of its own: on the jobs' pool, jobs
 * holding every connection kept the node from checking in with the cluster, and the other nodes took it for
 * dead. The jobs' pool is sized from the scheduler's threads, since a job (archive, refresh-views) holds two
 * connections at once.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "etl.scheduler.enabled", havingValue = "true")
class SchedulerDataSources {

	/** Name of the jobs' pool, as application.properties sets it. */
	static final String JOBS_POOL = "pgbatch";

	static final String QUARTZ_POOL = "pgbatch-quartz";

	/** Connections a job may hold at once (archive, refresh-views), and beside the jobs' (Spring Batch's own updates). */
	private static final int PER_THREAD = 2;

	private static final int BESIDE_THREADS = 2;

	/**
	 * Quartz's own pool: its scheduler thread, check-in and misfire handling, and each worker thread's record
	 * of its firing's end, as Quartz's documentation sizes it (threads + 2), and the connection that listens for
	 * other processes' schedule changes ({@link NotifiedJobStore}). Not a default candidate: every
	 * other user of a DataSource, and Boot's own auto-configuration, keep the jobs' pool.
	 */
	@Bean(defaultCandidate = false)
	@QuartzDataSource
	HikariDataSource quartzDataSource(DataSourceProperties database,
			@Value("${spring.quartz.properties.org.quartz.threadPool.threadCount}") int threads) {
		HikariDataSource pool = database.initializeDataSourceBuilder().type(HikariDataSource.class).build();
		pool.setPoolName(QUARTZ_POOL);
		pool.setMaximumPoolSize(threads + 3);
		pool.setMinimumIdle(2);
		pool.addDataSourceProperty("ApplicationName", "pgbatch scheduler");
		return pool;
	}

	/** Schedules' changes go into the store in one transaction on Quartz's connections. */
	@Bean(defaultCandidate = false)
	@QuartzTransactionManager
	PlatformTransactionManager quartzTransactionManager(@QuartzDataSource DataSource quartzDataSource) {
		return new JdbcTransactionManager(quartzDataSource);
	}

	/** The jobs' pool: ETL_DB_POOL_SIZE, or two connections per scheduler thread and two more if that is more. */
	@Bean
	static BeanPostProcessor jobsPoolSizedFromTheThreads(
			@Value("${spring.quartz.properties.org.quartz.threadPool.threadCount}") int threads) {
		return new BeanPostProcessor() {
			@Override
			public Object postProcessAfterInitialization(Object bean, String name) {
				if (bean instanceof HikariDataSource pool && JOBS_POOL.equals(pool.getPoolName())) {
					pool.setMaximumPoolSize(Math.max(pool.getMaximumPoolSize(), jobsPoolSize(threads)));
				}
				return bean;
			}
		};
	}

	static int jobsPoolSize(int threads) {
		return threads * PER_THREAD + BESIDE_THREADS;
	}

}
