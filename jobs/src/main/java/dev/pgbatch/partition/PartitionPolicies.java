package dev.pgbatch.partition;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.pgbatch.core.SqlNames;
import dev.pgbatch.core.YamlLists;

/**
 * The managed tables: the policy file ETL_PARTITION_POLICY, or the one shipped in the runner
 * (partition-policy.yml: ops.task_executions, ops.audit_log, retail.audit_log). A bad file is refused
 * whole, naming the file, the entry and what is wrong.
 */
public final class PartitionPolicies {

	static final String BUILT_IN = "partition-policy.yml";

	private static final Set<String> KEYS = Set.of("table", "interval", "premake", "hot", "warm", "cold");

	private final List<PartitionPolicy> tables;

	private PartitionPolicies(List<PartitionPolicy> tables) {
		this.tables = tables;
	}

	public List<PartitionPolicy> tables() {
		return this.tables;
	}

	Optional<PartitionPolicy> table(String table) {
		return this.tables.stream().filter(policy -> policy.table().equals(table)).findFirst();
	}

	/** The tables a run manages: all, or the one named ("" for all); an unmanaged name is refused. */
	public List<PartitionPolicy> select(String table) {
		if (table == null || table.isEmpty()) {
			return this.tables;
		}
		return List.of(table(table).orElseThrow(() -> new IllegalArgumentException("table '" + table
				+ "' is not managed (managed: " + String.join(", ", this.tables.stream().map(PartitionPolicy::table).toList())
				+ ")")));
	}

	/** From the file, or the built-in policy when {@code file} is empty. */
	static PartitionPolicies load(String file) {
		String source = (file == null || file.isBlank()) ? BUILT_IN : file;
		try (InputStream in = (file == null || file.isBlank())
				? PartitionPolicies.class.getResourceAsStream("/" + BUILT_IN) : Files.newInputStream(Path.of(file))) {
			return parse(in, source);
		}
		catch (IOException ex) {
			throw new IllegalArgumentException(source + ": cannot be read (" + ex.getMessage() + ")");
		}
	}

	@SuppressWarnings("unchecked")
	static PartitionPolicies parse(InputStream in, String source) {
		List<?> entries = YamlLists.entries(in, source, "tables", IllegalArgumentException::new);
		List<PartitionPolicy> tables = new ArrayList<>();
		for (int i = 0; i < entries.size(); i++) {
			String where = source + ": tables[" + i + "]";
			if (!(entries.get(i) instanceof Map<?, ?> entry)) {
				throw new IllegalArgumentException(where + ": a mapping is expected");
			}
			try {
				PartitionPolicy policy = policy((Map<String, Object>) entry);
				if (tables.stream().anyMatch(other -> other.table().equals(policy.table()))) {
					throw new IllegalArgumentException(policy.table() + " is listed twice");
				}
				tables.add(policy);
			}
			catch (IllegalArgumentException | ClassCastException ex) {
				throw new IllegalArgumentException(where + ": " + ex.getMessage());
			}
		}
		return new PartitionPolicies(List.copyOf(tables));
	}

	/**
	 * Intervals made ahead at most: ten years of monthly partitions, four months of daily ones. Every one is
	 * a table that rollover makes and each query plans over; more than this is a typo, not a plan.
	 */
	static final int MAX_PREMAKE = 120;

	/**
	 * Years a partition may stay hot, or warm, at most: longer means never, which cold: false says (hot
	 * then warm). It keeps hot + warm far from int's end too, where it would wrap negative and send every
	 * partition past its hot window to the object store.
	 */
	static final int MAX_YEARS = 100;

	private static PartitionPolicy policy(Map<String, Object> entry) {
		YamlLists.requireKnownKeys(entry, KEYS);
		String table = SqlNames.checkedTable((String) entry.get("table"));
		Interval interval = Interval.of(String.valueOf(entry.getOrDefault("interval", "monthly")));
		LocalDate from = LocalDate.of(2000, 1, 1);
		int years = (int) interval.between(from, from.plusYears(MAX_YEARS));
		return new PartitionPolicy(table, interval, count(entry, "premake", 4, MAX_PREMAKE), count(entry, "hot", 3, years),
				count(entry, "warm", 12, years), flag(entry, "cold", true));
	}

	/** true or false in YAML: a quoted "yes" or any other text is refused, not read as false. */
	private static boolean flag(Map<String, Object> entry, String key, boolean otherwise) {
		Object value = entry.getOrDefault(key, otherwise);
		if (!(value instanceof Boolean flag)) {
			throw new IllegalArgumentException(key + " must be true or false, got '" + value + "'");
		}
		return flag;
	}

	private static int count(Map<String, Object> entry, String key, int otherwise, int most) {
		Object value = entry.getOrDefault(key, otherwise);
		if (!(value instanceof Integer number) || number < 0 || number > most) {
			throw new IllegalArgumentException(key + " must be a whole number of intervals from 0 to " + most + ", got " + value);
		}
		return number;
	}

}
