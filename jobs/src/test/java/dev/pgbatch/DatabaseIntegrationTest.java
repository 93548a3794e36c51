package dev.pgbatch;

import javax.sql.DataSource;

import dev.pgbatch.core.JobRunner;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The application context on the test class's own database, with what tests of jobs use. Closed after the class
 * (dirtied): a context is never shared, as no two classes share a database.
 */
@SpringBootTest
@DirtiesContext
public abstract class DatabaseIntegrationTest {

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		TestDatabase.register(registry);
		// TestDatabase.snapshot and replaceWith make the pool let go of the database meanwhile
		registry.add("spring.datasource.hikari.allow-pool-suspension", () -> true);
	}

	@Autowired
	protected DataSource dataSource;

	@Autowired
	protected JobRunner runner;

	@Autowired
	protected JdbcTemplate jdbc;

}
