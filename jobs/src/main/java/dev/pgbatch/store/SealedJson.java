package dev.pgbatch.store;

import java.io.IOException;
import java.io.InputStream;

import dev.pgbatch.crypto.Keyset;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Small JSON documents (manifests, verify records) stored sealed like the objects they describe
 * ({@link SealedObjects}: zstd, then Tink streaming AEAD with the document's own key as associated data).
 * A document edited through the S3 API, made with another keyset, or copied under another key fails
 * authentication as it is read, before any field of it is used. Shared by backup and archive manifests.
 */
public final class SealedJson {

	/** Documents are a few KB: more than this is not one of ours, and is not read into memory. */
	private static final int MAX_BYTES = 16 << 20;

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final SealedObjects objects;

	public SealedJson(ObjectStore store, Keyset keys) {
		this.objects = new SealedObjects(store, keys);
	}

	/** Stores {@code value} as JSON, sealed, under {@code key}. */
	public void put(String key, Object value) throws IOException {
		byte[] json = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
		this.objects.put(key, plaintext -> plaintext.write(json));
	}

	/**
	 * The document under {@code key}, authenticated; fails with crypto/AuthenticationFailedException when it
	 * does not authenticate under this key, and with an IOException when it is not the JSON of {@code type}.
	 */
	public <T> T get(String key, Class<T> type) throws IOException {
		byte[] json;
		try (InputStream in = this.objects.open(key)) {
			json = in.readNBytes(MAX_BYTES + 1);
		}
		if (json.length > MAX_BYTES) {
			throw new IOException(key + " is larger than a document of ours");
		}
		try {
			return JSON.readValue(json, type);
		}
		catch (JacksonException ex) {
			// authenticated, so ours, but of another shape (another version): say so without quoting it
			throw new IOException(key + " is not a " + type.getSimpleName() + " this version reads", ex);
		}
	}

}
