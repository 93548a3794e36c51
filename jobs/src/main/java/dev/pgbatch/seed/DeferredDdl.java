package dev.pgbatch.seed;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.SqlNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Secondary indexes and foreign keys of the seeded tables, dropped before the bulk load and created again
 * after it: building an index once is many times cheaper than maintaining it row by row, and adding a
 * foreign key checks every row in one join. Summary triggers are disabled meanwhile, likewise, and audit
 * triggers when the seed is not audited; then no role but the tables' owner may write those tables until
 * their triggers are on again (refused, never unaudited, also after a kill). Primary keys and unique
 * constraints stay, so duplicates are refused during the load.
 * <p>
 * No definition is kept as text (whoever could write it would have seed-data run it): each table's indexes
 * and foreign keys are first made again on an empty shadow table in etl, which keeps them alive as catalog
 * objects, with their tablespaces and statistics targets; afterwards they are rebuilt from the shadow's
 * catalog. etl.seed_set_aside holds only catalog references (the shadows, the tablespaces of partitions'
 * indexes, the disabled triggers), and etl.seed_revoked the revoked privileges (tables, column numbers,
 * role names and, on the cluster that wrote them, role oids), written in the same transaction as the drop, so
 * a run killed in between loses none of them.
 */
final class DeferredDdl {

	private static final Logger log = LoggerFactory.getLogger(DeferredDdl.class);

	/** The shadow of a seeded table: named after its oid, in etl. */
	private static final String SHADOW = "seed_aside_";

	/**
	 * A live index's definition after "CREATE INDEX name ON [ONLY] schema.table ": PostgreSQL's own text, of
	 * an index that exists now, to be put on another table with the same columns. pg_get_indexdef always
	 * qualifies the table with its schema, so the head is built so too (regclass's text drops a schema on
	 * the search path, and a URL with currentSchema=retail made every definition look foreign).
	 */
	private static final String INDEX_TAIL = """
			SELECT CASE WHEN starts_with(d.def, d.head) THEN substr(d.def, length(d.head) + 1)
			            WHEN starts_with(d.def, d.only) THEN substr(d.def, length(d.only) + 1) END
			FROM (SELECT pg_get_indexdef(i.indexrelid) AS def,
			             format('CREATE INDEX %I ON %I.%I ', c.relname, n.nspname, t.relname) AS head,
			             format('CREATE INDEX %I ON ONLY %I.%I ', c.relname, n.nspname, t.relname) AS only
			      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
			      JOIN pg_namespace n ON n.oid = t.relnamespace WHERE i.indexrelid = ?) d
			""";

	/** The tables (of the array bound) whose audit trigger is on: those a seed without audit disables. */
	private static final String AUDITED = """
			SELECT t.tgrelid FROM pg_trigger t
			WHERE t.tgrelid = ANY (?::regclass[]) AND NOT t.tgisinternal AND t.tgenabled = 'O'
			  AND pg_get_triggerdef(t.oid) LIKE '%pgbatch.skip_audit%'
			""";

	/**
	 * The tables whose audit trigger a seed without audit disabled and has not enabled again, of one schema (all
	 * when the schema bound twice is null).
	 */
	private static final String SET_ASIDE = """
			SELECT t.tgrelid FROM etl.seed_set_aside a JOIN pg_trigger t ON t.oid = a.trigger_oid AND t.tgrelid = a.seeded
			JOIN pg_class c ON c.oid = t.tgrelid
			WHERE pg_get_triggerdef(t.oid) LIKE '%pgbatch.skip_audit%'
			  AND (?::text IS NULL OR c.relnamespace::regnamespace::text = ?)
			""";

	/**
	 * The tables in {@code roots} (a query of their oids as tgrelid) and their partitions, each with its root:
	 * what the audit triggers' disable reaches (pg_partition_tree has no row for a table that is not partitioned).
	 */
	private static String trees(String roots) {
		return "SELECT r.tgrelid AS root, p.relid FROM (" + roots + ") r CROSS JOIN LATERAL (SELECT r.tgrelid AS relid"
				+ " UNION SELECT relid FROM pg_partition_tree(r.tgrelid)) p";
	}

	/**
	 * Partitions (the oids bound as an array) of a table whose audit trigger is set aside, each with that table
	 * as its root: those the seed's partitions step made, which the disabled trigger reaches.
	 */
	private static final String NEW_PARTITIONS = "SELECT r.tgrelid AS root, n.relid FROM unnest(?::oid[]) n (relid) JOIN ("
			+ SET_ASIDE + ") r ON r.tgrelid IN (SELECT relid FROM pg_partition_ancestors(n.relid))";

	/**
	 * Write privileges held by roles other than the owner on the tables of {@code tree} (a query of root and
	 * relid, as {@link #trees}): of the table or of a column, PUBLIC's as grantee 0, each with the REVOKE that
	 * takes it, made from the catalog's names only (and the role and the table or column it names, for messages).
	 */
	private static String writePrivileges(String tree) {
		return """
				SELECT c.oid::bigint AS seeded, x.attnum, x.grantee::bigint AS grantee, x.privilege_type AS privilege,
				       x.is_grantable AS grantable, n.role, c.oid::regclass || n.columns AS target,
				       format('REVOKE %s%s ON %s FROM %s', x.privilege_type, n.columns, c.oid::regclass, n.role) AS revoke
				FROM pg_class c
				CROSS JOIN LATERAL (SELECT NULL::smallint AS attnum, NULL::name AS attname, e.* FROM aclexplode(c.relacl) e
				                    UNION ALL
				                    SELECT a.attnum, a.attname, e.* FROM pg_attribute a, aclexplode(a.attacl) e
				                    WHERE a.attrelid = c.oid AND NOT a.attisdropped) x
				CROSS JOIN LATERAL (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END AS role,
				                           CASE WHEN x.attnum IS NOT NULL THEN format(' (%I)', x.attname) ELSE '' END AS columns) n
				WHERE c.oid IN (SELECT relid FROM (""" + tree + """
				) tree)
				  AND x.grantee <> c.relowner AND x.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
				""";
	}

	/**
	 * Login roles that write the tables of {@code tree} (root and relid) with an owner's rights, which no
	 * REVOKE takes away: members (at any depth, whatever INHERIT says: they may SET ROLE) of a table's or a
	 * partition's owner, a partition's own owner, members of pg_write_all_data. Not the runner (the session
	 * user), not the seeded table's owner, not superusers (no check keeps those out; documented). A role that
	 * cannot log in writes only through a login member, which is listed itself.
	 */
	private static String ownersRights(String tree) {
		return """
				SELECT DISTINCT quote_ident(m.rolname) AS role, c.oid::regclass::text AS target
				FROM (""" + tree + """
				) tree JOIN pg_class c ON c.oid = tree.relid JOIN pg_class root ON root.oid = tree.root
				JOIN pg_roles m ON m.rolcanlogin AND NOT m.rolsuper AND m.rolname <> session_user AND m.oid <> root.relowner
				WHERE pg_has_role(m.oid, c.relowner, 'MEMBER') OR pg_has_role(m.oid, 'pg_write_all_data', 'MEMBER')
				ORDER BY 1, 2
				""";
	}

	static final String GRANTED_ON = "write privileges on %s were granted on by roles other than the owner, so seed-data cannot take them away while the audit triggers are off: revoke those grants, or seed with ETL_SEED_AUDIT=true";

	static final String OWNERS_RIGHTS = "roles other than the runner write with an owner's rights (members of the owner or of pg_write_all_data, or a partition's owner), which seed-data cannot take away while the audit triggers are off: %s; revoke those memberships, or seed with ETL_SEED_AUDIT=true";

	static final String GRANTED_MEANWHILE = "%s was granted %s on %s while its audit trigger was off: its writes since then may not be audited";

	static final String OWNERS_RIGHTS_MEANWHILE = "%s got an owner's rights on %s (a member of its owner or of pg_write_all_data, or the partition's owner) while its audit trigger was off: its writes since then may not be audited";

	static final String HELD = "write privileges on %s not given back: an audit trigger of the table is disabled, and not as seed-data set it aside (a database restored from a dump taken during a seed without audit?); enable it, then run seed-data again";

	static final String COLUMN_GONE = "%s on a column of %s not given back to %s: the column was dropped since seed-data revoked it";

	static final String ROLE_GONE = "%s on %s not given back: role %s does not exist (dropped since seed-data revoked it, or not on this cluster)";

	static final String RENAMED = "%s on %s not given back: the role seed-data revoked it from, %s, is named %s now; the row stays in etl.seed_revoked until you grant it by hand where it is due and delete the row (position %s)";

	static final String REPLACED = "%s on %s not given back: the role seed-data revoked it from, %s, was dropped, and the role of that name now is another one; the row stays in etl.seed_revoked until you grant it by hand where it is due and delete the row (position %s)";

	private final JdbcTemplate jdbc;

	DeferredDdl(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	/**
	 * Sets the secondary indexes and foreign keys of the tables aside on their shadows and drops them, and
	 * disables their summary triggers; with {@code audit} off also the audit triggers, which would only test
	 * pgbatch.skip_audit on every row and skip (that test costs a third of a COPY into
	 * retail.sales_transactions). Returns the shadows: their foreign keys reference the seeded tables, so a
	 * TRUNCATE of those names them too.
	 */
	List<String> drop(List<String> tables, boolean audit) {
		String[] names = tables.toArray(String[]::new);
		List<String> shadows = new ArrayList<>();
		int indexes = 0;
		int foreignKeys = 0;
		for (String table : tables) {
			List<Long> tableIndexes = this.jdbc.queryForList("""
					SELECT i.indexrelid::bigint FROM pg_index i
					WHERE i.indrelid = ?::regclass AND NOT i.indisunique AND NOT i.indisprimary
					  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
					ORDER BY i.indexrelid
					""", Long.class, table);
			List<Long> tableForeignKeys = this.jdbc.queryForList("""
					SELECT c.oid::bigint FROM pg_constraint c
					WHERE c.contype = 'f' AND c.conparentid = 0 AND c.conrelid = ?::regclass ORDER BY c.conname
					""", Long.class, table);
			if (tableIndexes.isEmpty() && tableForeignKeys.isEmpty()) {
				continue;
			}
			String shadow = "etl." + SqlNames.quote(SHADOW
					+ this.jdbc.queryForObject("SELECT ?::regclass::oid::bigint", Long.class, table));
			this.jdbc.execute("CREATE TABLE " + shadow + " (LIKE " + SqlNames.quoteTable(table) + ")");
			this.jdbc.update("INSERT INTO etl.seed_set_aside (seeded, shadow) VALUES (?::regclass, ?::regclass)", table,
					shadow);
			shadows.add(shadow);
			for (long index : tableIndexes) {
				long copy = copyIndex(index, shadow);
				// a partitioned table's index has one on each partition, in a tablespace of its own (a warm
				// partition's in the warm one): remembered, since an index made on the parent puts them all in one
				this.jdbc.update("""
						INSERT INTO etl.seed_set_aside (seeded, shadow_index, tablespace)
						SELECT p.indrelid::regclass, ?::oid::regclass, c.reltablespace
						FROM pg_inherits h JOIN pg_index p ON p.indexrelid = h.inhrelid JOIN pg_class c ON c.oid = h.inhrelid
						WHERE h.inhparent = ?::oid
						""", copy, index);
				this.jdbc.execute(this.jdbc.queryForObject("SELECT format('DROP INDEX %s', ?::oid::regclass)", String.class,
						index));
				indexes++;
			}
			for (long foreignKey : tableForeignKeys) {
				this.jdbc.execute(this.jdbc.queryForObject("""
						SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', ?, conname, pg_get_constraintdef(oid))
						FROM pg_constraint WHERE oid = ?::oid
						""", String.class, shadow, foreignKey));
				this.jdbc.execute(this.jdbc.queryForObject("""
						SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname)
						FROM pg_constraint WHERE oid = ?::oid
						""", String.class, foreignKey));
				foreignKeys++;
			}
		}
		// Statement triggers with transition tables keep summaries (ops.agent_performance_summary); their
		// mere presence makes COPY into a partitioned table insert row by row. The summary is rebuilt after.
		List<Map<String, Object>> triggers = this.jdbc.queryForList("""
				SELECT t.oid::bigint AS trigger_oid, t.tgrelid::regclass::text AS seeded,
				       format('ALTER TABLE %s DISABLE TRIGGER %I', t.tgrelid::regclass, t.tgname) AS disable
				FROM pg_trigger t
				WHERE t.tgrelid = ANY (?::regclass[]) AND NOT t.tgisinternal AND t.tgenabled = 'O'
				  AND (t.tgnewtable IS NOT NULL OR t.tgoldtable IS NOT NULL
				       OR (NOT ? AND pg_get_triggerdef(t.oid) LIKE '%pgbatch.skip_audit%'))
				ORDER BY 2, 1
				""", names, audit);
		if (!audit) {
			revokeWrites(trees(AUDITED), (Object) names);
		}
		for (Map<String, Object> trigger : triggers) {
			this.jdbc.update("INSERT INTO etl.seed_set_aside (seeded, trigger_oid) VALUES (?::regclass, ?::oid)",
					trigger.get("seeded"), trigger.get("trigger_oid"));
			this.jdbc.execute((String) trigger.get("disable"));
		}
		log.info("set aside {} indexes, {} foreign keys and {} triggers until the load is done", indexes, foreignKeys,
				triggers.size());
		return shadows;
	}

	/**
	 * The tables a transaction's DDL changes (and takes ACCESS EXCLUSIVE locks on), with their partitions, locked
	 * before anything else and in the order pg_dump takes its ACCESS SHARE locks (by oid, each table's partitions
	 * with it): a backup that starts meanwhile waits for the seed, or the seed for it, and neither holds a lock the
	 * other waits for. Locked one by one as the DDL goes, they deadlocked with a backup's pg_dump, PostgreSQL ending
	 * one of the two.
	 */
	static void lockInDumpOrder(JdbcTemplate jdbc, List<String> tables) {
		String relations = jdbc.queryForObject("""
				SELECT string_agg(format('%s', t.relation), ', ' ORDER BY t.relation::oid)
				FROM (SELECT s.relation FROM unnest(?::regclass[]) AS s(relation)
				      UNION SELECT p.relid FROM unnest(?::regclass[]) AS s(relation), pg_partition_tree(s.relation) p) t
				""", String.class, tables.toArray(String[]::new), tables.toArray(String[]::new));
		jdbc.execute("LOCK TABLE " + relations + " IN ACCESS EXCLUSIVE MODE");
	}

	/**
	 * Restores everything an earlier drop set aside: indexes, then foreign keys (validated), then triggers and,
	 * in the same transaction, the write privileges revoked while their audit was off.
	 */
	void restore() {
		restore(null);
	}

	/**
	 * Creates again what an earlier drop set aside for the tables of one schema (all of them when null). The
	 * schemas are restored side by side, each on its own connection, since index builds keep one core busy
	 * each.
	 */
	void restore(String schema) {
		// only shadows as drop makes them: in etl, named after the table they stand for
		List<Map<String, Object>> shadows = this.jdbc.queryForList("""
				SELECT a.position, a.shadow::oid::bigint AS shadow, a.seeded::text AS seeded
				FROM etl.seed_set_aside a JOIN pg_class s ON s.oid = a.shadow JOIN pg_class t ON t.oid = a.seeded
				WHERE s.relnamespace = 'etl'::regnamespace AND s.relname = ? || a.seeded::oid
				  AND (?::text IS NULL OR t.relnamespace::regnamespace::text = ?)
				ORDER BY a.position
				""", SHADOW, schema, schema);
		List<Map<String, Object>> triggers = this.jdbc.queryForList("""
				SELECT a.position, format('ALTER TABLE %s ENABLE TRIGGER %I', t.tgrelid::regclass, t.tgname) AS enable
				FROM etl.seed_set_aside a JOIN pg_trigger t ON t.oid = a.trigger_oid AND t.tgrelid = a.seeded
				JOIN pg_class c ON c.oid = a.seeded
				WHERE ?::text IS NULL OR c.relnamespace::regnamespace::text = ?
				ORDER BY a.position
				""", schema, schema);
		if (shadows.isEmpty() && triggers.isEmpty()
				&& !this.jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM etl.seed_revoked)", Boolean.class)) {
			return;
		}
		// Everything a role other than the owner may write now was granted while the audit was off (the prepare
		// revoked it all): its writes in between were possible unaudited. Left as granted, but said.
		for (Map<String, Object> granted : this.jdbc.queryForList(writePrivileges(trees(SET_ASIDE)), schema, schema)) {
			log.warn(OneLine.of(String.format(GRANTED_MEANWHILE, granted.get("role"), granted.get("privilege"), granted.get("target"))));
		}
		// likewise an owner's rights (prepare refused whoever had them): a membership granted meanwhile, a
		// partition's owner changed; gone again by now, it is not seen
		for (Map<String, Object> writer : this.jdbc.queryForList(ownersRights(trees(SET_ASIDE)), schema, schema)) {
			log.warn(OneLine.of(String.format(OWNERS_RIGHTS_MEANWHILE, writer.get("role"), writer.get("target"))));
		}
		this.jdbc.execute("SET LOCAL maintenance_work_mem = '256MB'");
		// The two schemas are restored side by side, one core each: parallel workers of an index build or
		// of a foreign key's check would only contend for the same cores.
		this.jdbc.execute("SET LOCAL max_parallel_maintenance_workers = 0");
		this.jdbc.execute("SET LOCAL max_parallel_workers_per_gather = 0");
		int restored = 0;
		for (Map<String, Object> shadow : shadows) {
			for (long index : this.jdbc.queryForList("SELECT indexrelid::bigint FROM pg_index WHERE indrelid = ?::oid"
					+ " ORDER BY indexrelid", Long.class, shadow.get("shadow"))) {
				rebuildIndex(index, (String) shadow.get("seeded"));
				restored++;
			}
		}
		for (Map<String, Object> shadow : shadows) {
			for (String foreignKey : this.jdbc.queryForList("""
					SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', ?::regclass, conname, pg_get_constraintdef(oid))
					FROM pg_constraint WHERE conrelid = ?::oid AND contype = 'f' ORDER BY conname
					""", String.class, shadow.get("seeded"), shadow.get("shadow"))) {
				this.jdbc.execute(foreignKey);
				restored++;
			}
			this.jdbc.execute(this.jdbc.queryForObject("SELECT format('DROP TABLE %s', ?::oid::regclass)", String.class,
					shadow.get("shadow")));
			this.jdbc.update("DELETE FROM etl.seed_set_aside WHERE position = ?", shadow.get("position"));
		}
		for (Map<String, Object> trigger : triggers) {
			this.jdbc.execute((String) trigger.get("enable"));
			this.jdbc.update("DELETE FROM etl.seed_set_aside WHERE position = ?", trigger.get("position"));
			restored++;
		}
		restored += grantBack(schema);
		log.info("restored {} indexes, foreign keys, triggers and write privileges of {}", restored, schema == null ? "every schema" : schema);
	}

	/** The index made again on the shadow, with its name, tablespace and statistics targets; returns its oid. */
	private long copyIndex(long index, String shadow) {
		Map<String, Object> source = this.jdbc.queryForMap("""
				SELECT c.relname AS name, coalesce(t.spcname, '') AS tablespace
				FROM pg_class c LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.oid = ?::oid
				""", index);
		return create(index, (String) source.get("name"), shadow, (String) source.get("tablespace"));
	}

	/**
	 * With the audit triggers of the tables off, no one but the tables' owner (the runner, who may skip the
	 * audit anyway) may write them: INSERT, UPDATE, DELETE and TRUNCATE on each table whose audit trigger is
	 * disabled, and on its partitions (the disable reaches them), are revoked from every other grantee and
	 * PUBLIC, in the transaction that disables the triggers, and recorded in etl.seed_revoked. A run killed
	 * before its finish then leaves those writes refused, not unaudited, until a later run grants them back.
	 * A privilege that another grantee granted on (the owner's REVOKE cannot take it), or a login role that
	 * writes with an owner's rights (no REVOKE reaches those), refuses the seed: nothing is set aside then.
	 */
	private void revokeWrites(String tree, Object... arguments) {
		// roles with an owner's rights: no REVOKE reaches them
		List<String> ownersRights = this.jdbc.queryForList(ownersRights(tree), arguments).stream()
			.map(writer -> writer.get("role") + " (" + writer.get("target") + ")")
			.toList();
		if (!ownersRights.isEmpty()) {
			throw new IllegalStateException(OneLine.of(String.format(OWNERS_RIGHTS, String.join(", ", ownersRights))));
		}
		// granted on by a grantee with the grant option: the owner's REVOKE would leave it (or fail on it)
		List<String> grantedOn = this.jdbc.queryForList("SELECT DISTINCT w.seeded::oid::regclass::text FROM ("
				+ writePrivileges(tree) + " AND x.grantor <> c.relowner) w ORDER BY 1", String.class, arguments);
		if (!grantedOn.isEmpty()) {
			throw new IllegalStateException(OneLine.of(String.format(GRANTED_ON, String.join(", ", grantedOn))));
		}
		List<Map<String, Object>> privileges = this.jdbc.queryForList(writePrivileges(tree), arguments);
		for (Map<String, Object> privilege : privileges) {
			this.jdbc.update("""
					INSERT INTO etl.seed_revoked (seeded, attnum, grantee, grantee_oid, system_identifier, privilege, grantable)
					SELECT ?::oid, ?, g.rolname, g.oid, (SELECT system_identifier FROM pg_control_system()), ?, ?
					FROM (SELECT NULLIF(?::bigint, 0)::oid AS oid) x LEFT JOIN pg_roles g ON g.oid = x.oid
					""", privilege.get("seeded"), privilege.get("attnum"), privilege.get("privilege"), privilege.get("grantable"),
					privilege.get("grantee"));
			this.jdbc.execute((String) privilege.get("revoke"));
		}
		log.info("revoked {} write privileges of other roles on the tables whose audit is off", privileges.size());
	}

	/**
	 * Write privileges on {@code partitions}, made since the audit triggers went off (by seed-data's own
	 * partitions step), of a table whose audit trigger is set aside: the disabled trigger reaches them, the
	 * prepare's revoke did not, and default privileges may have granted writes on them. Revoked and recorded as
	 * in prepare, in the transaction that made them. Only those: what was granted on the other tables meanwhile
	 * stays for the grant-back to report (revoked here, it went unreported, and this step runs beside the retail
	 * schema's grant-back, which might miss what it records).
	 */
	void revokeWritesOnNewPartitions(List<Long> partitions) {
		revokeWrites(NEW_PARTITIONS, partitions.toArray(Long[]::new), null, null);
	}

	/**
	 * The privileges revokeWrites took from the tables of one schema (all when null) granted again; returns how
	 * many. Never on a table whose audit trigger is still off: those stay recorded and revoked. On the cluster that
	 * recorded a row, only to the role of the recorded oid, and only while it still has the recorded name (a role
	 * renamed, another made under its name, gets nothing: the row stays, said); on another (a logical backup
	 * restored), to the role of that name. A row given to no one is said.
	 */
	private int grantBack(String schema) {
		// a table dropped since: nothing to grant back, and its oid must not pass the grants to a new table
		this.jdbc.update("DELETE FROM etl.seed_revoked r WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = r.seeded)");
		List<Map<String, Object>> grants = this.jdbc.queryForList("""
				SELECT r.position, CASE WHEN n.columns IS NOT NULL THEN format('GRANT %s%s ON %s TO %s%s', r.privilege,
				           n.columns, c.oid::regclass, CASE WHEN r.grantee IS NULL THEN 'PUBLIC' ELSE quote_ident(g.rolname) END,
				           CASE WHEN r.grantable THEN ' WITH GRANT OPTION' ELSE '' END) END AS grant,
				       CASE WHEN n.columns IS NULL THEN 'column'
				            WHEN r.grantee IS NULL THEN NULL
				            WHEN NOT here.same THEN CASE WHEN g.oid IS NULL THEN 'role' END
				            WHEN h.rolname = r.grantee THEN NULL
				            WHEN h.oid IS NULL AND g.oid IS NULL THEN 'role'
				            WHEN h.oid IS NULL THEN 'replaced'
				            ELSE 'renamed' END AS withheld,
				       r.privilege, CASE WHEN r.grantee IS NULL THEN 'PUBLIC' ELSE quote_ident(r.grantee) END AS role,
				       quote_ident(h.rolname) AS renamed, c.oid::regclass || n.columns AS target,
				       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = r.seeded AND NOT t.tgisinternal AND t.tgenabled = 'D'
				               AND pg_get_triggerdef(t.oid) LIKE '%pgbatch.skip_audit%') AS held, c.oid::regclass::text AS seeded
				FROM etl.seed_revoked r JOIN pg_class c ON c.oid = r.seeded
				CROSS JOIN LATERAL (SELECT coalesce(r.system_identifier = s.system_identifier, false) AS same
				                    FROM pg_control_system() s) here
				LEFT JOIN pg_roles g ON g.rolname = r.grantee
				LEFT JOIN pg_roles h ON here.same AND h.oid = r.grantee_oid
				LEFT JOIN pg_attribute a ON a.attrelid = r.seeded AND a.attnum = r.attnum AND NOT a.attisdropped
				-- NULL: a column dropped since (%I takes no NULL name), its row given to no one
				CROSS JOIN LATERAL (SELECT CASE WHEN r.attnum IS NULL THEN '' WHEN a.attnum IS NOT NULL THEN format(' (%I)', a.attname)
				                           END AS columns) n
				WHERE r.privilege IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
				  AND (?::text IS NULL OR c.relnamespace::regnamespace::text = ?)
				ORDER BY r.position
				""", schema, schema);
		Set<String> held = new TreeSet<>();
		int given = 0;
		for (Map<String, Object> grant : grants) {
			// its audit trigger is off still, and not as set aside here (a dump restored: the oids differ)
			if (Boolean.TRUE.equals(grant.get("held"))) {
				held.add((String) grant.get("seeded"));
				continue;
			}
			String withheld = (String) grant.get("withheld");
			if (withheld == null) {
				this.jdbc.execute((String) grant.get("grant"));
				given++;
			}
			else {
				log.warn(OneLine.of(withheld(withheld, grant)));
				// not the role it was: whom it is due to is the admin's call, so the row stays until then
				if (withheld.equals("renamed") || withheld.equals("replaced")) {
					continue;
				}
			}
			this.jdbc.update("DELETE FROM etl.seed_revoked WHERE position = ?", grant.get("position"));
		}
		if (!held.isEmpty()) {
			log.warn(OneLine.of(String.format(HELD, String.join(", ", held))));
		}
		return given;
	}

	/** Why a row of etl.seed_revoked is given to no one, as the grant-back's query tells it. */
	private static String withheld(String reason, Map<String, Object> grant) {
		return switch (reason) {
			case "column" -> String.format(COLUMN_GONE, grant.get("privilege"), grant.get("seeded"), grant.get("role"));
			case "role" -> String.format(ROLE_GONE, grant.get("privilege"), grant.get("target"), grant.get("role"));
			case "renamed" -> String.format(RENAMED, grant.get("privilege"), grant.get("target"), grant.get("role"),
					grant.get("renamed"), grant.get("position"));
			default -> String.format(REPLACED, grant.get("privilege"), grant.get("target"), grant.get("role"),
					grant.get("position"));
		};
	}

	/** The shadow's index made again on the seeded table, and on its partitions each in its tablespace. */
	private void rebuildIndex(long shadowIndex, String seeded) {
		Map<String, Object> source = this.jdbc.queryForMap("""
				SELECT c.relname AS name, coalesce(t.spcname, '') AS tablespace
				FROM pg_class c LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.oid = ?::oid
				""", shadowIndex);
		long rebuilt = create(shadowIndex, (String) source.get("name"), this.jdbc.queryForObject("SELECT ?::regclass::text",
				String.class, seeded), (String) source.get("tablespace"));
		// made on a partitioned table, its partitions' indexes went into one tablespace: each back into its own
		for (String move : this.jdbc.queryForList("""
				SELECT format('ALTER INDEX %s SET TABLESPACE %I', h.inhrelid::regclass, coalesce(t.spcname, 'pg_default'))
				FROM pg_inherits h JOIN pg_index p ON p.indexrelid = h.inhrelid JOIN pg_class c ON c.oid = h.inhrelid
				JOIN etl.seed_set_aside a ON a.shadow_index = ?::oid::regclass AND a.seeded = p.indrelid
				LEFT JOIN pg_tablespace t ON t.oid = a.tablespace
				WHERE h.inhparent = ?::oid AND c.reltablespace <> a.tablespace
				""", String.class, shadowIndex, rebuilt)) {
			this.jdbc.execute(move);
		}
		this.jdbc.update("DELETE FROM etl.seed_set_aside WHERE shadow_index = ?::oid::regclass", shadowIndex);
	}

	/**
	 * An index like {@code index} (its definition as PostgreSQL prints it from the catalog, never stored
	 * text) made on {@code table} under {@code name} in {@code tablespace} ('' the database's default), with
	 * the statistics targets of its columns. Returns its oid.
	 */
	private long create(long index, String name, String table, String tablespace) {
		String tail = this.jdbc.queryForObject(INDEX_TAIL, String.class, index);
		if (tail == null) {
			throw new IllegalStateException(OneLine.of("the definition of index " + name + " is not one PostgreSQL prints: not set aside"));
		}
		this.jdbc.queryForObject("SELECT set_config('default_tablespace', ?, true)", String.class, tablespace);
		this.jdbc.execute("CREATE INDEX " + SqlNames.quoteCatalogName(name) + " ON " + table + " " + tail);
		this.jdbc.queryForObject("SELECT set_config('default_tablespace', '', true)", String.class);
		long created = this.jdbc.queryForObject("""
				SELECT c.oid::bigint FROM pg_class c WHERE c.relname = ? AND c.relnamespace = (SELECT relnamespace
				FROM pg_class WHERE oid = ?::regclass)
				""", Long.class, name, table);
		for (String statistics : this.jdbc.queryForList("""
				SELECT format('ALTER INDEX %s ALTER COLUMN %s SET STATISTICS %s', ?::oid::regclass, attnum, attstattarget)
				FROM pg_attribute WHERE attrelid = ?::oid AND attstattarget > 0 ORDER BY attnum
				""", String.class, created, index)) {
			this.jdbc.execute(statistics);
		}
		return created;
	}

}
