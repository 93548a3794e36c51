package dev.pgbatch.archive;

import java.util.List;
import java.util.Objects;

import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.RefusedException;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * What a cold export holds, stored beside it as JSON, sealed like the export itself (zstd, Tink streaming
 * AEAD with the manifest's own key as associated data): an edited manifest, or one moved under another
 * key, does not authenticate. Enough to verify the export; restore builds no SQL from it (bounds come from
 * the interval, names from the policy, columns are matched by name against the catalog's) and checks every
 * other field it relies on against ops.archive_log. {@code archiveId} names the archive installation that
 * wrote it (ops.archive_installation, carried by a logical dump), so that a database whose log lost the
 * segment (an older dump restored, in any cluster and under any name) can find and adopt its own segments,
 * and none of another's without saying so; {@code systemIdentifier} and {@code database} (its cluster's
 * pg_control_system() identifier, and its name) only say where it was written. Manifests written before
 * they were recorded read with them null. {@code sourceTier} is the tier the
 * partition was exported from; {@code supersedes} the ids of the interval's segments restored into the
 * partition before it was exported again: their rows, as they were then, are in this segment, so none of
 * them is ever offered for adoption again (rows deleted since would come back). Both are null in manifests
 * written before they were recorded.
 */
record Manifest(String table, String partition, String rangeStart, String rangeEnd, long rows, String rowsSha256,
		String objectKey, long objectBytes, String objectSha256, int keyId, List<String> columns, String format,
		String exportedAt, String systemIdentifier, String database, String sourceTier, List<String> supersedes,
		String archiveId) {

	/**
	 * The installation a manifest is written by: its archive id (V18), and, for people to read, its cluster's
	 * system identifier and its database's name.
	 */
	record Origin(String archiveId, String systemIdentifier, String database) {

		/** Whether the manifest was written here: this archive id, this cluster and this database. */
		boolean wrote(Manifest manifest) {
			return Objects.equals(this.archiveId, manifest.archiveId())
					&& Objects.equals(this.systemIdentifier, manifest.systemIdentifier())
					&& Objects.equals(this.database, manifest.database());
		}

		static final String MISSING = "ops.archive_installation has no row (deleted, or a data-only reload?): this installation's archive id is unknown, so no manifest could say whose it is, nor a segment be told ours; nothing written (bin/etl archive list shows the archive ids the segments' manifests name, the newest's first: put this database's back, docs/jobs/archive.md, whose segments)";

		/**
		 * pg_control_system() is executable by every role (PUBLIC) by default. Refused without the id: every
		 * manifest written without it would be "no-origin" for good.
		 */
		static Origin of(JdbcTemplate jdbc) {
			Origin origin = read(jdbc);
			if (origin.archiveId() == null) {
				throw new RefusedException(MISSING);
			}
			return origin;
		}

		/**
		 * Where the manifest says it was written ("database D of cluster C", escaped: one line) when that is
		 * not here (a copy sharing the archive id, or a dump restored elsewhere); null when it is, or when the
		 * manifest does not say.
		 */
		String elsewhere(Manifest manifest) {
			if (manifest.database() == null && manifest.systemIdentifier() == null
					|| Objects.equals(this.database, manifest.database())
							&& Objects.equals(this.systemIdentifier, manifest.systemIdentifier())) {
				return null;
			}
			return OneLine.of("database " + manifest.database() + " of cluster " + manifest.systemIdentifier());
		}

		/** The installation as it is, its archive id null when ops.archive_installation has no row. */
		static Origin read(JdbcTemplate jdbc) {
			return jdbc.queryForObject("""
					SELECT (SELECT archive_id::text FROM ops.archive_installation), system_identifier::text,
					       current_database() FROM pg_control_system()
					""", (rs, i) -> new Origin(rs.getString(1), rs.getString(2), rs.getString(3)));
		}

	}

	/** Whose a manifest says it is. */
	enum Whose {

		/** This installation's: its archive id is this one's. */
		OURS,

		/** Another installation's (or this one's before it took a new archive id). */
		OTHER,

		/** Written before manifests named their installation: it does not say. */
		UNKNOWN,

		/** This installation's archive id is unknown (ops.archive_installation has no row): it cannot be told. */
		UNKNOWN_HERE

	}

	/** Whose this manifest says it is, by its archive id alone. */
	Whose whose(Origin origin) {
		if (origin.archiveId() == null) {
			return Whose.UNKNOWN_HERE;
		}
		if (this.archiveId == null) {
			return Whose.UNKNOWN;
		}
		return this.archiveId.equals(origin.archiveId()) ? Whose.OURS : Whose.OTHER;
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
