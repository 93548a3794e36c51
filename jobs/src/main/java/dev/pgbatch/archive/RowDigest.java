package dev.pgbatch.archive;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Passes bytes on while taking their SHA-256, their count and, for COPY text, their rows (one line each:
 * COPY escapes the newlines inside values).
 */
final class RowDigest extends FilterOutputStream {

	private final MessageDigest sha256;

	private long bytes;

	private long rows;

	RowDigest(OutputStream out) {
		super(out);
		try {
			this.sha256 = MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	@Override
	public void write(int b) throws IOException {
		this.out.write(b);
		take(new byte[] { (byte) b }, 0, 1);
	}

	@Override
	public void write(byte[] buffer, int offset, int length) throws IOException {
		this.out.write(buffer, offset, length);
		take(buffer, offset, length);
	}

	private void take(byte[] buffer, int offset, int length) {
		this.sha256.update(buffer, offset, length);
		this.bytes += length;
		for (int i = offset; i < offset + length; i++) {
			if (buffer[i] == '\n') {
				this.rows++;
			}
		}
	}

	long bytes() {
		return this.bytes;
	}

	long rows() {
		return this.rows;
	}

	String sha256() {
		return HexFormat.of().formatHex(this.sha256.digest());
	}

}
