package dev.pgbatch.partition;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.pgbatch.core.SqlNames;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A managed table as the catalog describes it now: its range key (a date or timestamp column), its default
 * partition, its partitions by start, and the staging tables of an unfinished move out of the default.
 */
public final class PartitionedTable {

	/** The comment that marks a table partition-rollover made to take rows out of the default partition. */
	static final String STAGING_COMMENT = "pgbatch partition-rollover: rows moving out of the default partition";

	private static final Logger log = LoggerFactory.getLogger(PartitionedTable.class);

	private static final Pattern BOUNDS = Pattern.compile("FOR VALUES FROM \\('([^']+)'\\) TO \\('([^']+)'\\)");

	public final PartitionPolicy policy;

	public final String key;

	final String keyType;

	/** Unqualified, or null when the table has none. */
	public final String defaultPartition;

	/** Attached partitions by the first day of their range. */
	public final Map<LocalDate, String> partitions;

	/** Detached staging tables by the first day of their range. */
	public final Map<LocalDate, String> staging;

	final List<String> columns;

	private PartitionedTable(PartitionPolicy policy, String key, String keyType, String defaultPartition,
			Map<LocalDate, String> partitions, Map<LocalDate, String> staging, List<String> columns) {
		this.policy = policy;
		this.key = key;
		this.keyType = keyType;
		this.defaultPartition = defaultPartition;
		this.partitions = partitions;
		this.staging = staging;
		this.columns = columns;
	}

	public static PartitionedTable read(JdbcTemplate jdbc, PartitionPolicy policy) {
		List<Map<String, Object>> keys = jdbc.queryForList("""
				SELECT a.attname, format_type(a.atttypid, NULL) AS type
				FROM pg_partitioned_table pt
				JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
				WHERE pt.partrelid = to_regclass(?) AND pt.partstrat = 'r' AND pt.partnatts = 1
				""", policy.table());
		if (keys.isEmpty()) {
			throw new IllegalArgumentException(policy.table() + " is not a table partitioned by range on one column");
		}
		String key = (String) keys.get(0).get("attname");
		String type = (String) keys.get(0).get("type");
		if (!List.of("date", "timestamp with time zone", "timestamp without time zone").contains(type)) {
			throw new IllegalArgumentException(policy.table() + " is partitioned on " + key + " of type " + type
					+ ", not a date or timestamp");
		}
		String defaultPartition = null;
		Map<LocalDate, String> partitions = new LinkedHashMap<>();
		for (Map<String, Object> row : jdbc.queryForList("""
				SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
				FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
				WHERE i.inhparent = to_regclass(?) ORDER BY 1
				""", policy.table())) {
			String bound = (String) row.get("bound");
			if ("DEFAULT".equals(bound)) {
				defaultPartition = (String) row.get("relname");
				continue;
			}
			Matcher matcher = BOUNDS.matcher(bound);
			if (matcher.matches()) {
				LocalDate from = day(matcher.group(1));
				String name = (String) row.get("relname");
				// Only a partition of exactly one interval, named as rollover names it, is managed: archive
				// exports and drops a partition as one interval, so any other (made by hand, or under another
				// policy) would leave PostgreSQL as a segment that restore cannot put back.
				if (from.equals(policy.interval().start(from)) && day(matcher.group(2)).equals(policy.interval().plus(from, 1))
						&& name.equals(policy.interval().partitionName(policy.name(), from))) {
					partitions.put(from, name);
				}
				else {
					log.warn("{}.{} ({}) is not one {} partition as the policy makes them: left alone", policy.schema(),
							name, bound, policy.interval().unit);
				}
			}
		}
		Map<LocalDate, String> staging = new LinkedHashMap<>();
		for (String name : jdbc.queryForList("""
				SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = ? AND c.relkind = 'r' AND NOT c.relispartition AND obj_description(c.oid, 'pg_class') = ?
				ORDER BY 1
				""", String.class, policy.schema(), STAGING_COMMENT + " of " + policy.table())) {
			staging.put(policy.startOf(name), name);
		}
		List<String> columns = jdbc.queryForList("""
				SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped
				ORDER BY attnum
				""", String.class, policy.table());
		return new PartitionedTable(policy, key, type, defaultPartition, partitions, staging, columns);
	}

	public String qualified(String relation) {
		return SqlNames.quote(this.policy.schema()) + "." + SqlNames.quote(relation);
	}

	public String parent() {
		return SqlNames.quoteTable(this.policy.table());
	}

	public String columnList() {
		return String.join(", ", this.columns.stream().map(SqlNames::quoteCatalogName).toList());
	}

	/** A literal for the start of the interval in the key's type (UTC). */
	public String literal(LocalDate day) {
		return "timestamp with time zone".equals(this.keyType) ? "'" + day + " 00:00:00+00'" : "'" + day + "'";
	}

	/** WHERE condition: the key within the interval starting at {@code start}. */
	public String within(LocalDate start) {
		return SqlNames.quote(this.key) + " >= " + literal(start) + " AND " + SqlNames.quote(this.key) + " < "
				+ literal(this.policy.interval().plus(start, 1));
	}

	/** The first days of the intervals the default partition holds rows of, with how many rows each. */
	Map<LocalDate, Long> defaultRows(JdbcTemplate jdbc) {
		Map<LocalDate, Long> rows = new LinkedHashMap<>();
		if (this.defaultPartition == null) {
			return rows;
		}
		String bucket = "date_trunc('" + this.policy.interval().unit + "', " + keyInUtc() + ")::date";
		jdbc.query("SELECT " + bucket + " AS start, count(*) FROM " + qualified(this.defaultPartition)
				+ " GROUP BY 1 ORDER BY 1", row -> {
					rows.put(row.getObject(1, LocalDate.class), row.getLong(2));
				});
		return rows;
	}

	private String keyInUtc() {
		return "timestamp with time zone".equals(this.keyType) ? SqlNames.quote(this.key) + " AT TIME ZONE 'UTC'"
				: SqlNames.quote(this.key);
	}

	private static LocalDate day(String bound) {
		if (bound.length() <= 10) {
			return LocalDate.parse(bound);
		}
		return OffsetDateTime.parse(bound.replace(' ', 'T') + (bound.matches(".*[+-]\\d\\d$") ? ":00" : ""))
			.withOffsetSameInstant(ZoneOffset.UTC)
			.toLocalDate();
	}

	/** The intervals from {@code first} to {@code last}, both included. */
	static List<LocalDate> intervals(Interval interval, LocalDate first, LocalDate last) {
		List<LocalDate> starts = new ArrayList<>();
		for (LocalDate start = first; !start.isAfter(last); start = interval.plus(start, 1)) {
			starts.add(start);
		}
		return starts;
	}

}
