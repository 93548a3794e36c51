package dev.pgbatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

import org.flywaydb.core.Flyway;

import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * The database the tests use: pgbatch_test (or ETL_TEST_DB, so two working copies can run their tests at
 * once) on the server of ETL_DB_URL (the stack's by default), so a developer's own pgbatch database is
 * never touched. Created on first use.
 */
public final class TestDatabase {

	public static final String NAME = System.getenv().getOrDefault("ETL_TEST_DB", "pgbatch_test");

	private static boolean created;

	private TestDatabase() {
	}

	public static String serverUrl(String database) {
		String base = System.getenv().getOrDefault("ETL_DB_URL", "jdbc:postgresql://127.0.0.1:55432/pgbatch");
		int slash = base.lastIndexOf('/');
		int query = base.indexOf('?', slash);
		return base.substring(0, slash + 1) + database + (query < 0 ? "" : base.substring(query));
	}

	public static String url() {
		ensureCreated();
		return serverUrl(NAME);
	}

	public static Connection connect() throws SQLException {
		return connect(NAME);
	}

	public static Connection connect(String database) throws SQLException {
		if (NAME.equals(database)) {
			ensureCreated();
		}
		return DriverManager.getConnection(serverUrl(database), user(), password());
	}

	public static void register(DynamicPropertyRegistry registry) {
		registry.add("spring.datasource.url", TestDatabase::url);
	}

	/** The environment of a bin/etl process aimed at the test database. */
	public static Map<String, String> processEnvironment() {
		Map<String, String> environment = new HashMap<>(System.getenv());
		environment.put("ETL_DB_URL", url());
		return environment;
	}

	public static void createDatabase(String database) throws SQLException {
		try (Connection connection = DriverManager.getConnection(serverUrl("postgres"), user(), password());
				Statement statement = connection.createStatement()) {
			statement.execute("CREATE DATABASE " + database);
		}
		try (Connection connection = DriverManager.getConnection(serverUrl(database), user(), password());
				Statement statement = connection.createStatement()) {
			statement.execute("CREATE EXTENSION IF NOT EXISTS vector");
		}
	}

	public static void dropDatabase(String database) throws SQLException {
		try (Connection connection = DriverManager.getConnection(serverUrl("postgres"), user(), password());
				Statement statement = connection.createStatement()) {
			statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
		}
	}

	/** Applies the project's migrations to a database, as bin/etl does when it starts. */
	public static void migrate(String database) {
		Flyway.configure()
			.dataSource(serverUrl(database), user(), password())
			.locations("classpath:db/migration")
			.schemas("etl")
			.createSchemas(true)
			.load()
			.migrate();
	}

	private static synchronized void ensureCreated() {
		if (created) {
			return;
		}
		try (Connection connection = DriverManager.getConnection(serverUrl("postgres"), user(), password());
				Statement statement = connection.createStatement()) {
			var exists = statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + NAME + "'");
			boolean present = exists.next();
			exists.close();
			if (!present) {
				createDatabase(NAME);
			}
			// as bin/etl does when it starts: tests that read etl.* tables directly can rely on them
			migrate(NAME);
			created = true;
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot reach the test database server (is the stack up? bin/stack up): "
					+ ex.getMessage(), ex);
		}
	}

	public static String user() {
		return System.getenv().getOrDefault("ETL_DB_USER", "pgbatch");
	}

	public static String password() {
		return secret("ETL_DB_PASSWORD");
	}

	/** A secret setting as the runner reads it: its value, else the content of its _FILE variant, else empty. */
	public static String secret(String setting) {
		String value = System.getenv().getOrDefault(setting, "");
		String file = System.getenv().getOrDefault(setting + "_FILE", "");
		if (!value.isEmpty() || file.isEmpty()) {
			return value;
		}
		try {
			return Files.readString(Path.of(file)).strip();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
