package dev.pgbatch.crypto;

import java.io.IOException;

/** Ciphertext that does not authenticate: changed, cut, made with another key, or under another name. */
public class AuthenticationFailedException extends IOException {

	static final String MESSAGE = "authentication failed: the data was changed or cut, or encrypted with a key this"
			+ " keyset does not hold";

	AuthenticationFailedException(Throwable detail) {
		// Tink's reason is kept as suppressed, not as the cause: the command line reports the deepest cause,
		// and Tink's words for a wrong key ("No matching key found ...") are not what the operator needs
		super(MESSAGE);
		addSuppressed(detail);
	}

}
