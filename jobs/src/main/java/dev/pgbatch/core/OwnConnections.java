package dev.pgbatch.core;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;

import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;

/**
 * Connections of their own, outside the pool: for a session whose life carries meaning (an advisory
 * lock ends with it) or whose waits must stay short while the pool may be busy or the server gone
 * (a health check).
 */
public final class OwnConnections {

	private OwnConnections() {
	}

	/** Opens a connection to the configured database with these extra PgJDBC connection properties. */
	public static Connection open(DataSourceProperties database, Map<String, String> settings) throws SQLException {
		return open(database, database.determineUsername(), database.determinePassword(), settings);
	}

	/** Opens a connection to the configured database as another role. */
	public static Connection open(DataSourceProperties database, String user, String password,
			Map<String, String> settings) throws SQLException {
		Properties properties = new Properties();
		properties.setProperty("user", user);
		properties.setProperty("password", password);
		properties.putAll(settings);
		return DriverManager.getConnection(database.determineUrl(), properties);
	}

}
