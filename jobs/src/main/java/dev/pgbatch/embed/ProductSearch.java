package dev.pgbatch.embed;

import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;

import com.pgvector.PGvector;
import dev.pgbatch.core.UsageException;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Semantic search in one store's products: the query is embedded with the model the products were embedded
 * with, and the search runs as mcp_user under row-level security after set_store_context, exactly as the
 * application would, so another store's products cannot appear whatever the query.
 */
@Component
public class ProductSearch {

	static final String NOT_EMBEDDED = "no product of store %s is embedded with %s: run embed-products model=%s first";

	/** One product found, most similar first. */
	public record Hit(UUID productId, String name, String brand, BigDecimal price, double similarity) {
	}

	private final JdbcTemplate jdbc;

	private final TransactionTemplate transactions;

	private final EmbeddingModels models;

	ProductSearch(JdbcTemplate jdbc, TransactionTemplate transactions, EmbeddingModels models) {
		this.jdbc = jdbc;
		this.transactions = transactions;
		this.models = models;
	}

	/** The products most like {@code text}; an unknown store or a model without vectors is a {@link UsageException}. */
	public List<Hit> search(String text, String store, String modelId, int limit) {
		String problem = this.models.problemWith(modelId);
		if (problem != null) {
			throw new UsageException(problem);
		}
		ProductEmbeddingModel model = ProductEmbeddingModel.of(modelId);
		String unknown = EmbedParametersValidator.unknownStore(this.jdbc, store);
		if (unknown != null) {
			throw new UsageException(unknown);
		}
		if (!Boolean.TRUE.equals(this.jdbc.queryForObject(
				"SELECT EXISTS (SELECT 1 FROM retail.product_embeddings WHERE store_id = ? AND embedding_model = ?)",
				Boolean.class, store, model.id()))) {
			throw new UsageException(String.format(NOT_EMBEDDED, store, model.id(), model.id()));
		}
		PGvector query = new PGvector(this.models.embed(model, List.of(text)).get(0));
		return this.transactions.execute(status -> {
			this.jdbc.execute("SET LOCAL ROLE mcp_user");
			this.jdbc.queryForObject("SELECT retail.set_store_context(?)::text", String.class, store);
			return this.jdbc.query("SELECT * FROM retail.search_products_by_similarity(?, ?, ?)",
					(rs, row) -> new Hit(rs.getObject("product_id", UUID.class), rs.getString("product_name"),
							rs.getString("brand"), rs.getBigDecimal("price"), rs.getDouble("similarity")),
					query, model.id(), limit);
		});
	}

}
