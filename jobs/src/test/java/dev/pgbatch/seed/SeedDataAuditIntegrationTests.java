package dev.pgbatch.seed;

import dev.pgbatch.DatabaseIntegrationTest;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** ETL_SEED_AUDIT=true: seeded rows are audited like any insert. */
@TestPropertySource(properties = "etl.seed.audit=true")
class SeedDataAuditIntegrationTests extends DatabaseIntegrationTest {

	@Test
	void withAuditOnEverySeededRowOfAnAuditedTableIsAudited() {
		this.jdbc.update("DELETE FROM retail.audit_log WHERE action = 'INSERT'");

		assertThat(SeedDataRuns.seed(this.runner, "scale=0.02", "reset=true").getStatus()).isEqualTo(BatchStatus.COMPLETED);

		long items = this.jdbc.queryForObject("SELECT count(*) FROM retail.sales_transaction_items", Long.class);
		assertThat(items).isPositive();
		assertThat(this.jdbc.queryForList("""
				SELECT table_name || ' ' || count(*) FROM retail.audit_log WHERE action = 'INSERT'
				GROUP BY table_name ORDER BY table_name COLLATE "C"
				""", String.class)).containsExactly("customers 40", "products 10", "sales_transaction_items " + items,
						"sales_transactions 100");
	}

}
