package dev.pgbatch.store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * An {@link ObjectStore} in memory, for tests of what is built on the store (sealed objects, layouts,
 * retention) without the stack. It passes {@link ObjectStoreContract} like the real one.
 */
public final class InMemoryObjectStore implements ObjectStore {

	private record Stored(byte[] content, Instant lastModified) {
	}

	private final ConcurrentSkipListMap<String, Stored> objects = new ConcurrentSkipListMap<>();

	private final Clock clock;

	public InMemoryObjectStore(Clock clock) {
		this.clock = clock;
	}

	@Override
	public void create(String key, InputStream content, long size) {
		byte[] bytes;
		try {
			bytes = content.readAllBytes();
		}
		catch (IOException ex) {
			// as a failed upload: nothing is stored
			throw new ObjectStoreException("object store: put " + key + " failed: " + ex.getMessage(), ex);
		}
		if (size >= 0 && bytes.length != size) {
			throw new ObjectStoreException("object store: put " + key + " failed: " + bytes.length + " bytes given for " + size, null);
		}
		if (this.objects.putIfAbsent(key, new Stored(bytes, this.clock.instant())) != null) {
			throw new ObjectStoreException(String.format(MinioObjectStore.EXISTS, "memory", key), null);
		}
	}

	@Override
	public InputStream get(String key) {
		Stored stored = this.objects.get(key);
		if (stored == null) {
			throw new ObjectStoreException("object store: get " + key + " failed: no such object", null);
		}
		return new ByteArrayInputStream(stored.content());
	}

	@Override
	public boolean exists(String key) {
		return this.objects.containsKey(key);
	}

	@Override
	public List<StoredObject> list(String prefix) {
		return this.objects.tailMap(prefix)
			.entrySet()
			.stream()
			.takeWhile(entry -> entry.getKey().startsWith(prefix))
			.map(entry -> new StoredObject(entry.getKey(), entry.getValue().content().length,
					entry.getValue().lastModified()))
			.toList();
	}

	@Override
	public void delete(String key) {
		this.objects.remove(key);
	}

}
