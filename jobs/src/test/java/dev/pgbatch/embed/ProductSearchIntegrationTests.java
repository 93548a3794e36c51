package dev.pgbatch.embed;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import com.pgvector.PGvector;
import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.StackSuperuser;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.cli.EtlInProcess;
import dev.pgbatch.cli.EtlProcess;
import dev.pgbatch.core.UsageException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Semantic search over seed-data at scale 4 (500 products a store) embedded with the in-process model. Below
 * a few hundred products a store PostgreSQL rightly prefers reading the store's vectors exactly to the HNSW
 * index; from this size on the index serves the search.
 */
class ProductSearchIntegrationTests extends DatabaseIntegrationTest {

	private static final ProductEmbeddingModel MODEL = ProductEmbeddingModel.ALL_MINILM_L6_V2;

	private static final List<String> STORES = List.of("seattle", "redmond", "bellevue", "online");

	/** Queries that name a category in other words than its name, with the category they name. */
	private static final Map<String, String> CATEGORY_QUERIES = Map.of("electronic gadgets and devices", "Electronics",
			"clothes and fashion to wear", "Clothing", "furniture and supplies for the house and garden", "Home & Garden",
			"equipment for sports and the outdoors", "Sports & Outdoors", "books, films and music", "Books & Media",
			"health care and beauty products", "Health & Beauty", "car parts and accessories for vehicles", "Automotive");

	/** Embedding takes a while: once for the class's database (its seed is the suite run's), as no test here writes. */
	private static boolean prepared;

	@Autowired
	ProductSearch search;

	@Autowired
	EmbeddingModels models;

	@Autowired
	DataSourceProperties database;

	@BeforeEach
	void embedTheCatalogue() throws SQLException {
		if (!prepared) {
			EmbedRuns.seededAtScale4(this.runner, this.dataSource);
			EmbedRuns.embed(this.runner, "model=" + MODEL.id());
			prepared = true;
		}
	}

	@Test
	void aSearchInOneStoreNeverReturnsAnotherStoresProduct() {
		for (String store : STORES) {
			for (String query : CATEGORY_QUERIES.keySet()) {
				List<ProductSearch.Hit> hits = this.search.search(query, store, MODEL.id(), 50);
				assertThat(hits).isNotEmpty();
				List<String> stores = this.jdbc.queryForList(
						"SELECT DISTINCT store_id FROM retail.products WHERE product_id = ANY (?)", String.class,
						(Object) hits.stream().map(ProductSearch.Hit::productId).toArray(UUID[]::new));
				assertThat(stores).as("stores of the hits of '%s' in %s", query, store).containsExactly(store);
			}
		}
	}

	/**
	 * The model's index serves the search: its scan count grows. (auto_explain would show the plan, but LOAD of a
	 * library outside $libdir/plugins is for superusers, which the runner's role is not.)
	 */
	@Test
	void theSearchRunsOnTheModelsHnswIndex() throws Exception {
		long before = indexScans();

		assertThat(this.search.search("a tent for camping", "online", MODEL.id(), 10)).hasSize(10);

		// the search's session has ended, and with it flushed its statistics; they show within a moment
		await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
			.untilAsserted(() -> assertThat(indexScans()).as("scans of " + MODEL.indexName()).isGreaterThan(before));
	}

	private long indexScans() {
		return this.jdbc.queryForObject("SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE indexrelname = ?",
				Long.class, MODEL.indexName());
	}

	@Test
	void theSearchFindsAtLeast95PercentOfTheExactTopTenOver56Queries() {
		List<String> queries = new ArrayList<>(CATEGORY_QUERIES.keySet());
		queries.addAll(this.jdbc.queryForList("SELECT product_name FROM retail.products ORDER BY sku LIMIT 49", String.class));
		double found = 0;
		int asked = 0;
		for (String query : queries) {
			PGvector vector = new PGvector(this.models.embed(MODEL, List.of(query)).get(0));
			for (String store : STORES) {
				Set<UUID> exact = new HashSet<>(exactTopTen(vector, store));
				List<ProductSearch.Hit> searched = this.search.search(query, store, MODEL.id(), 10);
				found += searched.stream().map(ProductSearch.Hit::productId).filter(exact::contains).count()
						/ (double) exact.size();
				asked++;
			}
		}
		assertThat(asked).isGreaterThanOrEqualTo(50);
		assertThat(found / asked).as("recall@10").isGreaterThanOrEqualTo(0.95);
	}

	@Test
	void aQueryNamingACategoryFindsMostlyThatCategory() {
		for (Map.Entry<String, String> query : CATEGORY_QUERIES.entrySet()) {
			List<ProductSearch.Hit> hits = this.search.search(query.getKey(), "online", MODEL.id(), 10);
			long inCategory = this.jdbc.queryForObject("""
					SELECT count(*) FROM retail.products p JOIN retail.product_categories c USING (category_id)
					WHERE p.product_id = ANY (?) AND c.category_name = ?
					""", Long.class, hits.stream().map(ProductSearch.Hit::productId).toArray(UUID[]::new), query.getValue());
			assertThat(inCategory).as("hits of '%s' in %s", query.getKey(), query.getValue())
				.isGreaterThan(hits.size() / 2);
		}
	}

	@Test
	void anUnknownStoreOrAModelWithoutVectorsIsAUsageError() {
		assertThatThrownBy(() -> this.search.search("tent", "atlantis", MODEL.id(), 10))
			.isInstanceOf(UsageException.class)
			.hasMessageContaining("unknown store 'atlantis'");
		assertThatThrownBy(() -> this.search.search("tent", "online", ProductEmbeddingModel.TEXT_EMBEDDING_3_SMALL.id(), 10))
			.isInstanceOf(UsageException.class)
			.hasMessageContaining("OPENAI_API_KEY");
	}

	@Test
	void theSearchRunsAsTheSearchRoleAndRefusesARoleThatRowLevelSecurityDoesNotFilter() throws Exception {
		String searchRole = System.getenv().getOrDefault("ETL_SEARCH_USER", "pgbatch_search");
		String audited = "SELECT count(*) FROM retail.audit_log WHERE action = 'store_context_set' AND user_name = ? AND store_id = 'online'";
		long before = this.jdbc.queryForObject(audited, Long.class, searchRole);

		assertThat(this.search.search("a tent for camping", "online", MODEL.id(), 3)).hasSize(3);

		assertThat(this.jdbc.queryForObject(audited, Long.class, searchRole)).isEqualTo(before + 1);
		// the runner's own role owns the tables: row-level security would not apply to it
		// the command line in this JVM: a bin/etl process's exit 2 and one line is tested in BadInputIntegrationTests
		EtlProcess.Result asTheRunner = EtlInProcess.run(Map.of("ETL_SEARCH_USER", TestDatabase.user(),
				"ETL_SEARCH_PASSWORD", TestDatabase.password(), "ETL_SEARCH_PASSWORD_FILE", ""), "search", "tent", "--store",
				"online", "--model", MODEL.id());
		assertThat(asTheRunner.exitCode()).isEqualTo(2);
		assertThat(asTheRunner.stderr().lines()).singleElement().isEqualTo("etl: ETL_SEARCH_USER " + TestDatabase.user()
				+ " is not a search role: it owns the retail tables or may act as their owner");
	}

	/**
	 * Logins with mcp_user's rights and more, which pg_has_role(..., 'USAGE') let through: one that may SET ROLE to
	 * the tables' owner through a role that does not inherit (a member, though without the owner's rights), and
	 * one that reads every table (pg_read_all_data: the materialized views of every store, the audit log). Roles
	 * belong to the whole server: the owner they may act as is one of this test's own, given retail.products of this
	 * class's database only, so that no seed in another class's database meets them as writers with its owner's rights.
	 */
	@Test
	void aLoginThatMayActAsAnotherRoleIsRefused() throws Exception {
		String password = UUID.randomUUID().toString();
		String owner = this.jdbc.queryForObject("SELECT quote_ident(relowner::regrole::text) FROM pg_class"
				+ " WHERE oid = 'retail.products'::regclass", String.class);
		StackSuperuser.execute(TestDatabase.name(), """
				DROP ROLE IF EXISTS search_test_bridged, search_test_reader, search_test_bridge, search_test_switcher,
				    search_test_plain, search_test_owner;
				CREATE ROLE search_test_owner NOLOGIN;
				ALTER TABLE retail.products OWNER TO search_test_owner;
				CREATE ROLE search_test_bridge NOLOGIN NOINHERIT;
				GRANT search_test_owner TO search_test_bridge;
				CREATE ROLE search_test_bridged LOGIN PASSWORD '%1$s' IN ROLE mcp_user, search_test_bridge;
				CREATE ROLE search_test_reader LOGIN PASSWORD '%1$s' IN ROLE mcp_user, pg_read_all_data;
				CREATE ROLE search_test_switcher LOGIN PASSWORD '%1$s' IN ROLE mcp_user, search_test_bridge;
				ALTER ROLE search_test_switcher SET role = mcp_user;
				CREATE ROLE search_test_plain LOGIN PASSWORD '%1$s' IN ROLE mcp_user;
				GRANT pg_signal_backend TO mcp_user;
				""".formatted(password));
		try {
			// search_test_plain has mcp_user's rights only, but mcp_user was given one more role: every search has it
			Map<String, String> refusals = Map.of("search_test_bridged", "it owns the retail tables or may act as their owner",
					"search_test_reader", "it may also act as pg_read_all_data, pg_signal_backend",
					"search_test_switcher", "it switches to the role mcp_user",
					"search_test_plain", "it may also act as pg_signal_backend");
			for (Map.Entry<String, String> login : refusals.entrySet()) {
				ProductSearch search = new ProductSearch(this.jdbc, this.database, new SearchProperties(login.getKey(), password),
						this.models);
				assertThatThrownBy(() -> search.search("a tent for camping", "online", MODEL.id(), 3))
					.isInstanceOf(UsageException.class)
					.hasMessage("ETL_SEARCH_USER " + login.getKey() + " is not a search role: " + login.getValue());
			}
		}
		finally {
			// one statement at a time: one failing leaves the others done (mcp_user's grant is the whole server's)
			StackSuperuser.execute(TestDatabase.name(), "REVOKE pg_signal_backend FROM mcp_user");
			StackSuperuser.execute(TestDatabase.name(), "ALTER TABLE retail.products OWNER TO " + owner);
			StackSuperuser.execute(TestDatabase.name(), "DROP ROLE IF EXISTS search_test_bridged, search_test_reader,"
					+ " search_test_bridge, search_test_switcher, search_test_plain, search_test_owner");
		}
	}

	/** The ten active products of a store nearest to the vector, computed over all of them, not through the index. */
	private List<UUID> exactTopTen(PGvector vector, String store) {
		return this.jdbc.queryForList("""
				SELECT e.product_id FROM retail.product_embeddings e JOIN retail.products p USING (product_id)
				WHERE e.embedding_model = ? AND e.store_id = ? AND p.is_active
				ORDER BY e.embedding <=> ? LIMIT 10
				""", UUID.class, MODEL.id(), store, vector);
	}

}
