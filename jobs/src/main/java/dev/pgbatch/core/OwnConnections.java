package dev.pgbatch.core;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
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

	private static final String JDBC_PREFIX = "jdbc:postgresql://";

	private OwnConnections() {
	}

	/** Opens a connection to the configured database with these extra PgJDBC connection properties. */
	public static Connection open(DataSourceProperties database, Map<String, String> settings) throws SQLException {
		return openUrl(database.determineUrl(), database.determineUsername(), database.determinePassword(), settings);
	}

	/** Like {@link #open(DataSourceProperties, Map)}, to another database of the same server. */
	public static Connection open(DataSourceProperties database, String otherDatabase, Map<String, String> settings)
			throws SQLException {
		return openUrl(urlFor(database.determineUrl(), otherDatabase), database.determineUsername(),
				database.determinePassword(), settings);
	}

	/** Opens a connection to the configured database as another role. */
	public static Connection open(DataSourceProperties database, String user, String password,
			Map<String, String> settings) throws SQLException {
		return openUrl(database.determineUrl(), user, password, settings);
	}

	/**
	 * Opens a connection to the configured database's name on another server ({@code host:port}: a scratch cluster
	 * restored from the configured one), as the configured role, without the URL's other parameters (its TLS
	 * settings are the configured server's).
	 */
	public static Connection openOn(DataSourceProperties database, String server, Map<String, String> settings)
			throws SQLException {
		Url parts = Url.of(database.determineUrl());
		return openUrl(JDBC_PREFIX + server + parts.path(), database.determineUsername(), database.determinePassword(),
				settings);
	}

	/**
	 * The JDBC URL of another database on the server of {@code url}: only the database changes, so the
	 * hosts, sslmode and every other parameter stay as configured.
	 */
	public static String urlFor(String url, String database) {
		Url parts = Url.of(url);
		return parts.server() + "/" + URLEncoder.encode(database, StandardCharsets.UTF_8) + parts.query();
	}

	/** A PostgreSQL JDBC URL in parts: up to the server's end, the path (/database, or empty), the ?parameters. */
	private record Url(String server, String path, String query) {

		static Url of(String url) {
			if (!url.startsWith(JDBC_PREFIX)) {
				throw new IllegalArgumentException("ETL_DB_URL is not a PostgreSQL JDBC URL");
			}
			int question = url.indexOf('?');
			String beforeQuery = question < 0 ? url : url.substring(0, question);
			int slash = beforeQuery.indexOf('/', JDBC_PREFIX.length());
			return new Url(slash < 0 ? beforeQuery : beforeQuery.substring(0, slash),
					slash < 0 ? "" : beforeQuery.substring(slash), question < 0 ? "" : url.substring(question));
		}

	}

	private static Connection openUrl(String url, String user, String password, Map<String, String> settings)
			throws SQLException {
		Properties properties = new Properties();
		properties.setProperty("user", user);
		// no password set (trust, or one in the URL): Properties takes no null
		properties.setProperty("password", password == null ? "" : password);
		properties.putAll(settings);
		return DriverManager.getConnection(url, properties);
	}

}
