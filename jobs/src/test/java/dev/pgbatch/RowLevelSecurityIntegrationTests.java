package dev.pgbatch;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.pgbatch.cli.EtlProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The search role (ETL_SEARCH_USER: a login role with mcp_user's rights), after set_store_context, sees only its
 * store's rows in every table that has row-level security, and nothing it can run, set, read or call shows it a
 * row of another store: the SQL here is what a hostile user of that role would try.
 */
class RowLevelSecurityIntegrationTests {

	private static final List<String> STORES = List.of("seattle", "redmond", "bellevue", "online");

	/** Each table with the query that finds the store of its rows. */
	private static final List<String> STORE_OF_ROWS = List.of("SELECT store_id FROM retail.customers",
			"SELECT store_id FROM retail.products", "SELECT store_id FROM retail.sales_transactions",
			"SELECT t.store_id FROM retail.sales_transaction_items i JOIN retail.sales_transactions t USING (transaction_id)",
			"SELECT store_id FROM retail.stores");

	/** All the search role may read: row-level security on all but product_categories, which has no store. */
	private static final Set<String> READABLE = Set.of("retail.customers", "retail.products",
			"retail.sales_transactions", "retail.sales_transaction_items", "retail.product_embeddings", "retail.stores",
			"retail.product_categories");

	private static final String SEARCH_USER = System.getenv().getOrDefault("ETL_SEARCH_USER", "pgbatch_search");

	@BeforeAll
	static void seed() throws Exception {
		assertThat(EtlProcess.run("run", "seed-data", "scale=0.05", "reset=true").exitCode()).isZero();
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			// an embedding per store, for the reads of product_embeddings
			statement.execute("""
					INSERT INTO retail.product_embeddings (product_id, store_id, embedding_model, dimensions, embedding_text, embedding)
					SELECT DISTINCT ON (store_id) product_id, store_id, 'rls-test', 3, 'x', '[1,2,3]'
					FROM retail.products ORDER BY store_id, product_id
					ON CONFLICT DO NOTHING
					""");
		}
	}

	@Test
	void inOneStoreTheSearchRoleSeesNoRowOfAnother() throws Exception {
		for (String store : STORES) {
			asSearchRole(store, statement -> {
				for (String query : STORE_OF_ROWS) {
					assertThat(stores(statement, query)).as(query + " in " + store).isNotEmpty().containsOnly(store);
				}
				assertThat(stores(statement, "SELECT store_id FROM retail.product_embeddings")).containsOnly(store);
			});
		}
	}

	@Test
	void withoutAStoreContextItSeesNothing() throws Exception {
		asSearchRole(null, statement -> {
			for (String query : STORE_OF_ROWS) {
				assertThat(stores(statement, query)).as(query).isEmpty();
			}
			assertThat(stores(statement, "SELECT store_id FROM retail.product_embeddings")).isEmpty();
		});
	}

	@Test
	void theSettingThePoliciesReadBeforeOpensNothing() throws Exception {
		asSearchRole(null, statement -> {
			statement.execute("SELECT set_config('app.current_store_id', 'bellevue', true)");
			statement.execute("SET app.current_store_id = 'bellevue'");
			for (String query : STORE_OF_ROWS) {
				assertThat(stores(statement, query)).as(query).isEmpty();
			}
		});
		asSearchRole("seattle", statement -> {
			statement.execute("SELECT set_config('app.current_store_id', 'bellevue', false)");
			for (String query : STORE_OF_ROWS) {
				assertThat(stores(statement, query)).as(query).containsOnly("seattle");
			}
		});
	}

	@Test
	void itCannotWriteIntoAnotherStoreNorIntoTheContext() throws Exception {
		asSearchRole("seattle", statement -> assertThatThrownBy(() -> statement.execute(
				"UPDATE retail.customers SET store_id = 'online' WHERE customer_id = (SELECT customer_id FROM retail.customers LIMIT 1)"))
			.isInstanceOf(SQLException.class)
			.hasMessageContaining("row-level security"));
		asSearchRole(null, statement -> {
			refused(statement, "INSERT INTO retail.store_context (xact, backend_pid, store_id) "
					+ "VALUES (pg_current_xact_id(), pg_backend_pid(), 'bellevue')");
			refused(statement, "SELECT * FROM retail.store_context");
			// a temporary table of the same name is not what the functions read (their search_path ends in pg_temp)
			statement.execute("CREATE TEMPORARY TABLE store_context (xact xid8, backend_pid int, store_id text, set_at timestamptz)");
			statement.execute("INSERT INTO store_context VALUES (pg_current_xact_id(), pg_backend_pid(), 'bellevue', now())");
			assertThat(stores(statement, "SELECT store_id FROM retail.customers")).isEmpty();
		});
	}

	/** Foreign keys are checked without row-level security: the policies check what a sale and an item refer to. */
	@Test
	void itCannotReferToAnotherStoresCustomerOrProduct() throws Exception {
		String customer = rowOf("SELECT customer_id::text FROM retail.customers WHERE store_id = 'bellevue' LIMIT 1");
		String product = rowOf("SELECT product_id::text FROM retail.products WHERE store_id = 'bellevue' LIMIT 1");
		String own = rowOf("SELECT product_id::text FROM retail.products WHERE store_id = 'seattle' LIMIT 1");
		String sale = "INSERT INTO retail.sales_transactions (transaction_id, store_id, customer_id, subtotal, total_amount) "
				+ "VALUES ('00000000-0000-4000-8000-00000000000%s', 'seattle', %s, 1, 1)";
		String item = "INSERT INTO retail.sales_transaction_items (transaction_id, product_id, unit_price, total_price) "
				+ "VALUES ('00000000-0000-4000-8000-000000000002', '%s', 1, 1)";
		asSearchRole("seattle", statement -> {
			refused(statement, sale.formatted(1, "'" + customer + "'"));
			statement.execute(sale.formatted(2, "NULL"));
			refused(statement, item.formatted(product));
			statement.execute(item.formatted(own));
		});
	}

	@Test
	void resetRoleAndSetRoleLeadNowhereElse() throws Exception {
		try (Connection connection = searchRole(); Statement statement = connection.createStatement()) {
			statement.execute("RESET ROLE");
			assertThat(stores(statement, "SELECT current_user::text")).containsExactly(SEARCH_USER);
			// what the role is: a login with no attribute, a member of mcp_user and of nothing else
			assertThat(stores(statement, """
					SELECT concat_ws(' ', rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls)
					FROM pg_roles WHERE rolname = current_user""")).containsExactly("f f f f f");
			assertThat(stores(statement, """
					SELECT r.rolname::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
					WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)""")).containsExactly("mcp_user");
			List<String> others = stores(statement,
					"SELECT rolname::text FROM pg_roles WHERE rolname NOT IN (current_user, 'mcp_user') ORDER BY 1");
			assertThat(others).contains("postgres", TestDatabase.user());
			for (String role : others) {
				refused(statement, "SET ROLE \"" + role + "\"");
				refused(statement, "SET SESSION AUTHORIZATION \"" + role + "\"");
			}
			refused(statement, "CREATE ROLE rls_test_escalation LOGIN");
			refused(statement, "ALTER ROLE CURRENT_USER SUPERUSER");
			refused(statement, "ALTER ROLE CURRENT_USER BYPASSRLS");
			refused(statement, "GRANT pg_execute_server_program TO CURRENT_USER");
			refused(statement, "COPY (SELECT 1) TO PROGRAM 'true'");
			refused(statement, "SELECT pg_read_file('PG_VERSION')");
			refused(statement, "CREATE FUNCTION retail.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'");
			refused(statement, "CREATE TABLE public.mine (x int)");
			refused(statement, "ALTER TABLE retail.customers DISABLE ROW LEVEL SECURITY");
			refused(statement, "DROP POLICY customers_store_isolation ON retail.customers");
			statement.execute("SET row_security = off");
			refused(statement, "SELECT * FROM retail.customers");
			statement.execute("RESET row_security");
			statement.execute("SET ROLE mcp_user");
			statement.execute("BEGIN");
			statement.execute("SELECT retail.set_store_context('seattle')");
			statement.execute("RESET ROLE");
			assertThat(stores(statement, "SELECT store_id FROM retail.customers")).isNotEmpty().containsOnly("seattle");
			statement.execute("ROLLBACK");
		}
	}

	@Test
	void everyRelationItMayReadShowsNoOtherStoreAndTheMaterializedViewsAreClosed() throws Exception {
		asSearchRole("redmond", statement -> {
			Set<String> readable = new TreeSet<>(stores(statement, """
					SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
					WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
					  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
					  AND has_table_privilege(c.oid, 'SELECT')
					"""));
			assertThat(readable).isEqualTo(new TreeSet<>(READABLE));
			for (String relation : readable) {
				if (!relation.equals("retail.product_categories") && !relation.equals("retail.sales_transaction_items")) {
					assertThat(stores(statement, "SELECT store_id FROM " + relation)).as(relation).containsOnly("redmond");
				}
			}
			for (String view : List.of("retail.daily_store_sales", "retail.product_sales_30d", "ops.agent_task_summary",
					"retail.audit_log", "retail.sales_transactions_archive", "ops.task_executions")) {
				refused(statement, "SELECT * FROM " + view);
			}
		});
	}

	@Test
	void noFunctionItMayCallShowsAnotherStoreOrChangesItsStore() throws Exception {
		asSearchRole("bellevue", statement -> {
			List<String> calls = stores(statement, """
					SELECT format('SELECT (f)::text FROM %s(%s) AS f', p.oid::regproc,
					              coalesce(string_agg(format('NULL::%s', format_type(t.oid, NULL)), ', ' ORDER BY a.n), ''))
					FROM pg_proc p
					JOIN pg_namespace n ON n.oid = p.pronamespace
					LEFT JOIN LATERAL unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(type, n) ON true
					LEFT JOIN pg_type t ON t.oid = a.type
					WHERE n.nspname IN ('retail', 'public', 'ops', 'etl')
					  AND p.prokind = 'f'
					  AND has_function_privilege(p.oid, 'EXECUTE')
					  AND p.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype)
					GROUP BY p.oid
					HAVING bool_and(t.typtype IS DISTINCT FROM 'p')
					""");
			assertThat(calls).as("functions the role may call").hasSizeGreaterThan(20)
				.anyMatch(call -> call.contains("retail.search_products_by_similarity("))
				.anyMatch(call -> call.contains("retail.set_store_context("))
				.noneMatch(call -> call.contains(" ops.") || call.contains(" etl."));
			statement.execute("SET statement_timeout = '5s'");
			for (String call : calls) {
				statement.execute("SAVEPOINT call");
				try {
					for (String value : stores(statement, call)) {
						assertThat(STORES.stream().filter(store -> !store.equals("bellevue")))
							.as(call)
							.noneMatch(store -> value != null && value.contains(store));
					}
					statement.execute("RELEASE SAVEPOINT call");
				}
				catch (SQLException refusedOrFailed) {
					statement.execute("ROLLBACK TO SAVEPOINT call");
				}
				for (String query : STORE_OF_ROWS) {
					assertThat(stores(statement, query)).as(query + " after " + call).containsOnly("bellevue");
				}
			}
		});
	}

	@Test
	void theContextEndsWithItsTransactionOrSavepointAndIsAuditedEachTime() throws Exception {
		long audited = auditRows();
		try (Connection connection = searchRole(); Statement statement = connection.createStatement()) {
			connection.setAutoCommit(false);
			statement.execute("SELECT retail.set_store_context('seattle')");
			connection.commit();
			assertThat(stores(statement, "SELECT store_id FROM retail.customers")).isEmpty();
			statement.execute("SAVEPOINT before");
			statement.execute("SELECT retail.set_store_context('online')");
			assertThat(stores(statement, "SELECT store_id FROM retail.customers")).containsOnly("online");
			statement.execute("ROLLBACK TO SAVEPOINT before");
			assertThat(stores(statement, "SELECT store_id FROM retail.customers")).isEmpty();
			statement.execute("SELECT retail.set_store_context('redmond')");
			// another session, at the same time, has no context of its own
			try (Connection other = searchRole(); Statement otherStatement = other.createStatement()) {
				other.setAutoCommit(false);
				assertThat(stores(otherStatement, "SELECT store_id FROM retail.customers")).isEmpty();
				otherStatement.execute("SELECT retail.set_store_context('bellevue')");
				assertThat(stores(otherStatement, "SELECT store_id FROM retail.customers")).containsOnly("bellevue");
				assertThat(stores(statement, "SELECT store_id FROM retail.customers")).containsOnly("redmond");
				other.commit();
			}
			connection.commit();
		}
		// seattle and bellevue committed; online was rolled back with its savepoint, redmond committed
		assertThat(auditRows() - audited).isEqualTo(3);
	}

	/**
	 * The audit row of set_store_context goes with a rollback; the server log's line stays, one line whatever the
	 * store's id holds (a newline in it cannot start a forged line).
	 */
	@Test
	void everyStoreContextLeavesALineInTheServerLogThatARollbackKeeps() throws Exception {
		Path log = serverLog();
		long from = Files.size(log);
		String session;
		try (Connection connection = searchRole(); Statement statement = connection.createStatement()) {
			connection.setAutoCommit(false);
			statement.execute("SELECT retail.set_store_context('bellevue')");
			assertThat(stores(statement, "SELECT store_id FROM retail.customers")).isNotEmpty().containsOnly("bellevue");
			session = "pid=" + stores(statement, "SELECT pg_backend_pid()::text").get(0) + " xact="
					+ stores(statement, "SELECT pg_current_xact_id()::text").get(0) + " ";
			connection.rollback();
		}
		assertThat(logLines(log, from)).as("the server log since " + from)
			.anyMatch(line -> line.contains("pgbatch audit: store_context_set store=\"bellevue\" session_user=\""
					+ SEARCH_USER + "\" role=\"none\" " + session));

		String forger = "x\"\npgbatch audit: forged";
		try (Connection runner = TestDatabase.connect();
				PreparedStatement store = runner.prepareStatement(
						"INSERT INTO retail.stores (store_id, store_name) VALUES (?, 'forger')")) {
			store.setString(1, forger);
			store.execute();
			from = Files.size(log);
			try (Connection connection = searchRole();
					PreparedStatement context = connection.prepareStatement("SELECT retail.set_store_context(?)::text")) {
				context.setString(1, forger);
				context.execute();
			}
			finally {
				runner.createStatement().execute("DELETE FROM retail.stores WHERE store_name = 'forger'");
			}
		}
		assertThat(logLines(log, from)).anyMatch(line -> line.contains("store=\"x\\\"\\npgbatch audit: forged\""))
			.noneMatch(line -> line.startsWith("pgbatch audit:"));
	}

	/** pgbatch.skip_audit, which anyone may set, spares the audit of the tables' owner only (bulk seeding). */
	@Test
	void onlyTheOwnerMaySkipTheAudit() throws Exception {
		String customer = rowOf("SELECT customer_id::text FROM retail.customers WHERE store_id = 'seattle' LIMIT 1");
		long audited = auditRowsOf("retail.customers", customer);
		try (Connection connection = searchRole(); Statement statement = connection.createStatement()) {
			statement.execute("SET pgbatch.skip_audit = on");
			connection.setAutoCommit(false);
			statement.execute("SELECT retail.set_store_context('seattle')");
			statement.execute("SET LOCAL pgbatch.skip_audit = on");
			statement.execute("UPDATE retail.customers SET first_name = first_name WHERE customer_id = '" + customer + "'");
			connection.commit();
		}
		assertThat(auditRowsOf("retail.customers", customer) - audited).as("audit rows of the search role's update").isEqualTo(1);
		try (Connection runner = TestDatabase.connect(); Statement statement = runner.createStatement()) {
			runner.setAutoCommit(false);
			statement.execute("SET LOCAL pgbatch.skip_audit = on");
			statement.execute("UPDATE retail.customers SET first_name = first_name WHERE customer_id = '" + customer + "'");
			runner.commit();
		}
		assertThat(auditRowsOf("retail.customers", customer) - audited).as("audit rows after the owner's skipped update too").isEqualTo(1);
	}

	/**
	 * The skip follows the owner a table has when a row is written: after ALTER TABLE ... OWNER TO, a member of the
	 * old owner (here the runner, left with the rights to write) is audited.
	 */
	@Test
	void theSkipFollowsTheOwnerATableHasNow() throws Exception {
		String agent = rowOf("SELECT agent_id::text FROM ops.agents LIMIT 1");
		long audited = auditRowsOf("ops.agents", agent);
		String runner = "\"" + TestDatabase.user() + "\"";
		StackSuperuser.execute(TestDatabase.name(), """
				CREATE ROLE pgbatch_rls_owner NOLOGIN;
				ALTER TABLE ops.agents OWNER TO pgbatch_rls_owner;
				GRANT SELECT, UPDATE ON ops.agents TO %s;""".formatted(runner));
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			connection.setAutoCommit(false);
			statement.execute("SET LOCAL pgbatch.skip_audit = on");
			statement.execute("UPDATE ops.agents SET agent_id = agent_id WHERE agent_id = '" + agent + "'");
			connection.commit();
		}
		finally {
			StackSuperuser.execute(TestDatabase.name(), """
					REVOKE SELECT, UPDATE ON ops.agents FROM %1$s;
					ALTER TABLE ops.agents OWNER TO %1$s;
					DROP ROLE pgbatch_rls_owner;""".formatted(runner));
		}
		assertThat(auditRowsOf("ops.agents", agent) - audited).as("audit rows of the old owner's skipped update").isEqualTo(1);
	}

	/** Each table the search role may write, with the key column of its rows: every one of them is audited. */
	private static final Map<String, String> WRITABLE = Map.of("retail.customers", "customer_id", "retail.products",
			"product_id", "retail.sales_transactions", "transaction_id", "retail.sales_transaction_items", "item_id",
			"retail.product_embeddings", "embedding_id");

	@Test
	void everyTableItMayWriteAuditsItsWrites() throws Exception {
		Map<String, String> written = new TreeMap<>();
		Map<String, Long> audited = new TreeMap<>();
		try (Connection connection = searchRole(); Statement statement = connection.createStatement()) {
			assertThat(stores(statement, """
					SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
					WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
					  AND c.relkind IN ('r', 'p', 'v', 'f') AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
					""")).as("tables the search role may write").containsExactlyInAnyOrderElementsOf(WRITABLE.keySet());
			connection.setAutoCommit(false);
			statement.execute("SELECT retail.set_store_context('seattle')");
			for (Map.Entry<String, String> table : WRITABLE.entrySet()) {
				String key = table.getValue();
				String id = stores(statement, "SELECT " + key + "::text FROM " + table.getKey() + " LIMIT 1").get(0);
				audited.put(table.getKey(), auditRowsOf(table.getKey(), id));
				written.put(table.getKey(), id);
				statement.execute("UPDATE " + table.getKey() + " SET " + key + " = " + key + " WHERE " + key + " = '" + id + "'");
			}
			connection.commit();
		}
		for (Map.Entry<String, String> table : written.entrySet()) {
			assertThat(auditRowsOf(table.getKey(), table.getValue()))
				.as("audit rows of " + table.getKey()).isEqualTo(audited.get(table.getKey()) + 1);
		}
		// an embedding's vector is not copied into the audit log
		assertThat(rowOf("""
				SELECT count(*)::text FROM retail.audit_log
				WHERE table_name = 'product_embeddings' AND (old_values ->> 'embedding' IS NOT NULL OR new_values ->> 'embedding' IS NOT NULL)
				""")).isEqualTo("0");
	}

	/**
	 * Emails and receipt numbers are unique within their store: the search role's inserts tell it nothing of another
	 * store's (a unique violation did), and its own store's are still unique.
	 */
	@Test
	void itsInsertsTellNothingOfAnotherStoresEmailsOrReceipts() throws Exception {
		String customer = "INSERT INTO retail.customers (store_id, first_name, last_name, email) VALUES ('seattle', 'x', 'y', ?)";
		String sale = "INSERT INTO retail.sales_transactions (store_id, subtotal, total_amount, receipt_number) VALUES ('seattle', 1, 1, ?)";
		String email = "SELECT email FROM retail.customers WHERE store_id = '%s' LIMIT 1";
		String receipt = "SELECT receipt_number FROM retail.sales_transactions WHERE store_id = '%s' AND receipt_number IS NOT NULL LIMIT 1";
		String theirEmail = rowOf(email.formatted("bellevue"));
		String theirReceipt = rowOf(receipt.formatted("bellevue"));
		String ownEmail = rowOf(email.formatted("seattle"));
		String ownReceipt = rowOf(receipt.formatted("seattle"));
		asSearchRole("seattle", statement -> {
			assertThat(insert(statement, customer, theirEmail)).as("a customer with bellevue's email").isNull();
			assertThat(insert(statement, sale, theirReceipt)).as("a sale with bellevue's receipt number").isNull();
			assertThat(insert(statement, customer, ownEmail)).contains("customers_store_email_key");
			assertThat(insert(statement, sale, ownReceipt)).contains("sales_transactions_store_receipt_number_key");
		});
	}

	/**
	 * EXPLAIN's estimates come from statistics of every store's rows: for the personal columns and the receipt
	 * numbers there are none, so an estimate does not move with the value compared (a histogram's bounds, which
	 * are other stores' values, would show where it moves).
	 */
	@Test
	void thePlannersEstimatesShowNoValueOfAnotherStore() throws Exception {
		asSearchRole("seattle", statement -> {
			for (String column : List.of("customers.first_name", "customers.last_name", "customers.email",
					"customers.phone", "sales_transactions.receipt_number")) {
				String[] name = column.split("\\.");
				String estimate = "EXPLAIN SELECT 1 FROM retail." + name[0] + " WHERE " + name[1] + " < '%s'";
				assertThat(stores(statement, estimate.formatted("a")).get(0)).as(column)
					.isEqualTo(stores(statement, estimate.formatted("z")).get(0));
			}
			String birth = "EXPLAIN SELECT 1 FROM retail.customers WHERE date_of_birth < '%s'";
			assertThat(stores(statement, birth.formatted("1960-01-01")).get(0))
				.isEqualTo(stores(statement, birth.formatted("2000-01-01")).get(0));
		});
	}

	/** Runs an insert of one value in a savepoint: null when it passes, else its error. */
	private static String insert(Statement statement, String sql, String value) throws SQLException {
		statement.execute("SAVEPOINT insert");
		try (PreparedStatement insert = statement.getConnection().prepareStatement(sql)) {
			insert.setString(1, value);
			insert.execute();
			statement.execute("RELEASE SAVEPOINT insert");
			return null;
		}
		catch (SQLException ex) {
			statement.execute("ROLLBACK TO SAVEPOINT insert");
			return ex.getMessage();
		}
	}

	/**
	 * It cannot take an advisory lock, in any form, in the test's database nor in the maintenance database (where
	 * the restore and drill lock is): bin/stack revokes EXECUTE on them from PUBLIC, as docs/operations.md asks of a
	 * superuser, so that it cannot hold the runner's job locks that launches, schedules and waits trust (review 13
	 * #4). The runner's role still can.
	 */
	@Test
	void itCannotTakeTheRunnersLocks() throws Exception {
		List<String> takes = new ArrayList<>();
		for (String lock : List.of("pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock",
				"pg_try_advisory_lock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
				"pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared")) {
			takes.add("SELECT " + lock + "(42::bigint)");
			takes.add("SELECT " + lock + "(hashtext('pgbatch.job'), hashtext('nightly'))");
		}
		for (String database : List.of(TestDatabase.name(), "postgres")) {
			try (Connection search = DriverManager.getConnection(TestDatabase.serverUrl(database), SEARCH_USER,
					TestDatabase.secret("ETL_SEARCH_PASSWORD")); Statement statement = search.createStatement()) {
				for (String take : takes) {
					assertThatThrownBy(() -> statement.execute(take)).as(take + " in " + database)
						.isInstanceOfSatisfying(SQLException.class,
								refused -> assertThat(refused.getSQLState()).isEqualTo("42501"));
				}
			}
			try (Connection runner = TestDatabase.connect(database); Statement statement = runner.createStatement()) {
				for (String take : takes) {
					statement.execute(take);
				}
				statement.execute("SELECT pg_advisory_unlock_all()");
			}
		}
	}

	@Test
	void anUnknownStoreIsRefused() throws Exception {
		asSearchRole(null, statement -> assertThatThrownBy(
				() -> statement.execute("SELECT retail.set_store_context('atlantis')"))
			.hasMessageContaining("invalid or inactive store: atlantis"));
	}

	private static long auditRows() throws SQLException {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement();
				ResultSet result = statement.executeQuery("""
						SELECT count(*) FROM retail.audit_log
						WHERE table_name = 'security_context' AND action = 'store_context_set'""")) {
			result.next();
			return result.getLong(1);
		}
	}

	/** The first column of the first row, read by the runner. */
	private static String rowOf(String query) throws SQLException {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			return stores(statement, query).get(0);
		}
	}

	/** The rows of the audit log of the table's schema about one row of it (table: schema.name). */
	private static long auditRowsOf(String table, String id) throws SQLException {
		String[] name = table.split("\\.");
		try (Connection connection = TestDatabase.connect(); PreparedStatement statement = connection.prepareStatement(
				"SELECT count(*) FROM " + name[0] + ".audit_log WHERE table_name = ? AND record_id = ?::uuid")) {
			statement.setString(1, name[1]);
			statement.setString(2, id);
			try (ResultSet result = statement.executeQuery()) {
				result.next();
				return result.getLong(1);
			}
		}
	}

	/** The stack's server log (bin/stack env exports where it is). */
	private static Path serverLog() {
		String log = System.getenv("ETL_STACK_PG_LOG");
		assertThat(log).as("ETL_STACK_PG_LOG (eval \"$(bin/stack env)\")").isNotBlank();
		return Path.of(log);
	}

	/** The lines of the log from a byte offset on (PostgreSQL writes each message when it raises it). */
	private static List<String> logLines(Path log, long from) throws IOException {
		try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
			byte[] bytes = new byte[(int) (file.length() - from)];
			file.seek(from);
			file.readFully(bytes);
			return new String(bytes, StandardCharsets.UTF_8).lines().toList();
		}
	}

	/** A session of the search role on the test database, as bin/etl search opens it. */
	private static Connection searchRole() throws SQLException {
		return DriverManager.getConnection(TestDatabase.serverUrl(TestDatabase.name()),
				SEARCH_USER, TestDatabase.secret("ETL_SEARCH_PASSWORD"));
	}

	/** What the work does as the search role, in a store's context (or none), in a transaction rolled back after. */
	private static void asSearchRole(String store, SqlWork work) throws SQLException {
		try (Connection connection = searchRole()) {
			connection.setAutoCommit(false);
			try (Statement statement = connection.createStatement()) {
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

	/** The statement fails (in a savepoint when a transaction is open, so that the work goes on). */
	private static void refused(Statement statement, String sql) throws SQLException {
		boolean inTransaction = !statement.getConnection().getAutoCommit();
		if (inTransaction) {
			statement.execute("SAVEPOINT refused");
		}
		assertThatThrownBy(() -> statement.execute(sql)).as(sql).isInstanceOf(SQLException.class);
		if (inTransaction) {
			statement.execute("ROLLBACK TO SAVEPOINT refused");
		}
	}

	@FunctionalInterface
	private interface SqlWork {

		void run(Statement statement) throws SQLException;

	}

	private static List<String> stores(Statement statement, String query) throws SQLException {
		List<String> stores = new ArrayList<>();
		try (ResultSet result = statement.executeQuery(query)) {
			while (result.next()) {
				stores.add(result.getString(1));
			}
		}
		return stores;
	}

}
