package dev.pgbatch.crypto;

import java.io.IOException;

/** Ciphertext that does not authenticate: changed, cut, made with another key, or under another name. */
public class AuthenticationFailedException extends IOException {

	static final String MESSAGE = "authentication failed: the data was changed or cut, or encrypted with a key this"
			+ " keyset does not hold";

	AuthenticationFailedException(Throwable cause) {
		super(MESSAGE, cause);
	}

}
