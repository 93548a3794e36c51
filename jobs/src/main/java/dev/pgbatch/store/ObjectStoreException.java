package dev.pgbatch.store;

/** The object store refused or could not be reached. The message names the operation and key, never a secret. */
public class ObjectStoreException extends RuntimeException {

	public ObjectStoreException(String message, Throwable cause) {
		super(message, cause);
	}

}
