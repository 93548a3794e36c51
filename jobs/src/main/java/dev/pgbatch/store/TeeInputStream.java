package dev.pgbatch.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Hands what is read to a second stream as well. */
public final class TeeInputStream extends FilterInputStream {

	private final OutputStream copy;

	public TeeInputStream(InputStream in, OutputStream copy) {
		super(in);
		this.copy = copy;
	}

	@Override
	public int read() throws IOException {
		int b = super.read();
		if (b >= 0) {
			this.copy.write(b);
		}
		return b;
	}

	@Override
	public int read(byte[] buffer, int offset, int length) throws IOException {
		int n = super.read(buffer, offset, length);
		if (n > 0) {
			this.copy.write(buffer, offset, n);
		}
		return n;
	}

}
