package dev.pgbatch.embed;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.pgvector.PGvector;
import dev.pgbatch.core.OwnConnections;
import dev.pgbatch.core.UsageException;

import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Semantic search in one store's products: the query is embedded with the model the products were embedded
 * with, and the search runs on a session of its own, logged in as the search role (ETL_SEARCH_USER, a member of
 * mcp_user and of nothing else), under row-level security after set_store_context, exactly as the application
 * would: another store's products cannot appear whatever the query, and nothing on that session leads back to
 * the runner's rights.
 */
@Component
public class ProductSearch {

	static final String NOT_EMBEDDED = "no product of store %s is embedded with %s: run embed-products model=%s first";

	static final String NOT_A_SEARCH_ROLE = "ETL_SEARCH_USER %s is not a search role: %s";

	/** One product found, most similar first. */
	public record Hit(UUID productId, String name, String brand, BigDecimal price, double similarity) {
	}

	private final JdbcTemplate jdbc;

	private final DataSourceProperties database;

	private final SearchProperties login;

	private final EmbeddingModels models;

	ProductSearch(JdbcTemplate jdbc, DataSourceProperties database, SearchProperties login, EmbeddingModels models) {
		this.jdbc = jdbc;
		this.database = database;
		this.login = login;
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
		try {
			return searchAsTheSearchRole(store, model, query, limit);
		}
		catch (SQLException ex) {
			throw new UncategorizedSQLException("search", null, ex);
		}
	}

	private List<Hit> searchAsTheSearchRole(String store, ProductEmbeddingModel model, PGvector query, int limit)
			throws SQLException {
		try (Connection connection = OwnConnections.open(this.database, this.login.user(), this.login.password(),
				Map.of("ApplicationName", "pgbatch search"))) {
			refuseAPrivilegedRole(connection);
			connection.setAutoCommit(false);
			List<Hit> hits = new ArrayList<>();
			try (PreparedStatement context = connection.prepareStatement("SELECT retail.set_store_context(?)::text");
					PreparedStatement search = connection
						.prepareStatement("SELECT * FROM retail.search_products_by_similarity(?, ?, ?)")) {
				context.setString(1, store);
				context.execute();
				search.setObject(1, query);
				search.setString(2, model.id());
				search.setInt(3, limit);
				try (ResultSet rows = search.executeQuery()) {
					while (rows.next()) {
						hits.add(new Hit(rows.getObject("product_id", UUID.class), rows.getString("product_name"),
								rows.getString("brand"), rows.getBigDecimal("price"), rows.getDouble("similarity")));
					}
				}
			}
			// keeps set_store_context's audit row
			connection.commit();
			return hits;
		}
	}

	/**
	 * A role with more than mcp_user's rights is a configuration mistake, refused before the search: one that
	 * row-level security does not filter (a superuser, BYPASSRLS), one that may make roles or databases, one that
	 * may act as the tables' owner or as any other role than mcp_user (mcp_user's own memberships included: a
	 * right granted to mcp_user reaches every search). The login's own role, not one it switches to at login
	 * (ALTER ROLE ... SET role). MEMBER, not USAGE: a member that
	 * does not inherit a role's rights may still SET ROLE to it (a NOINHERIT role between them). mcp_user's
	 * rights themselves must be inherited (USAGE), since the search does not switch roles.
	 */
	private void refuseAPrivilegedRole(Connection connection) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement("""
				SELECT CASE WHEN current_user <> session_user THEN 'it switches to the role ' || current_user
				            WHEN r.rolsuper THEN 'a superuser'
				            WHEN r.rolbypassrls THEN 'it bypasses row-level security'
				            WHEN pg_has_role(r.oid, c.relowner, 'MEMBER') THEN 'it owns the retail tables or may act as their owner'
				            WHEN r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
				                THEN 'it may create roles or databases or replicate'
				            WHEN NOT pg_has_role(r.oid, 'mcp_user', 'USAGE') THEN 'it does not inherit mcp_user''s rights'
				            ELSE (SELECT 'it may also act as ' || string_agg(o.rolname, ', ' ORDER BY o.rolname)
				                  FROM pg_roles o
				                  WHERE o.rolname NOT IN (r.rolname, 'mcp_user') AND pg_has_role(r.oid, o.oid, 'MEMBER'))
				       END
				FROM pg_roles r, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE r.rolname = session_user AND n.nspname = 'retail' AND c.relname = 'products'
				"""); ResultSet result = statement.executeQuery()) {
			String problem = result.next() ? result.getString(1) : null;
			if (problem != null) {
				throw new UsageException(String.format(NOT_A_SEARCH_ROLE, this.login.user(), problem));
			}
		}
	}

}
