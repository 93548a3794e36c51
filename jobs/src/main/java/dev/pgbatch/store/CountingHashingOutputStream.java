package dev.pgbatch.store;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Passes bytes on while counting them and, unless told not to, taking their SHA-256. */
public class CountingHashingOutputStream extends FilterOutputStream {

	private final MessageDigest sha256;

	private long bytes;

	private String hex;

	public CountingHashingOutputStream(OutputStream out) {
		this(out, true);
	}

	/** A stream that only counts when {@code hash} is false: hashing costs about a core-second per 300 MB. */
	public CountingHashingOutputStream(OutputStream out, boolean hash) {
		super(out);
		try {
			this.sha256 = hash ? MessageDigest.getInstance("SHA-256") : null;
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	@Override
	public void write(int b) throws IOException {
		write(new byte[] { (byte) b }, 0, 1);
	}

	@Override
	public void write(byte[] buffer, int offset, int length) throws IOException {
		this.out.write(buffer, offset, length);
		if (this.sha256 != null) {
			this.sha256.update(buffer, offset, length);
		}
		this.bytes += length;
		taken(buffer, offset, length);
	}

	/** For subclasses that look at the bytes too. */
	protected void taken(byte[] buffer, int offset, int length) {
	}

	public long bytes() {
		return this.bytes;
	}

	/** The SHA-256 of everything written, in hex: taken at the first call, so call it at the end. */
	public String sha256() {
		if (this.sha256 == null) {
			throw new IllegalStateException("this stream only counts");
		}
		if (this.hex == null) {
			this.hex = HexFormat.of().formatHex(this.sha256.digest());
		}
		return this.hex;
	}

}
