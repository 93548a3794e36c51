package dev.pgbatch.store;

import java.time.Clock;

/** The in-memory store keeps the contract the real one keeps. */
class InMemoryObjectStoreTests extends ObjectStoreContract {

	private final ObjectStore store = new InMemoryObjectStore(Clock.systemUTC());

	@Override
	protected ObjectStore store() {
		return this.store;
	}

}
