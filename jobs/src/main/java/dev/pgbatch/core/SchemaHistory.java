package dev.pgbatch.core;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.configuration.ClassicConfiguration;
import org.flywaydb.core.api.resource.LoadableResource;
import org.flywaydb.core.internal.resolver.ChecksumCalculator;
import org.flywaydb.core.internal.resource.ResourceName;
import org.flywaydb.core.internal.resource.ResourceNameParser;

import org.springframework.boot.flyway.autoconfigure.FlywayProperties;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Whether the database's schema is the runner's: its Flyway history is, row for row in the order they were installed,
 * what migrating an empty schema with the runner's migrations writes (version, description, type, script, the
 * checksum Flyway gives the file, success), and nothing else. A context without Flyway ({@link DatabaseContext}) asks
 * this first: where the answer is no, the whole application starts instead and its Flyway migrates or refuses, as on
 * every start. Any doubt (migrations configured elsewhere, Flyway on a connection of its own, a name that is not
 * plain, a baseline, a repeatable, a failed, duplicated or reordered row, a newer runner's migration) is a no: it costs
 * a slower start, never another outcome.
 */
public class SchemaHistory {

	/** Where the runner ships its migrations (application.properties), the only location this compares. */
	private static final List<String> SHIPPED = List.of("classpath:db/migration");

	/** The type of the row Flyway writes as it creates the schema (spring.flyway.create-schemas), before any migration. */
	private static final String SCHEMA_CREATION = "SCHEMA";

	/** The type of a migration in SQL, as Flyway records it. */
	private static final String SQL = "SQL";

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
		// Flyway given a database of its own (spring.flyway.url) keeps its history there, not where this reads
		if (!SHIPPED.equals(this.flyway.getLocations()) || this.flyway.getUrl() != null
				|| SqlNames.problemWithName(schema) != null
				|| SqlNames.problemWithName(this.flyway.getTable()) != null) {
			return false;
		}
		String table = SqlNames.quote(schema) + "." + SqlNames.quote(this.flyway.getTable());
		if (!Boolean.TRUE.equals(this.jdbc.queryForObject("SELECT to_regclass(?) IS NOT NULL", Boolean.class, table))) {
			return false;
		}
		Optional<List<Row>> shipped = shipped();
		return shipped.isPresent() && !shipped.get().isEmpty() && applied(table).equals(shipped.get());
	}

	/** The history's rows in the order they were installed, less the schema's creation where it comes first. */
	private List<Row> applied(String table) {
		List<Row> rows = this.jdbc.query(
				"SELECT version, description, type, script, checksum, success FROM " + table + " ORDER BY installed_rank",
				(row, number) -> new Row(row.getString(1), row.getString(2), row.getString(3), row.getString(4),
						row.getObject(5, Integer.class), row.getBoolean(6)));
		return !rows.isEmpty() && SCHEMA_CREATION.equals(rows.get(0).type()) ? rows.subList(1, rows.size()) : rows;
	}

	/**
	 * The rows migrating an empty schema writes, in version order, their names read by Flyway's own parser with the
	 * configured prefix, separator and suffixes; none when a file is no versioned migration (a repeatable: a whole
	 * start) or two have one version. Checksums of the files as they are: Flyway's of a migration with placeholders
	 * would differ (a whole start).
	 */
	private Optional<List<Row>> shipped() {
		ClassicConfiguration naming = new ClassicConfiguration();
		naming.setSqlMigrationPrefix(this.flyway.getSqlMigrationPrefix());
		naming.setSqlMigrationSeparator(this.flyway.getSqlMigrationSeparator());
		naming.setSqlMigrationSuffixes(this.flyway.getSqlMigrationSuffixes().toArray(String[]::new));
		naming.setRepeatableSqlMigrationPrefix(this.flyway.getRepeatableSqlMigrationPrefix());
		ResourceNameParser parser = new ResourceNameParser(naming);
		Map<MigrationVersion, Row> byVersion = new TreeMap<>();
		try {
			for (Resource resource : new PathMatchingResourcePatternResolver()
				.getResources("classpath*:db/migration/**/*.sql")) {
				ResourceName name = parser.parse(resource.getFilename());
				if (!name.isValid() || !this.flyway.getSqlMigrationPrefix().equals(name.getPrefix())
						|| byVersion.put(name.getVersion(), new Row(name.getVersion().toString(), name.getDescription(), SQL,
								resource.getFilename(), ChecksumCalculator.calculate(new Script(resource)), true)) != null) {
					return Optional.empty();
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return Optional.of(List.copyOf(byVersion.values()));
	}

	/** A row of Flyway's history, as far as its validation compares it. */
	private record Row(String version, String description, String type, String script, Integer checksum,
			boolean success) {
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
