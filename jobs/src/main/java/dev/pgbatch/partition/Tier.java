package dev.pgbatch.partition;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Where a partition of a managed table belongs by its age: hot (the default tablespace), warm (the warm
 * tablespace), cold (exported to the object store and dropped). {@link #text()} is the word ops.archive_log's
 * tier and source_tier columns, the manifests and the outputs hold.
 */
public enum Tier {

	HOT, WARM, COLD;

	@JsonValue
	public String text() {
		return name().toLowerCase(java.util.Locale.ROOT);
	}

	/** The tier of that word, or null for null (a row recorded before the word was). */
	public static Tier of(String text) {
		return (text == null) ? null : valueOf(text.toUpperCase(java.util.Locale.ROOT));
	}

}
