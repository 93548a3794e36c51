package dev.pgbatch.core;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.flyway.autoconfigure.FlywayProperties;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.context.annotation.Import;

/**
 * The database as the whole application has it (the same settings and pool, a JdbcTemplate), without Flyway and
 * without the auto-configuration of everything else: the base of the contexts of commands that need little more
 * (Spring Boot's whole start took most of their time, Flyway's validation a third of what was left). Such a
 * context is started through {@link SchemaHistory}: a schema that is not the runner's needs the whole start, whose
 * Flyway migrates it or refuses. Not a {@code @Configuration}, nor are the contexts that import it: the
 * application's component scan must not find them.
 */
@ImportAutoConfiguration({ DataSourceAutoConfiguration.class, JdbcTemplateAutoConfiguration.class })
@Import(SchemaHistory.class)
@EnableConfigurationProperties(FlywayProperties.class)
public final class DatabaseContext {

	private DatabaseContext() {
	}

}
