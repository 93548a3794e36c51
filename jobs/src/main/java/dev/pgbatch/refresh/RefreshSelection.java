package dev.pgbatch.refresh;

import java.util.List;
import java.util.Set;

import dev.pgbatch.refresh.MaterializedViews.View;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The views a run refreshes, in dependency order: those of ETL_REFRESH_SCHEMAS, narrowed to one schema
 * ({@code schema=}) and to a list ({@code views=}). What cannot be honoured is refused naming it, so the job's
 * validator turns it into exit 2 before anything is written.
 */
final class RefreshSelection {

	static final String MISSING_SCHEMA = "ETL_REFRESH_SCHEMAS names schema '%s', which does not exist";

	static final String UNKNOWN_SCHEMA = RefreshViewsJob.SCHEMA + ": '%s' is not one of ETL_REFRESH_SCHEMAS (%s)";

	static final String UNKNOWN_VIEW = RefreshViewsJob.VIEWS + ": '%s' is not a materialized view of %s (there: %s)";

	private RefreshSelection() {
	}

	static List<View> select(JdbcTemplate jdbc, MaterializedViews catalog, RefreshProperties properties, String schema,
			String views) {
		List<String> schemas = properties.schemas();
		Set<String> existing = Set.copyOf(jdbc.queryForList("SELECT nspname FROM pg_namespace WHERE nspname = ANY (?)",
				String.class, (Object) schemas.toArray(String[]::new)));
		for (String configured : schemas) {
			if (!existing.contains(configured)) {
				throw new IllegalArgumentException(String.format(MISSING_SCHEMA, configured));
			}
		}
		if (!schema.isEmpty() && !schemas.contains(schema)) {
			throw new IllegalArgumentException(String.format(UNKNOWN_SCHEMA, schema, String.join(", ", schemas)));
		}
		List<String> inScope = schema.isEmpty() ? schemas : List.of(schema);
		List<View> candidates = catalog.ordered().stream().filter(view -> inScope.contains(view.schema())).toList();
		List<String> named = RefreshViewsJob.viewNames(views);
		for (String name : named) {
			if (candidates.stream().noneMatch(view -> view.name().equals(name))) {
				throw new IllegalArgumentException(String.format(UNKNOWN_VIEW, name, String.join(", ", inScope),
						String.join(", ", candidates.stream().map(View::name).toList())));
			}
		}
		return named.isEmpty() ? candidates : candidates.stream().filter(view -> named.contains(view.name())).toList();
	}

}
