package dev.pgbatch.crypto;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Tink's decrypting stream, with its failures named for what they are: when the ciphertext's own source
 * failed (the network, the disk), that failure as it was; otherwise the ciphertext did not authenticate.
 * Tink cannot tell them apart: a source that fails on the first read makes it report "No matching key".
 */
final class AuthenticatedInputStream extends FilterInputStream {

	private final Source source;

	private AuthenticatedInputStream(InputStream decrypting, Source source) {
		super(decrypting);
		this.source = source;
	}

	/** {@code decrypting} made by {@code decrypter} over {@code ciphertext}, with its failures named. */
	static InputStream of(InputStream ciphertext, Decrypter decrypter) throws IOException {
		Source source = new Source(ciphertext);
		return new AuthenticatedInputStream(decrypter.decrypting(source), source);
	}

	/** Makes the decrypting stream over the ciphertext it is given. */
	@FunctionalInterface
	interface Decrypter {

		InputStream decrypting(InputStream ciphertext) throws IOException;

	}

	@Override
	public int read() throws IOException {
		try {
			return super.read();
		}
		catch (IOException ex) {
			throw named(ex);
		}
	}

	@Override
	public int read(byte[] buffer, int offset, int length) throws IOException {
		try {
			return super.read(buffer, offset, length);
		}
		catch (IOException ex) {
			throw named(ex);
		}
	}

	private IOException named(IOException ex) {
		return this.source.failure != null ? this.source.failure : new AuthenticationFailedException(ex);
	}

	/** The ciphertext's source, keeping its first failure. */
	private static final class Source extends FilterInputStream {

		private volatile IOException failure;

		Source(InputStream in) {
			super(in);
		}

		@Override
		public int read() throws IOException {
			try {
				return super.read();
			}
			catch (IOException ex) {
				throw kept(ex);
			}
		}

		@Override
		public int read(byte[] buffer, int offset, int length) throws IOException {
			try {
				return super.read(buffer, offset, length);
			}
			catch (IOException ex) {
				throw kept(ex);
			}
		}

		private IOException kept(IOException ex) {
			if (this.failure == null) {
				this.failure = ex;
			}
			return ex;
		}

	}

}
