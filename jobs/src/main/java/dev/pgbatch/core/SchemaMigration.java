package dev.pgbatch.core;

import javax.sql.DataSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy;
import org.springframework.boot.flyway.autoconfigure.FlywayProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The whole application's Flyway migrates only a schema that {@link SchemaHistory} cannot vouch for: on the runner's
 * own schema its validation finds nothing to do, and cost every start of the whole application about 0.3 s of CPU
 * (bench/README.md, seed-data, 2026-12-04). Any doubt is a migration, as before: Flyway then migrates or refuses.
 */
@Configuration(proxyBeanMethods = false)
class SchemaMigration {

	/**
	 * On the DataSource itself: Spring Boot's JdbcTemplate waits for Flyway's initializer, which waits for this. The
	 * settings are looked up when Flyway runs: without migrations at start (ETL_DB_MIGRATE=false) they are no bean.
	 */
	@Bean
	FlywayMigrationStrategy migrateUnlessCurrent(DataSource dataSource, ObjectProvider<FlywayProperties> flyway) {
		return migration -> {
			if (!vouchedFor(dataSource, flyway.getObject())) {
				migration.migrate();
			}
		};
	}

	/**
	 * Flyway as a role of its own, or on sessions set up otherwise, may read a history the runner's pool cannot (or
	 * migrate to another target): Flyway decides. A history that cannot be read is a doubt too, not a failed start.
	 */
	private static boolean vouchedFor(DataSource dataSource, FlywayProperties flyway) {
		if (flyway.getUser() != null || !flyway.getInitSqls().isEmpty() || !"latest".equals(flyway.getTarget())) {
			return false;
		}
		try {
			return new SchemaHistory(new JdbcTemplate(dataSource), flyway).current();
		}
		catch (DataAccessException ex) {
			return false;
		}
	}

}
