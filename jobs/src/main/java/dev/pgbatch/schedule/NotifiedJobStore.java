package dev.pgbatch.schedule;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import javax.sql.DataSource;

import dev.pgbatch.core.BackgroundThreads;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.quartz.SchedulerConfigException;
import org.quartz.SchedulerException;
import org.quartz.spi.ClassLoadHelper;
import org.quartz.spi.SchedulerSignaler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.scheduling.quartz.LocalDataSourceJobStore;
import org.springframework.scheduling.quartz.SchedulerFactoryBean;

/**
 * Quartz's JDBC job store, told when another process changes the schedules. Quartz's nodes share nothing but
 * the store, and a change wakes only the scheduler thread of the process that made it, before the change is
 * even committed: an idle node saw `schedules trigger`, `resume` or `apply` (each a process of its own) only
 * when it next looked on its own, up to idleWaitTime (30 s) later. Every change through {@link Schedules}
 * notifies {@link #CHANNEL} as it commits; a started node listens on a connection of Quartz's pool and then
 * looks at once. Without the connection it falls back on looking every idleWaitTime. Public for Quartz, which
 * instantiates it by name (org.quartz.jobStore.class).
 */
public class NotifiedJobStore extends LocalDataSourceJobStore {

	/** The channel {@link Schedules} notifies when it has changed the store. */
	static final String CHANNEL = "pgbatch_schedules";

	private static final Logger log = LoggerFactory.getLogger(NotifiedJobStore.class);

	/** Quartz's own messages keep the category (and level) of the store they come from, not ours. */
	private static final Logger quartzLog = LoggerFactory.getLogger(LocalDataSourceJobStore.class);

	/** How long a wait for a notification lasts, and so how long the listener outlives the scheduler's shutdown. */
	private static final int WAIT_MILLIS = 1000;

	/** The least time between two looks a notification causes. */
	private static final long MIN_GAP_MILLIS = 250;

	/** Before connecting again after the listening connection failed. */
	private static final long RECONNECT_MILLIS = 5000;

	private DataSource dataSource;

	private volatile boolean listening;

	@Override
	protected Logger getLog() {
		return quartzLog;
	}

	@Override
	public void initialize(ClassLoadHelper loadHelper, SchedulerSignaler signaler) throws SchedulerConfigException {
		// only while Spring's SchedulerFactoryBean initializes the scheduler: Quartz's own pool
		this.dataSource = SchedulerFactoryBean.getConfigTimeDataSource();
		super.initialize(loadHelper, signaler);
	}

	/** Only a started node listens: `bin/etl schedules` sets Quartz up without starting it. */
	@Override
	public void schedulerStarted() throws SchedulerException {
		super.schedulerStarted();
		this.listening = true;
		BackgroundThreads.run("schedule changes", this::listen);
	}

	@Override
	public void shutdown() {
		this.listening = false;
		super.shutdown();
	}

	private void listen() {
		boolean failedBefore = false;
		while (this.listening) {
			try (Connection connection = this.dataSource.getConnection()) {
				if (!connection.getAutoCommit()) {
					connection.setAutoCommit(true);
				}
				try (Statement statement = connection.createStatement()) {
					statement.execute("LISTEN " + CHANNEL);
				}
				if (failedBefore) {
					log.info("Listening for schedule changes again");
					failedBefore = false;
				}
				// a change made while the connection was being made was not heard: look once now
				signalSchedulingChangeImmediately(0L);
				PGConnection notified = connection.unwrap(PGConnection.class);
				try {
					while (this.listening) {
						PGNotification[] notifications = notified.getNotifications(WAIT_MILLIS);
						if (notifications != null && notifications.length > 0) {
							signalSchedulingChangeImmediately(0L);
							// any role may NOTIFY: a flood makes one look per gap, not one per notification
							Thread.sleep(MIN_GAP_MILLIS);
						}
					}
				}
				finally {
					// the connection goes back to Quartz's pool: not still listening, piling notifications up
					try (Statement statement = connection.createStatement()) {
						statement.execute("UNLISTEN *");
					}
					catch (SQLException ex) {
						// a broken connection is not reused
					}
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (SQLException | RuntimeException ex) {
				if (!this.listening) {
					// the pool closed under the wait as the scheduler shut down
					return;
				}
				if (!failedBefore) {
					log.warn("Not listening for schedule changes (other processes' changes are seen within idleWaitTime): {}",
							ex.getMessage());
					failedBefore = true;
				}
				try {
					Thread.sleep(RECONNECT_MILLIS);
				}
				catch (InterruptedException interrupted) {
					Thread.currentThread().interrupt();
					return;
				}
			}
		}
	}

}
