package dev.pgbatch.core;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.pgbatch.StackSuperuser;
import dev.pgbatch.TestDatabase;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Databases.drop on the real server, as the runner's role (LOGIN CREATEDB, no superuser). */
class DatabasesIntegrationTests {

	/**
	 * A session the runner may not end (the superuser's, as an autovacuum worker's is) makes DROP ... WITH (FORCE)
	 * fail with 42501; the plain DROP that follows waits for it to leave, and drops the database once it has,
	 * without ending it.
	 */
	@Test
	void forceRefusedForASessionTheRunnerMayNotEndFallsBackToAPlainDropOnceTheSessionIsGone() throws Exception {
		String database = TestDatabase.PREFIX + "_databases_drop";
		TestDatabase.createDatabase(database);
		try (Connection admin = TestDatabase.connect("postgres"); Statement statement = admin.createStatement()) {
			// ends on its own after 3 s: within the 5 s a plain DROP waits for other sessions to leave
			Process session = StackSuperuser.start(database, "SELECT pg_sleep(3)");
			await().atMost(Duration.ofSeconds(20)).until(() -> sessions(admin, database) == 1);
			List<String> tried = new ArrayList<>();
			String quoted = SqlNames.quote(database);

			Databases.drop(recording(statement, tried), quoted);

			assertThat(tried).containsExactly("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE): 42501",
					"DROP DATABASE IF EXISTS " + quoted + ": done");
			assertThat(session.waitFor(10, TimeUnit.SECONDS)).isTrue();
			String output = new String(session.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			assertThat(session.exitValue()).as("the session ran to its end, not ended by the drop: " + output).isZero();
			assertThat(exists(admin, database)).isFalse();
		}
		finally {
			TestDatabase.dropDatabase(database);
		}
	}

	private static int sessions(Connection admin, String database) throws SQLException {
		try (PreparedStatement query = admin
			.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND usename = 'postgres'")) {
			query.setString(1, database);
			try (ResultSet rs = query.executeQuery()) {
				rs.next();
				return rs.getInt(1);
			}
		}
	}

	private static boolean exists(Connection admin, String database) throws SQLException {
		try (PreparedStatement query = admin.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
			query.setString(1, database);
			try (ResultSet rs = query.executeQuery()) {
				return rs.next();
			}
		}
	}

	/** {@code statement}, noting each statement it executes and how it ended (done, or its SQLSTATE). */
	private static Statement recording(Statement statement, List<String> tried) {
		return (Statement) Proxy.newProxyInstance(Statement.class.getClassLoader(), new Class<?>[] { Statement.class },
				(proxy, method, arguments) -> {
					try {
						Object result = method.invoke(statement, arguments);
						if (method.getName().equals("execute")) {
							tried.add(arguments[0] + ": done");
						}
						return result;
					}
					catch (InvocationTargetException ex) {
						if (method.getName().equals("execute") && ex.getCause() instanceof SQLException sql) {
							tried.add(arguments[0] + ": " + sql.getSQLState());
						}
						throw ex.getCause();
					}
				});
	}

}
