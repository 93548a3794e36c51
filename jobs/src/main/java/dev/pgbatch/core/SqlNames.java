package dev.pgbatch.core;

import java.util.regex.Pattern;

/**
 * Table names that come from configuration, checked before any SQL is built from them: a plain
 * schema-qualified lower-case identifier, then quoted. Nothing else reaches a statement's text.
 */
public final class SqlNames {

	private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

	static final String NOT_PLAIN = "'%s' is not a plain schema-qualified table name (schema.table, lower-case letters, digits and _)";

	static final String NOT_PLAIN_NAME = "'%s' is not a plain name (lower-case letters, digits and _, at most 63)";

	static final String NOT_CATALOG_NAME = "'%s' is not a name PostgreSQL takes";

	private SqlNames() {
	}

	/** The name unchanged when it is one plain identifier (a database, a role), else an {@link IllegalArgumentException}. */
	public static String checkedName(String name) {
		String problem = problemWithName(name);
		if (problem != null) {
			throw new IllegalArgumentException(problem);
		}
		return name;
	}

	/** What is wrong with a name that should be one plain identifier, or null. */
	public static String problemWithName(String name) {
		return (name != null && PLAIN.matcher(name).matches()) ? null : String.format(NOT_PLAIN_NAME, name);
	}

	/** The name unchanged when it is schema.table in plain identifiers, else an {@link IllegalArgumentException}. */
	public static String checkedTable(String name) {
		String[] parts = (name == null) ? new String[0] : name.split("\\.", -1);
		if (parts.length != 2 || !PLAIN.matcher(parts[0]).matches() || !PLAIN.matcher(parts[1]).matches()) {
			throw new IllegalArgumentException(String.format(NOT_PLAIN, name));
		}
		return name;
	}

	/** A plain identifier, double-quoted. */
	public static String quote(String identifier) {
		if (!PLAIN.matcher(identifier).matches()) {
			throw new IllegalArgumentException(String.format(NOT_PLAIN, identifier));
		}
		return '"' + identifier + '"';
	}

	/**
	 * A name as the catalog has it (a column, a constraint), double-quoted, its double quotes doubled: a
	 * table's columns may have any name PostgreSQL takes ("Weird Col", a quote). Only names read back from
	 * the catalog come here, never configured or stored text.
	 */
	public static String quoteCatalogName(String name) {
		if (name == null || name.isEmpty() || name.indexOf('\0') >= 0
				|| name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63) {
			throw new IllegalArgumentException(String.format(NOT_CATALOG_NAME, name));
		}
		return '"' + name.replace("\"", "\"\"") + '"';
	}

	/** schema.table, each part checked and double-quoted. */
	public static String quoteTable(String name) {
		String[] parts = checkedTable(name).split("\\.");
		return quote(parts[0]) + "." + quote(parts[1]);
	}

}
