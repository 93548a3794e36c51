package dev.pgbatch.refresh;

import java.util.Arrays;
import java.util.List;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;
import dev.pgbatch.core.SqlNames;

/** The refresh-views job as the command line knows it. */
public final class RefreshViewsJob {

	public static final String NAME = "refresh-views";

	static final String VIEWS = "views";

	static final String SCHEMA = "schema";

	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"Refresh the materialized views of ETL_REFRESH_SCHEMAS in dependency order: concurrently (readers go on) when a view is populated and has a unique index, plainly otherwise; each logged in etl.view_refresh_log.",
			"a rerun refreshes every view again; a restart refreshes only the views that failed or were skipped",
			List.of(ParameterDefinition.text(VIEWS, "only these materialized views (schema.view, comma-separated)",
					"all of ETL_REFRESH_SCHEMAS", "", RefreshViewsJob::badViewName),
					ParameterDefinition.text(SCHEMA, "only this schema's materialized views (one of ETL_REFRESH_SCHEMAS)",
							"all of ETL_REFRESH_SCHEMAS", "", ParameterDefinition.Check.NONE)));

	private RefreshViewsJob() {
	}

	/** The names of a views parameter, in the order given. */
	static List<String> viewNames(String views) {
		return Arrays.stream(views.split(",")).map(String::strip).filter(name -> !name.isEmpty()).toList();
	}

	/** Names the first name that is not plain schema.view (checked before anything starts), else null. */
	private static String badViewName(Object views) {
		try {
			viewNames((String) views).forEach(SqlNames::checkedTable);
			return null;
		}
		catch (IllegalArgumentException ex) {
			return ex.getMessage();
		}
	}

}
