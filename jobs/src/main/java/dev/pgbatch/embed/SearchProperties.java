package dev.pgbatch.embed;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Whom search logs in as: a role with mcp_user's rights and nothing more, so that row-level security holds
 * whatever runs on its session (a role switch on the runner's session could be undone with RESET ROLE).
 *
 * @param user ETL_SEARCH_USER
 * @param password ETL_SEARCH_PASSWORD, or the content of ETL_SEARCH_PASSWORD_FILE (never printed: see
 * {@link #toString()})
 */
@ConfigurationProperties("etl.search")
record SearchProperties(String user, String password) {

	@Override
	public String toString() {
		return "SearchProperties[user=" + this.user + ", password=*****]";
	}

}
