package dev.pgbatch.backup;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

import dev.pgbatch.core.Databases;
import dev.pgbatch.core.OwnConnections;
import dev.pgbatch.core.SqlNames;
import org.postgresql.Driver;

import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.stereotype.Component;

/**
 * The databases of the runner's server, for backups and restores: connections of their own to any of them
 * (ETL_DB_URL with only the database changed, so sslmode and every other parameter apply), and the
 * administration that runs from the maintenance database (whether one exists or holds anything, CREATE,
 * DROP, who is connected).
 */
@Component
class ServerDatabases {

	/**
	 * Where CREATE, RENAME and DROP DATABASE run from: never a database they act on (PostgreSQL cannot drop
	 * or rename the database a statement runs in), and every role may connect to it by default.
	 */
	static final String MAINTENANCE = "postgres";

	/** Whether a database holds anything of its own (see holdsObjects); "true" or "false". */
	private static final String OWN_OBJECTS = """
			SELECT (
			  EXISTS (SELECT 1 FROM pg_class o JOIN pg_namespace n ON n.oid = o.relnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_proc o JOIN pg_namespace n ON n.oid = o.pronamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  -- a relation's row type and array types come with what they belong to
			  OR EXISTS (SELECT 1 FROM pg_type o JOIN pg_namespace n ON n.oid = o.typnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND o.typrelid = 0 AND o.typcategory <> 'A'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_namespace o
			          WHERE o.nspname NOT IN ('public', 'pg_catalog', 'information_schema') AND o.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_event_trigger) OR EXISTS (SELECT 1 FROM pg_publication)
			  OR EXISTS (SELECT 1 FROM pg_foreign_server) OR EXISTS (SELECT 1 FROM pg_largeobject_metadata)
			  OR EXISTS (SELECT 1 FROM pg_collation o JOIN pg_namespace n ON n.oid = o.collnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_collation'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_ts_config o JOIN pg_namespace n ON n.oid = o.cfgnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_ts_config'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  -- rows an extension keeps of its users' (pg_extension_config_dump): PostGIS's spatial_ref_sys, partman's config
			  OR EXISTS (SELECT 1 FROM pg_extension e WHERE e.extconfig IS NOT NULL)
			)::text
			""";

	/** A default only: an ApplicationName in the URL wins over connection properties. */
	private static final Map<String, String> SETTINGS = Map.of("ApplicationName", "pgbatch");

	private final DataSourceProperties database;

	private final String defaultDatabase;

	ServerDatabases(DataSourceProperties database) {
		this.database = database;
		var parsed = Driver.parseURL(database.determineUrl(), null);
		if (parsed == null) {
			throw new IllegalArgumentException("ETL_DB_URL is not a PostgreSQL JDBC URL");
		}
		this.defaultDatabase = parsed.getProperty("PGDBNAME");
	}

	/** The database of ETL_DB_URL. */
	String defaultDatabase() {
		return this.defaultDatabase;
	}

	/** A connection of its own to {@code database} on the runner's server. */
	Connection connect(String database) throws SQLException {
		return OwnConnections.open(this.database, database, SETTINGS);
	}

	boolean exists(String database) {
		try (Connection connection = connect(MAINTENANCE);
				var statement = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
			statement.setString(1, database);
			try (ResultSet rs = statement.executeQuery()) {
				return rs.next();
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the databases: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Whether a database holds anything of its own: a relation of any kind (table, view, materialized view,
	 * sequence, foreign table, composite type), function, type or operator outside the system
	 * schemas, a collation or text search configuration, a schema other than public, an event trigger,
	 * publication or foreign server, a large object, or an extension that keeps its users' rows in tables of
	 * its own (OWN_OBJECTS). Other extensions and what they bring do not count: a new database has those of its template (the stack's
	 * template1 has vector), and the restore brings the backup's own. Replacing a database that holds
	 * only views or functions loses them as surely as tables.
	 */
	boolean holdsObjects(String database) throws SQLException {
		try (Connection connection = connect(database)) {
			return "true".equals(single(connection, OWN_OBJECTS));
		}
	}

	void create(String database) throws SQLException {
		execute("CREATE DATABASE " + SqlNames.quote(database));
	}

	void drop(String database) throws SQLException {
		try (Connection connection = connect(MAINTENANCE); Statement statement = connection.createStatement()) {
			Databases.drop(statement, SqlNames.quote(database));
		}
	}

	/** Runs one statement in the maintenance database. */
	void execute(String sql) throws SQLException {
		try (Connection connection = connect(MAINTENANCE); Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

	/**
	 * Client sessions connected to a database, other than this one (autovacuum workers are ended by the
	 * rename itself).
	 */
	int sessions(String database) throws SQLException {
		try (Connection admin = connect(MAINTENANCE);
				PreparedStatement statement = admin
					.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid() AND backend_type = 'client backend'")) {
			statement.setString(1, database);
			try (ResultSet rs = statement.executeQuery()) {
				rs.next();
				return rs.getInt(1);
			}
		}
	}

	static String single(Connection connection, String sql) throws SQLException {
		try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
			rs.next();
			return rs.getString(1);
		}
	}

}
