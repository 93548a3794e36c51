package dev.pgbatch.core;

import java.time.Duration;

import dev.pgbatch.TestDatabase;

import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The runner's lock through connections of its own to a URL, outside the test's application context; and, as a
 * process of its own (java -cp CLASSPATH dev.pgbatch.core.LockWaiter URL RESOURCE HOLDER), a wait for a shared
 * lock as archive adopt, restore and forget wait (a minute, no stop), for a test to kill.
 */
final class LockWaiter {

	private LockWaiter() {
	}

	public static void main(String[] arguments) {
		at(arguments[0]).acquireShared(arguments[1], arguments[2], Duration.ofMinutes(1));
	}

	static ExecutionLock at(String url) {
		DataSourceProperties database = new DataSourceProperties();
		database.setUrl(url);
		database.setUsername(TestDatabase.user());
		database.setPassword(TestDatabase.password());
		return new ExecutionLock(database, new DriverManagerDataSource(url, TestDatabase.user(), TestDatabase.password()),
				new LockProperties(Duration.ofSeconds(1)));
	}

}
