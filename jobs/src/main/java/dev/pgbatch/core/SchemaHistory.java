package dev.pgbatch.core;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.flywaydb.core.api.resource.LoadableResource;
import org.flywaydb.core.internal.resolver.ChecksumCalculator;

import org.springframework.boot.flyway.autoconfigure.FlywayProperties;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Whether the database's schema is the runner's: its Flyway history holds every migration the runner ships, each
 * with the checksum Flyway gives it, and nothing else, nothing failed. A context without Flyway
 * ({@link DatabaseContext}) asks this first: where the answer is no, the whole application starts instead and its
 * Flyway migrates or refuses, as on every start. Any doubt (migrations configured elsewhere, a name that is not
 * plain, a baseline, a newer runner's migration) is a no: it costs a slower start, never another outcome.
 */
public class SchemaHistory {

	/** Where the runner ships its migrations (application.properties), the only location this compares. */
	private static final List<String> SHIPPED = List.of("classpath:db/migration");

	private final JdbcTemplate jdbc;

	private final FlywayProperties flyway;

	SchemaHistory(JdbcTemplate jdbc, FlywayProperties flyway) {
		this.jdbc = jdbc;
		this.flyway = flyway;
	}

	/** True also when migrations are off (ETL_DB_MIGRATE=false): then no start checks the schema either. */
	public boolean current() {
		if (!this.flyway.isEnabled()) {
			return true;
		}
		String schema = this.flyway.getDefaultSchema() != null ? this.flyway.getDefaultSchema()
				: this.flyway.getSchemas().stream().findFirst().orElse(null);
		if (!SHIPPED.equals(this.flyway.getLocations()) || SqlNames.problemWithName(schema) != null
				|| SqlNames.problemWithName(this.flyway.getTable()) != null) {
			return false;
		}
		String table = SqlNames.quote(schema) + "." + SqlNames.quote(this.flyway.getTable());
		if (!Boolean.TRUE.equals(this.jdbc.queryForObject("SELECT to_regclass(?) IS NOT NULL", Boolean.class, table))) {
			return false;
		}
		// the row of the schema's creation is no migration; a failed one, or a baseline, makes the sets differ
		Set<String> applied = new HashSet<>(this.jdbc.queryForList(
				"SELECT script || ' ' || checksum || ' ' || success FROM " + table + " WHERE type <> 'SCHEMA'",
				String.class));
		return applied.equals(shipped());
	}

	/** Checksums of the files as they are: Flyway's of a migration with placeholders would differ (a whole start). */
	private static Set<String> shipped() {
		Set<String> migrations = new HashSet<>();
		try {
			for (Resource resource : new PathMatchingResourcePatternResolver()
				.getResources("classpath*:db/migration/**/*.sql")) {
				migrations.add(resource.getFilename() + " " + ChecksumCalculator.calculate(new Script(resource)) + " true");
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return migrations;
	}

	/** A shipped migration as Flyway's checksum reads it. */
	private static final class Script extends LoadableResource {

		private final Resource resource;

		Script(Resource resource) {
			this.resource = resource;
		}

		@Override
		public Reader read() {
			try {
				return new InputStreamReader(this.resource.getInputStream(), StandardCharsets.UTF_8);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}

		@Override
		public String getAbsolutePath() {
			return this.resource.getDescription();
		}

		@Override
		public String getAbsolutePathOnDisk() {
			return getAbsolutePath();
		}

		@Override
		public String getFilename() {
			return this.resource.getFilename();
		}

		@Override
		public String getRelativePath() {
			return getFilename();
		}

	}

}
