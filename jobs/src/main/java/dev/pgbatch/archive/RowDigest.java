package dev.pgbatch.archive;

import java.io.OutputStream;

import dev.pgbatch.store.CountingHashingOutputStream;

/**
 * A {@link CountingHashingOutputStream} that also counts rows of COPY text: one line each (COPY escapes the newlines inside
 * values).
 */
final class RowDigest extends CountingHashingOutputStream {

	private long rows;

	RowDigest(OutputStream out) {
		super(out);
	}

	@Override
	protected void taken(byte[] buffer, int offset, int length) {
		for (int i = offset; i < offset + length; i++) {
			if (buffer[i] == '\n') {
				this.rows++;
			}
		}
	}

	long rows() {
		return this.rows;
	}

}
