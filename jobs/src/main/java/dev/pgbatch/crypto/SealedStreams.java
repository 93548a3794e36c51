package dev.pgbatch.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;

/**
 * What backup and archive write to the object store: zstd, then authenticated encryption, as streams, so no
 * plaintext or whole-object temporary file ever exists and memory stays flat whatever the size.
 */
public final class SealedStreams {

	/** zstd's default: most of the ratio at a fraction of the higher levels' time. */
	private static final int LEVEL = 3;

	private SealedStreams() {
	}

	/** Bytes written here reach {@code sink} compressed and encrypted; close it to finish the object. */
	public static OutputStream seal(OutputStream sink, Keyset keys, byte[] associatedData) throws IOException {
		return compressing(keys.encrypting(sink, associatedData));
	}

	/** The compression half of {@link #seal}, for writers that look at the bytes between the halves. */
	public static OutputStream compressing(OutputStream sink) throws IOException {
		return new ZstdOutputStream(sink, LEVEL);
	}

	/** The plaintext of a sealed object; reading fails with {@link AuthenticationFailedException} if it is not. */
	public static InputStream open(InputStream source, Keyset keys, byte[] associatedData) throws IOException {
		return new ZstdInputStream(keys.decrypting(source, associatedData));
	}

}
