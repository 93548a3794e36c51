package dev.pgbatch.seed;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.core.JobRunner;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** ETL_SEED_AUDIT=true: seeded rows are audited like any insert. */
@SpringBootTest(properties = "etl.seed.audit=true")
class SeedDataAuditIntegrationTests {

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		TestDatabase.register(registry);
	}

	@Autowired
	JobRunner runner;

	@Autowired
	JdbcTemplate jdbc;

	@Test
	void withAuditOnEverySeededRowOfAnAuditedTableIsAudited() {
		this.jdbc.update("DELETE FROM retail.audit_log WHERE action = 'INSERT'");

		assertThat(SeedDataRuns.seed(this.runner, "scale=0.02", "reset=true").getStatus()).isEqualTo(BatchStatus.COMPLETED);

		assertThat(this.jdbc.queryForList("""
				SELECT table_name || ' ' || count(*) FROM retail.audit_log WHERE action = 'INSERT'
				GROUP BY table_name ORDER BY table_name
				""", String.class)).containsExactly("customers 40", "products 10", "sales_transactions 100");
	}

}
