package dev.pgbatch.core;

import java.sql.SQLException;
import java.time.Duration;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * DDL (and the explicit locks before it) that waits for its locks a bounded time, and tries again a bounded
 * number of times, instead of queueing forever behind a long reader; a lock wait also queues every later
 * reader of the table behind the DDL, so waiting long is worse than failing. Each try runs in a savepoint
 * of the caller's transaction (a new transaction when there is none), so a try that timed out is rolled
 * back alone and the work before it stays. A deadlock is tried again the same way.
 */
public final class BoundedLocks {

	private static final Logger log = LoggerFactory.getLogger(BoundedLocks.class);

	static final String NOT_GRANTED = "%s: a lock was not granted in %d tries of %d ms each (another session holds it: a long transaction?); nothing of it was changed";

	/** lock_not_available (lock_timeout) and deadlock_detected. */
	private static final java.util.Set<String> RETRIED = java.util.Set.of("55P03", "40P01");

	private final TransactionTemplate savepoint;

	private final JdbcTemplate jdbc;

	private final Duration timeout;

	private final int tries;

	public BoundedLocks(PlatformTransactionManager transactions, JdbcTemplate jdbc, Duration timeout, int tries) {
		this.savepoint = new TransactionTemplate(transactions);
		this.savepoint.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
		this.jdbc = jdbc;
		this.timeout = timeout;
		this.tries = tries;
	}

	/** The change, each of its lock waits bounded by the timeout, tried again while a lock is not granted. */
	public <T> T run(String what, Supplier<T> change) {
		for (int attempt = 1;; attempt++) {
			try {
				return once(change);
			}
			catch (DataAccessException ex) {
				if (!retried(ex)) {
					throw ex;
				}
				if (attempt >= this.tries) {
					throw new IllegalStateException(String.format(NOT_GRANTED, what, this.tries, this.timeout.toMillis()), ex);
				}
				log.info("{}: a lock was not granted ({}); trying again ({} of {})", what, ex.getMostSpecificCause().getMessage(),
						attempt + 1, this.tries);
				pause(attempt);
			}
		}
	}

	/**
	 * The change with one bounded lock wait, for a change that may be left out: false, and nothing of it done,
	 * when a lock was not granted.
	 */
	public boolean tryOnce(String what, Runnable change) {
		try {
			once(() -> {
				change.run();
				return null;
			});
			return true;
		}
		catch (DataAccessException ex) {
			if (!retried(ex)) {
				throw ex;
			}
			log.info("{}: a lock was not granted in {} ms ({}); left out", what, this.timeout.toMillis(),
					ex.getMostSpecificCause().getMessage());
			return false;
		}
	}

	private <T> T once(Supplier<T> change) {
		return this.savepoint.execute(status -> {
			// SET LOCAL in a savepoint outlives its RELEASE: the caller's lock_timeout is set back after
			// the change, or every later statement of the transaction would wait as briefly as DDL does
			String callers = this.jdbc.queryForObject("SELECT current_setting('lock_timeout')", String.class);
			lockTimeout(this.timeout.toMillis() + "ms");
			T changed = change.get();
			lockTimeout(callers);
			return changed;
		});
	}

	/** The same, for a change that returns nothing. */
	public void execute(String what, Runnable change) {
		run(what, () -> {
			change.run();
			return null;
		});
	}

	private void lockTimeout(String value) {
		this.jdbc.queryForObject("SELECT set_config('lock_timeout', ?, true)", String.class, value);
	}

	private static boolean retried(DataAccessException ex) {
		return ex.getMostSpecificCause() instanceof SQLException sql && RETRIED.contains(sql.getSQLState());
	}

	/** A short, growing pause: the holder may be about to commit. */
	private static void pause(int attempt) {
		try {
			Thread.sleep(Math.min(100L << attempt, 2_000L));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while waiting to try a lock again", ex);
		}
	}

}
