package dev.pgbatch.crypto;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Tink's decrypting stream, with its failures named for what they are. */
final class AuthenticatedInputStream extends FilterInputStream {

	AuthenticatedInputStream(InputStream decrypting) {
		super(decrypting);
	}

	@Override
	public int read() throws IOException {
		try {
			return super.read();
		}
		catch (AuthenticationFailedException ex) {
			throw ex;
		}
		catch (IOException ex) {
			throw new AuthenticationFailedException(ex);
		}
	}

	@Override
	public int read(byte[] buffer, int offset, int length) throws IOException {
		try {
			return super.read(buffer, offset, length);
		}
		catch (AuthenticationFailedException ex) {
			throw ex;
		}
		catch (IOException ex) {
			throw new AuthenticationFailedException(ex);
		}
	}

}
