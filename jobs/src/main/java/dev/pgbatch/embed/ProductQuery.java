package dev.pgbatch.embed;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

import javax.sql.DataSource;

import org.springframework.batch.infrastructure.item.database.JdbcCursorItemReader;
import org.springframework.batch.infrastructure.item.database.builder.JdbcCursorItemReaderBuilder;
import org.springframework.jdbc.core.PreparedStatementSetter;
import org.springframework.jdbc.core.RowMapper;

/**
 * The products of a run (one store's or all) with the text of their current embedding for the model and the
 * text the model last refused: what the template makes of a product, compared with those, says whether it
 * needs embedding.
 */
final class ProductQuery {

	static final String SQL = """
			SELECT p.product_id, p.store_id, p.product_name, p.brand, c.category_name, p.product_description,
			       array_to_string(p.tags, ', ') AS tags, p.sku, p.model, p.color, p.size,
			       e.embedding_text AS embedded_text, f.embedding_text AS refused_text
			FROM retail.products p
			LEFT JOIN retail.product_categories c ON c.category_id = p.category_id
			LEFT JOIN retail.product_embeddings e ON e.product_id = p.product_id AND e.embedding_model = ?
			LEFT JOIN retail.embedding_failures f ON f.product_id = p.product_id AND f.embedding_model = ?
			WHERE (? OR p.store_id = ?)
			ORDER BY p.product_id
			""";

	static final RowMapper<ProductRow> ROW = ProductQuery::row;

	private ProductQuery() {
	}

	static PreparedStatementSetter parameters(EmbedPlan plan) {
		return statement -> {
			statement.setString(1, plan.model().id());
			statement.setString(2, plan.model().id());
			statement.setBoolean(3, plan.allStores());
			statement.setString(4, plan.store());
		};
	}

	/**
	 * The products of a run, streamed: a cursor on a connection of its own with autocommit off, without
	 * which PgJDBC ignores the fetch size and holds every row in memory. A cursor rather than keyset pages:
	 * one plan and one pass over the join, and nothing to gain from a position on restart, which reads every
	 * product again anyway (what is stale is what is left); the price is one read-only transaction, and
	 * its snapshot, for the length of the step.
	 */
	static JdbcCursorItemReader<ProductRow> reader(DataSource dataSource, EmbedPlan plan, int fetchSize) {
		return new JdbcCursorItemReaderBuilder<ProductRow>().name("products")
			.dataSource(dataSource)
			.sql(SQL)
			.preparedStatementSetter(parameters(plan))
			.rowMapper(ROW)
			.fetchSize(fetchSize)
			.connectionAutoCommit(false)
			// what is left to do is what is still stale, not a position in the cursor
			.saveState(false)
			.build();
	}

	private static ProductRow row(ResultSet rs, int rowNumber) throws SQLException {
		return new ProductRow(rs.getObject("product_id", UUID.class), rs.getString("store_id"),
				rs.getString("product_name"), rs.getString("brand"), rs.getString("category_name"),
				rs.getString("product_description"), rs.getString("tags"), rs.getString("sku"), rs.getString("model"),
				rs.getString("color"), rs.getString("size"), rs.getString("embedded_text"), rs.getString("refused_text"));
	}

}
