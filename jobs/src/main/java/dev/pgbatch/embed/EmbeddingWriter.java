package dev.pgbatch.embed;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

import com.pgvector.PGvector;
import dev.langchain4j.exception.InvalidRequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.infrastructure.item.Chunk;
import org.springframework.batch.infrastructure.item.ItemWriter;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Embeds a chunk of product texts and upserts the vectors, in the chunk's transaction: vectors and restart
 * point commit together. Requests are bounded by the model's token budget. A request the model refuses as
 * invalid (400) is split in halves until the product at fault is alone; that product is recorded in
 * retail.embedding_failures with the error and skipped until its text changes. Rate limits and server
 * errors are retried below (RetryingHttpClient); what still fails, fails the step, and a restart continues.
 */
final class EmbeddingWriter implements ItemWriter<ProductText> {

	private static final Logger log = LoggerFactory.getLogger(EmbeddingWriter.class);

	/** Long enough to say what was wrong, short enough for a table operators read. */
	private static final int ERROR_CHARS = 1000;

	static final String UPSERT = """
			INSERT INTO retail.product_embeddings (product_id, store_id, embedding_model, dimensions, embedding_text, embedding)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (product_id, embedding_model) DO UPDATE
			SET store_id = EXCLUDED.store_id, dimensions = EXCLUDED.dimensions,
			    embedding_text = EXCLUDED.embedding_text, embedding = EXCLUDED.embedding, updated_at = now()
			""";

	static final String SKIP_AUDIT = "SET LOCAL pgbatch.skip_audit = 'on'";

	static final String CLEAR_FAILURE = "DELETE FROM retail.embedding_failures WHERE product_id = ? AND embedding_model = ?";

	static final String RECORD_FAILURE = """
			INSERT INTO retail.embedding_failures (product_id, embedding_model, embedding_text, error)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (product_id, embedding_model) DO UPDATE
			SET embedding_text = EXCLUDED.embedding_text, error = EXCLUDED.error, failed_at = now(),
			    attempts = embedding_failures.attempts + 1
			""";

	private final EmbeddingModels models;

	private final ProductEmbeddingModel model;

	private final JdbcTemplate jdbc;

	private final EmbedCounts counts;

	private final ToIntFunction<String> tokens;

	private final int requestTokens;

	EmbeddingWriter(EmbeddingModels models, ProductEmbeddingModel model, JdbcTemplate jdbc, EmbedCounts counts) {
		this.models = models;
		this.model = model;
		this.jdbc = jdbc;
		this.counts = counts;
		this.tokens = models.tokenCounter(model);
		this.requestTokens = models.requestTokens(model);
	}

	@Override
	public void write(Chunk<? extends ProductText> chunk) {
		for (List<ProductText> request : requests(chunk.getItems())) {
			embed(request);
		}
	}

	/** The chunk cut into requests of at most the token budget each (a text over it alone goes on its own). */
	List<List<ProductText>> requests(List<? extends ProductText> texts) {
		List<List<ProductText>> requests = new ArrayList<>();
		List<ProductText> current = new ArrayList<>();
		long currentTokens = 0;
		for (ProductText text : texts) {
			int count = this.tokens.applyAsInt(text.text());
			if (!current.isEmpty() && currentTokens + count > this.requestTokens) {
				requests.add(current);
				current = new ArrayList<>();
				currentTokens = 0;
			}
			current.add(text);
			currentTokens += count;
		}
		if (!current.isEmpty()) {
			requests.add(current);
		}
		return requests;
	}

	private void embed(List<ProductText> texts) {
		List<float[]> vectors;
		try {
			vectors = this.models.embed(this.model, texts.stream().map(ProductText::text).toList());
		}
		catch (InvalidRequestException ex) {
			if (texts.size() == 1) {
				refused(texts.get(0), ex);
			}
			else {
				int half = texts.size() / 2;
				embed(texts.subList(0, half));
				embed(texts.subList(half, texts.size()));
			}
			return;
		}
		store(texts, vectors);
	}

	private void store(List<ProductText> texts, List<float[]> vectors) {
		if (vectors.size() != texts.size()) {
			throw new IllegalStateException(
					this.model.id() + " returned " + vectors.size() + " vectors for " + texts.size() + " texts");
		}
		List<Object[]> rows = new ArrayList<>(texts.size());
		for (int i = 0; i < texts.size(); i++) {
			ProductText text = texts.get(i);
			rows.add(new Object[] { text.productId(), text.storeId(), this.model.id(), this.model.dimensions(),
					text.text(), new PGvector(vectors.get(i)) });
		}
		// derived rows, as seed-data's and archive's: an audit row per vector would double what the job writes
		this.jdbc.execute(SKIP_AUDIT);
		this.jdbc.batchUpdate(UPSERT, rows);
		this.jdbc.batchUpdate(CLEAR_FAILURE,
				texts.stream().map(text -> new Object[] { text.productId(), this.model.id() }).toList());
		this.counts.embedded += texts.size();
	}

	private void refused(ProductText text, InvalidRequestException ex) {
		String error = String.valueOf(ex.getMessage());
		error = error.length() > ERROR_CHARS ? error.substring(0, ERROR_CHARS) : error;
		log.warn("{} refused product {}: {}", this.model.id(), text.productId(), error);
		this.jdbc.update(RECORD_FAILURE, text.productId(), this.model.id(), text.text(), error);
		this.counts.failed++;
	}

}
