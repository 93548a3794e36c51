package dev.pgbatch;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import dev.pgbatch.cli.EtlProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** mcp_user, after set_store_context, sees only its store's rows, in every table that has row-level security. */
class RowLevelSecurityIntegrationTests {

	private static final List<String> STORES = List.of("seattle", "redmond", "bellevue", "online");

	/** Each RLS table with the query that finds the store of its rows. */
	private static final List<String> STORE_OF_ROWS = List.of("SELECT store_id FROM retail.customers",
			"SELECT store_id FROM retail.products", "SELECT store_id FROM retail.sales_transactions",
			"SELECT t.store_id FROM retail.sales_transaction_items i JOIN retail.sales_transactions t USING (transaction_id)");

	@BeforeAll
	static void seed() throws Exception {
		assertThat(EtlProcess.run("run", "seed-data", "scale=0.05", "reset=true").exitCode()).isZero();
	}

	@Test
	void mcpUserInOneStoreSeesNoRowOfAnother() throws Exception {
		for (String store : STORES) {
			asMcpUser(store, statement -> {
				for (String query : STORE_OF_ROWS) {
					assertThat(stores(statement, query)).as(query + " in " + store).isNotEmpty().containsOnly(store);
				}
			});
		}
	}

	@Test
	void withoutAStoreContextMcpUserSeesNothing() throws Exception {
		asMcpUser(null, statement -> {
			for (String query : STORE_OF_ROWS) {
				assertThat(stores(statement, query)).as(query).isEmpty();
			}
			assertThat(stores(statement, "SELECT store_id FROM retail.product_embeddings")).isEmpty();
		});
	}

	@Test
	void mcpUserCannotWriteIntoAnotherStore() throws Exception {
		asMcpUser("seattle", statement -> assertThatThrownBy(() -> statement.execute(
				"UPDATE retail.customers SET store_id = 'online' WHERE customer_id = (SELECT customer_id FROM retail.customers LIMIT 1)"))
			.isInstanceOf(SQLException.class)
			.hasMessageContaining("row-level security"));
	}

	@Test
	void theStoreContextEndsWithTheTransaction() throws Exception {
		try (Connection connection = TestDatabase.connect()) {
			connection.setAutoCommit(false);
			try (Statement statement = connection.createStatement()) {
				statement.execute("SELECT retail.set_store_context('seattle')");
				connection.commit();
				statement.execute("SET LOCAL ROLE mcp_user");
				assertThat(stores(statement, "SELECT store_id FROM retail.customers")).isEmpty();
			}
			connection.rollback();
		}
	}

	/** What the work does as mcp_user, in a store's context (or none), in a transaction rolled back after. */
	private static void asMcpUser(String store, SqlWork work) throws SQLException {
		try (Connection connection = TestDatabase.connect()) {
			connection.setAutoCommit(false);
			try (Statement statement = connection.createStatement()) {
				statement.execute("SET LOCAL ROLE mcp_user");
				if (store != null) {
					statement.execute("SELECT retail.set_store_context('" + store + "')");
				}
				work.run(statement);
			}
			finally {
				connection.rollback();
			}
		}
	}

	@FunctionalInterface
	private interface SqlWork {

		void run(Statement statement) throws SQLException;

	}

	private static List<String> stores(Statement statement, String query) throws SQLException {
		List<String> stores = new java.util.ArrayList<>();
		try (ResultSet result = statement.executeQuery(query)) {
			while (result.next()) {
				stores.add(result.getString(1));
			}
		}
		return stores;
	}

}
