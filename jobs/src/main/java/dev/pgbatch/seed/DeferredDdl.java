package dev.pgbatch.seed;

import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Secondary indexes and foreign keys of the seeded tables, dropped before the bulk load and created again
 * after it: building an index once is many times cheaper than maintaining it row by row, and adding a
 * foreign key checks every row in one join. Summary triggers are disabled meanwhile, likewise, and audit triggers when the seed is not audited. Primary keys and unique constraints stay, so duplicates are
 * refused during the load. The definitions are kept in etl.seed_deferred_ddl, in the same transaction
 * as the drop, so a run killed in between loses none of them.
 */
final class DeferredDdl {

	private static final Logger log = LoggerFactory.getLogger(DeferredDdl.class);

	private final JdbcTemplate jdbc;

	DeferredDdl(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	/**
	 * Records and drops the secondary indexes and foreign keys of the tables, and disables their summary
	 * triggers; with {@code audit} off also the audit triggers, which would only test pgbatch.skip_audit on
	 * every row and skip (that test costs a third of a COPY into retail.sales_transactions).
	 */
	void drop(List<String> tables, boolean audit) {
		String[] names = tables.toArray(String[]::new);
		List<Map<String, Object>> foreignKeys = this.jdbc.queryForList("""
				SELECT c.conrelid::regclass::text AS table_name, c.conname AS object_name,
				       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
				              pg_get_constraintdef(c.oid)) AS create_ddl,
				       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_ddl
				FROM pg_constraint c
				WHERE c.contype = 'f' AND c.conparentid = 0 AND c.conrelid = ANY (?::regclass[])
				ORDER BY 1, 2
				""", (Object) names);
		List<Map<String, Object>> indexes = this.jdbc.queryForList("""
				SELECT i.indrelid::regclass::text AS table_name, i.indexrelid::regclass::text AS object_name,
				       replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') AS create_ddl,
				       format('DROP INDEX %s', i.indexrelid::regclass) AS drop_ddl
				FROM pg_index i
				WHERE i.indrelid = ANY (?::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary
				  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
				ORDER BY 1, 2
				""", (Object) names);
		// Statement triggers with transition tables keep summaries (ops.agent_performance_summary); their
		// mere presence makes COPY into a partitioned table insert row by row. The summary is rebuilt after.
		List<Map<String, Object>> triggers = this.jdbc.queryForList("""
				SELECT t.tgrelid::regclass::text AS table_name, t.tgname AS object_name,
				       format('ALTER TABLE %s ENABLE TRIGGER %I', t.tgrelid::regclass, t.tgname) AS create_ddl,
				       format('ALTER TABLE %s DISABLE TRIGGER %I', t.tgrelid::regclass, t.tgname) AS drop_ddl
				FROM pg_trigger t
				WHERE t.tgrelid = ANY (?::regclass[]) AND NOT t.tgisinternal AND t.tgenabled = 'O'
				  AND (t.tgnewtable IS NOT NULL OR t.tgoldtable IS NOT NULL
				       OR (NOT ? AND pg_get_triggerdef(t.oid) LIKE '%pgbatch.skip_audit%'))
				ORDER BY 1, 2
				""", names, audit);
		record(foreignKeys, "foreign key");
		record(indexes, "index");
		record(triggers, "trigger");
		log.info("set aside {} indexes, {} foreign keys and {} triggers until the load is done", indexes.size(),
				foreignKeys.size(), triggers.size());
	}

	/** Restores everything an earlier drop recorded: indexes, then foreign keys (validated), then triggers. */
	void restore() {
		restore("%");
	}

	/**
	 * Creates again what an earlier drop recorded for the tables of one schema. The schemas are restored
	 * side by side, each on its own connection, since index builds keep one core busy each.
	 */
	void restore(String schema) {
		List<Map<String, Object>> pending = this.jdbc.queryForList("""
				SELECT position, create_ddl FROM etl.seed_deferred_ddl
				WHERE table_name LIKE ? || '.%'
				ORDER BY CASE kind WHEN 'index' THEN 0 WHEN 'foreign key' THEN 1 ELSE 2 END, position
				""", schema);
		if (pending.isEmpty()) {
			return;
		}
		this.jdbc.execute("SET LOCAL maintenance_work_mem = '256MB'");
		// The two schemas are restored side by side, one core each: parallel workers of an index build or
		// of a foreign key's check would only contend for the same cores.
		this.jdbc.execute("SET LOCAL max_parallel_maintenance_workers = 0");
		this.jdbc.execute("SET LOCAL max_parallel_workers_per_gather = 0");
		for (Map<String, Object> ddl : pending) {
			this.jdbc.execute((String) ddl.get("create_ddl"));
			this.jdbc.update("DELETE FROM etl.seed_deferred_ddl WHERE position = ?", ddl.get("position"));
		}
		log.info("restored {} indexes, foreign keys and triggers of {}", pending.size(), schema);
	}

	private void record(List<Map<String, Object>> objects, String kind) {
		for (Map<String, Object> object : objects) {
			this.jdbc.update("INSERT INTO etl.seed_deferred_ddl (table_name, object_name, kind, create_ddl) VALUES (?, ?, ?, ?)",
					object.get("table_name"), object.get("object_name"), kind, object.get("create_ddl"));
			this.jdbc.execute((String) object.get("drop_ddl"));
		}
	}

}
