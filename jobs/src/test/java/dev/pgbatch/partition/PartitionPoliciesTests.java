package dev.pgbatch.partition;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PartitionPoliciesTests {

	private static PartitionPolicies parse(String yaml) {
		return PartitionPolicies.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "policy.yml");
	}

	@Test
	void theBuiltInPolicyManagesTheThreeLogTables() {
		assertThat(PartitionPolicies.load("").tables()).extracting(PartitionPolicy::table)
			.containsExactly("ops.task_executions", "ops.audit_log", "retail.audit_log");
		assertThat(PartitionPolicies.load("").tables()).allSatisfy(policy -> {
			assertThat(policy.interval()).isEqualTo(Interval.MONTHLY);
			assertThat(policy.premake()).isEqualTo(4);
		});
	}

	@Test
	void aTableNameThatIsNotAPlainIdentifierIsRefusedNamingFileAndEntry() {
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n  - table: \"ops.x; DROP TABLE ops.users\"\n"))
			.isInstanceOf(IllegalArgumentException.class)
			.hasMessage("policy.yml: tables[1]: 'ops.x; DROP TABLE ops.users' is not a plain schema-qualified table name"
					+ " (schema.table, lower-case letters, digits and _)");
		assertThatThrownBy(() -> parse("tables:\n  - table: \"Ops\".\"Log\"\n")).isInstanceOf(IllegalArgumentException.class);
		assertThatThrownBy(() -> parse("tables:\n  - table: audit_log\n")).isInstanceOf(IllegalArgumentException.class);
	}

	@Test
	void unknownKeysBadIntervalsNegativeCountsAndDuplicatesAreRefused() {
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    retention: 3\n"))
			.hasMessageContaining("tables[0]: unknown key 'retention'");
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    interval: weekly\n"))
			.hasMessageContaining("interval 'weekly' is neither monthly nor daily");
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    hot: -1\n"))
			.hasMessageContaining("hot must be a whole number");
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    premake: 121\n"))
			.hasMessage("policy.yml: tables[0]: premake must be a whole number of intervals from 0 to 120, got 121");
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    hot: 1201\n"))
			.hasMessage("policy.yml: tables[0]: hot must be a whole number of intervals from 0 to 1200, got 1201");
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    interval: daily\n    warm: 36525\n    hot: 36526\n"))
			.hasMessage("policy.yml: tables[0]: hot must be a whole number of intervals from 0 to 36525, got 36526");
		// hot + warm would wrap negative: every partition past its hot window would have gone to the store
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    hot: 3\n    warm: 2147483647\n"))
			.hasMessageContaining("warm must be a whole number of intervals from 0 to 1200, got 2147483647");
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    premake: 99999999999\n"))
			.hasMessageContaining("premake must be a whole number");
		assertThat(parse("tables:\n  - table: ops.audit_log\n    premake: 120\n    hot: 1200\n    warm: 1200\n").tables())
			.singleElement().satisfies(policy -> assertThat(policy.hot() + policy.warm()).isEqualTo(2400));
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n  - table: ops.audit_log\n"))
			.hasMessageContaining("tables[1]: ops.audit_log is listed twice");
		assertThatThrownBy(() -> parse("just: words\n")).hasMessage("policy.yml: a list 'tables' is expected");
	}

	@Test
	void coldIsTrueOrFalseAndNothingElse() {
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    cold: \"yes\"\n"))
			.hasMessageContaining("tables[0]: cold must be true or false, got 'yes'");
		assertThatThrownBy(() -> parse("tables:\n  - table: ops.audit_log\n    cold: 0\n"))
			.hasMessageContaining("cold must be true or false, got '0'");
		assertThat(parse("tables:\n  - table: ops.audit_log\n    cold: false\n").tables().get(0).cold()).isFalse();
		assertThat(parse("tables:\n  - table: ops.audit_log\n").tables().get(0).cold()).isTrue();
	}

	@Test
	void dailyPartitionsAreNamedByDay() {
		assertThat(Interval.DAILY.partitionName("audit_log", java.time.LocalDate.of(2026, 3, 5)))
			.isEqualTo("audit_log_p2026_03_05");
		assertThat(Interval.MONTHLY.partitionName("audit_log", java.time.LocalDate.of(2026, 3, 1)))
			.isEqualTo("audit_log_p2026_03");
	}

}
