package dev.pgbatch.embed;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

import dev.pgbatch.Settings;

/**
 * The embedding models products can be embedded with, each with its dimensions and the partial HNSW index
 * that holds its vectors (retail.product_embeddings keeps every model's vectors in one unsized column).
 */
public enum ProductEmbeddingModel {

	/** In process (ONNX, shipped in a jar): needs no network and no key. */
	ALL_MINILM_L6_V2("all-minilm-l6-v2", 384, "idx_product_embeddings_minilm_hnsw", false),

	/** OpenAI's, or any OpenAI-compatible server's: needs OPENAI_API_KEY. */
	TEXT_EMBEDDING_3_SMALL("text-embedding-3-small", 1536, "idx_product_embeddings_te3small_hnsw", true);

	static final String API_KEY_VARIABLE = "OPENAI_API_KEY";

	static final String UNKNOWN = "unknown model '%s' (known: %s)";

	static final String NEEDS_KEY = "model %s needs " + API_KEY_VARIABLE + " to be set";

	private final String id;

	private final int dimensions;

	private final String indexName;

	private final boolean remote;

	ProductEmbeddingModel(String id, int dimensions, String indexName, boolean remote) {
		this.id = id;
		this.dimensions = dimensions;
		this.indexName = indexName;
		this.remote = remote;
	}

	public String id() {
		return this.id;
	}

	public int dimensions() {
		return this.dimensions;
	}

	/** The model's partial HNSW index on retail.product_embeddings. */
	public String indexName() {
		return this.indexName;
	}

	boolean remote() {
		return this.remote;
	}

	public static Optional<ProductEmbeddingModel> find(String id) {
		return Arrays.stream(values()).filter(model -> model.id.equals(id)).findFirst();
	}

	public static ProductEmbeddingModel of(String id) {
		return find(id).orElseThrow(() -> new IllegalArgumentException(problemWith(id, true)));
	}

	/** The in-process model, or OpenAI's when a key is in the environment. */
	public static ProductEmbeddingModel byDefault() {
		return apiKeyInEnvironment() ? TEXT_EMBEDDING_3_SMALL : ALL_MINILM_L6_V2;
	}

	/** What stops a model from being used, or null when nothing does; {@code apiKeySet}: whether the settings hold a key. */
	public static String problemWith(String id, boolean apiKeySet) {
		Optional<ProductEmbeddingModel> model = find(id);
		if (model.isEmpty()) {
			return String.format(UNKNOWN, id,
					Arrays.stream(values()).map(ProductEmbeddingModel::id).collect(Collectors.joining(", ")));
		}
		return (model.get().remote && !apiKeySet) ? String.format(NEEDS_KEY, id) : null;
	}

	/** The key as the command line sees it before the application starts, read as the settings read it. */
	private static boolean apiKeyInEnvironment() {
		String key = Settings.value(API_KEY_VARIABLE);
		return key != null && !key.isBlank();
	}

}
