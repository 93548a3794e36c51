package dev.pgbatch.archive;

import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * What a cold export holds, stored beside it as JSON, sealed like the export itself (zstd, Tink streaming
 * AEAD with the manifest's own key as associated data): an edited manifest, or one moved under another
 * key, does not authenticate. Enough to verify the export; restore builds no SQL from it (bounds come from
 * the interval, names from the policy, columns are matched by name against the catalog's) and checks every
 * other field it relies on against ops.archive_log. {@code systemIdentifier} and {@code database} say which
 * database wrote it (its cluster's pg_control_system() identifier, and its name), so that a database whose
 * log lost the segment (an older dump restored) can find and adopt its own segments, and none of another's;
 * manifests written before they were recorded read with both null.
 */
record Manifest(String table, String partition, String rangeStart, String rangeEnd, long rows, String rowsSha256,
		String objectKey, long objectBytes, String objectSha256, int keyId, List<String> columns, String format,
		String exportedAt, String systemIdentifier, String database) {

	/** The database a manifest is written by: its cluster's system identifier, and its name. */
	record Origin(String systemIdentifier, String database) {

		/** pg_control_system() is executable by every role (PUBLIC) by default. */
		static Origin of(JdbcTemplate jdbc) {
			return jdbc.queryForObject("SELECT system_identifier::text, current_database() FROM pg_control_system()",
					(rs, i) -> new Origin(rs.getString(1), rs.getString(2)));
		}

	}

	/** Whether this manifest says it was written by {@code origin} (one without the fields says nothing). */
	boolean writtenBy(Origin origin) {
		return origin.systemIdentifier().equals(this.systemIdentifier) && origin.database().equals(this.database);
	}

	/** A relation's columns as a manifest records them: name and type, in order. */
	static List<String> columns(JdbcTemplate jdbc, String relation) {
		return jdbc.queryForList("""
				SELECT format('%I %s', attname, format_type(atttypid, atttypmod)) FROM pg_attribute
				WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
				""", String.class, relation);
	}

	/** A column as {@link #columns} records it: its name, and its type then. */
	record Column(String name, String type) {
	}

	/**
	 * Reads back an entry of {@link #columns}: an identifier as format's %I writes it (double-quoted, quotes
	 * doubled, when it is not plain), a space, the type. Anything else is an {@link IllegalArgumentException}.
	 */
	static Column column(String recorded) {
		if (!recorded.startsWith("\"")) {
			int space = recorded.indexOf(' ');
			if (space <= 0) {
				throw new IllegalArgumentException("a column is recorded as " + recorded);
			}
			return new Column(recorded.substring(0, space), recorded.substring(space + 1));
		}
		StringBuilder name = new StringBuilder();
		for (int i = 1; i < recorded.length(); i++) {
			char c = recorded.charAt(i);
			if (c != '"') {
				name.append(c);
			}
			else if (i + 1 < recorded.length() && recorded.charAt(i + 1) == '"') {
				name.append('"');
				i++;
			}
			else if (i + 1 < recorded.length() && recorded.charAt(i + 1) == ' ') {
				return new Column(name.toString(), recorded.substring(i + 2));
			}
			else {
				break;
			}
		}
		throw new IllegalArgumentException("a column is recorded as " + recorded);
	}

	static final String FORMAT = "PostgreSQL COPY text, zstd, Tink streaming AEAD AES256-GCM-HKDF (associated data: the object key)";

}
