package dev.pgbatch.core;

/**
 * Bad usage or bad parameters: the command prints the message as one line and exits 2.
 * Thrown before anything is written.
 */
public class UsageException extends RuntimeException {

	public UsageException(String message) {
		super(message);
	}

}
