package dev.pgbatch.embed;

import java.util.List;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.ParameterDefinition;

/** The embed-products job as the command line knows it: name, purpose, parameters. */
public final class EmbedProductsJob {

	public static final String NAME = "embed-products";

	static final String MODEL = "model";

	static final String STORE = "store";

	static final String BATCH_SIZE = "batch-size";

	static final String LIMIT = "limit";

	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"Embed the products whose text is new or changed into retail.product_embeddings (pgvector), for semantic search.",
			"a rerun embeds only what changed since; a restart keeps what was committed",
			List.of(ParameterDefinition.text(MODEL,
					"the embedding model: all-minilm-l6-v2 (in process, 384 d) or text-embedding-3-small (OpenAI, 1536 d)",
					"text-embedding-3-small when OPENAI_API_KEY is set, else all-minilm-l6-v2",
					ProductEmbeddingModel.byDefault().id(),
					// whether its key is set is checked against the settings when the job starts
					value -> ProductEmbeddingModel.problemWith((String) value, true)),
					ParameterDefinition.text(STORE, "only this store's products (a store_id of retail.stores)", "all stores", "",
							ParameterDefinition.Check.NONE),
					ParameterDefinition.wholeNumber(BATCH_SIZE, "products per embedding request and per commit", 64, 1, 2048),
					ParameterDefinition.wholeNumber(LIMIT, "embed at most this many products (0: all that need it)", 0, 0,
							Long.MAX_VALUE)));

	/** What is wrong with ETL_EMBED_TEMPLATE's value (empty: the default), or null: the settings' check at start. */
	public static String templateProblem(String template) {
		try {
			ProductTextTemplate.parse(template.isEmpty() ? ProductTextTemplate.DEFAULT : template);
			return null;
		}
		catch (IllegalArgumentException ex) {
			return ex.getMessage().substring(ex.getMessage().indexOf(':') + 2);
		}
	}

	private EmbedProductsJob() {
	}

}
