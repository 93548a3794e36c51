package dev.pgbatch.embed;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * How products are embedded.
 *
 * @param template ETL_EMBED_TEMPLATE, the text embedded per product (empty: {@link ProductTextTemplate#DEFAULT})
 * @param bulkLoadRows ETL_EMBED_BULK_LOAD_ROWS: a run that adds at least this many vectors, and more than the
 * model's index holds, drops the index first and builds it once at the end
 * @param indexMemoryMax ETL_EMBED_INDEX_MEMORY_MAX, the most maintenance_work_mem an index build is given
 * @param openaiApiKey OPENAI_API_KEY (never printed: see {@link #toString()})
 * @param openaiBaseUrl ETL_OPENAI_BASE_URL, OpenAI's or any compatible server's
 * @param openaiRequestTokens ETL_OPENAI_REQUEST_TOKENS, the most tokens one request may carry
 * @param openaiRetries ETL_OPENAI_RETRIES, retries of a request refused with 429 or 5xx or not answered
 * @param openaiTimeout ETL_OPENAI_TIMEOUT, per request
 * @param openaiMaxBackoff ETL_OPENAI_MAX_BACKOFF, the longest wait between retries when the server names none
 */
@ConfigurationProperties("etl.embed")
record EmbedProperties(String template, long bulkLoadRows, DataSize indexMemoryMax, String openaiApiKey,
		String openaiBaseUrl, int openaiRequestTokens, int openaiRetries, Duration openaiTimeout,
		Duration openaiMaxBackoff) {

	ProductTextTemplate textTemplate() {
		return ProductTextTemplate.parse((this.template == null || this.template.isBlank()) ? ProductTextTemplate.DEFAULT
				: this.template);
	}

	boolean hasApiKey() {
		return this.openaiApiKey != null && !this.openaiApiKey.isBlank();
	}

	@Override
	public String toString() {
		return "EmbedProperties[template=" + this.template + ", bulkLoadRows=" + this.bulkLoadRows + ", indexMemoryMax="
				+ this.indexMemoryMax + ", openaiApiKey=*****, openaiBaseUrl=" + this.openaiBaseUrl
				+ ", openaiRequestTokens=" + this.openaiRequestTokens + ", openaiRetries=" + this.openaiRetries
				+ ", openaiTimeout=" + this.openaiTimeout + ", openaiMaxBackoff=" + this.openaiMaxBackoff + "]";
	}

}
