package dev.pgbatch.core;

/**
 * The request was understood but cannot be carried out now (the job is already running in another
 * process, the execution is complete): the command prints the message and exits 1. Nothing is written.
 */
public class RefusedException extends RuntimeException {

	public RefusedException(String message) {
		super(message);
	}

}
