package dev.pgbatch.crypto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Keysets for tests: each a new one in a temporary directory of its own. */
public final class TestKeysets {

	private TestKeysets() {
	}

	/** The file of a new keyset. */
	public static Path fresh() {
		try {
			Path file = Files.createTempDirectory("pgbatch-keys").resolve("keyset.json");
			Keyset.init(file);
			return file;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
