package dev.pgbatch.archive;

import java.util.UUID;

import dev.pgbatch.core.OneLine;

/**
 * The keys of the cold step's objects in the store, made and taken apart here only:
 * {@code PREFIX/TABLE/PARTITION/SEGMENT.copy.zst.tink} for a segment's rows, the segment being its export's
 * archive_log id, and beside it {@code SEGMENT.manifest.zst.tink} for its sealed manifest. An interval exported
 * again (rows that came late, a restored partition archived anew) gets a new segment beside the earlier ones,
 * never their keys.
 */
final class ColdObjectKeys {

	/** How the key of a segment's object ends. */
	private static final String OBJECT = ".copy.zst.tink";

	/** How the key of a segment's sealed manifest ends. */
	private static final String MANIFEST = ".manifest.zst.tink";

	private ColdObjectKeys() {
	}

	/** The folder of a table's cold objects: every segment of it is under it, whatever its layout. */
	static String folder(String prefix, String table) {
		return prefix + "/" + table + "/";
	}

	/** The folder of one partition's segments. */
	static String folder(String prefix, String table, String partition) {
		return folder(prefix, table) + partition + "/";
	}

	/** The key of a segment's object. */
	static String object(String prefix, String table, String partition, UUID segment) {
		return folder(prefix, table, partition) + segment + OBJECT;
	}

	/** Whether a key is of a segment's object. */
	static boolean isObject(String key) {
		return key.endsWith(OBJECT);
	}

	/** Whether a key is of a segment's sealed manifest. */
	static boolean isManifest(String key) {
		return key.endsWith(MANIFEST);
	}

	/** The key of the manifest beside a segment's object (cut at the suffix: the prefix may hold the same text). */
	static String manifestOf(String objectKey) {
		if (!isObject(objectKey)) {
			throw new IllegalArgumentException("not the key of a cold segment's object: " + OneLine.of(objectKey));
		}
		return objectKey.substring(0, objectKey.length() - OBJECT.length()) + MANIFEST;
	}

	/** The key of the object beside a segment's manifest. */
	static String objectOf(String manifestKey) {
		return manifestKey.substring(0, manifestKey.length() - MANIFEST.length()) + OBJECT;
	}

	/** The segment id in a key of the current layout (see the class), as text. */
	static String segmentOf(String objectKey) {
		return objectKey.substring(objectKey.lastIndexOf('/') + 1, objectKey.length() - OBJECT.length());
	}

}
