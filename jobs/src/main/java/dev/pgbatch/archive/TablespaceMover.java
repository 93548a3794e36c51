package dev.pgbatch.archive;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.SqlNames;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Moves a table with its indexes into another tablespace (the partition archive's hot to warm, the sales
 * archive's tables to cold), and tells where they are. Tables are named schema.name, each part quoted where
 * it needs it (as regclass::text gives them).
 */
final class TablespaceMover {

	private final JdbcTemplate jdbc;

	private final BoundedLocks locks;

	TablespaceMover(JdbcTemplate jdbc, BoundedLocks locks) {
		this.jdbc = jdbc;
		this.locks = locks;
	}

	/** The table's tablespace, pg_default for the database's default. */
	String tablespaceOf(String table) {
		return this.jdbc.queryForObject("""
				SELECT coalesce(t.spcname, 'pg_default') FROM pg_class c LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
				WHERE c.oid = ?::regclass
				""", String.class, table);
	}

	/** Whether the table and every index of it are in {@code tablespace}. */
	boolean allIn(String table, String tablespace) {
		return !Boolean.TRUE.equals(this.jdbc.queryForObject("""
				SELECT EXISTS (SELECT 1 FROM pg_class c LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
				               WHERE (c.oid = ?::regclass OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ?::regclass))
				                 AND coalesce(t.spcname, 'pg_default') <> ?)
				""", Boolean.class, table, table, tablespace));
	}

	/**
	 * Moves the table and each of its indexes into {@code tablespace} (a name from the settings, quoted here),
	 * behind a long reader of the table with a bounded wait and a few tries (BoundedLocks): never a hang.
	 */
	void move(String table, String tablespace) {
		String into = SqlNames.quote(tablespace);
		this.locks.execute(table, () -> {
			this.jdbc.execute("ALTER TABLE " + table + " SET TABLESPACE " + into);
			for (String index : this.jdbc.queryForList("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = ?::regclass",
					String.class, table)) {
				this.jdbc.execute("ALTER INDEX " + index + " SET TABLESPACE " + into);
			}
		});
	}

}
