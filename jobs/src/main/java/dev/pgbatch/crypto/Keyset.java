package dev.pgbatch.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Set;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.streamingaead.StreamingAeadConfig;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.UsageException;

/**
 * The keys that encrypt backups and cold archives: a Tink keyset (JSON) in one file, readable by its owner
 * only. Streaming AEAD, AES256-GCM-HKDF in 4 KB segments: every segment is authenticated, so a changed,
 * cut or reordered byte fails decryption. 4 KB rather than 1 MB: a run is one short-lived JVM, and the JIT
 * compiles GCM onto the CPU's AES and carry-less multiply instructions only after some thousands of
 * segments; with 1 MB segments a 33 MB backup was encrypted by interpreted Java (1.1 s against 0.44 s, the
 * tags cost 0.4% in size). Keys made before with 1 MB segments still work. Rotation adds a primary key and keeps the old ones, so what
 * was encrypted before still decrypts. Key material is never printed: only key ids are. A keyset file that
 * other users may open is refused, as ssh refuses such a private key.
 */
public final class Keyset {

	static final String KEY_TYPE = "AES256_GCM_HKDF_4KB";

	static final String EXISTS = "%s already holds a keyset; it is never overwritten ('bin/etl keys rotate' adds a key)";

	static final String MISSING = "there is no keyset at %s (ETL_BACKUP_KEYSET names the file): to read earlier backups"
			+ " and archives, bring its safe copy back there (a new keyset reads none of them); before a first backup,"
			+ " create one with 'bin/etl keys init'";

	static final String UNREADABLE = "%s is not a usable keyset: %s";

	static final String OPEN_TO_OTHERS = "%s is open to other users (mode %s): a keyset must be readable by its owner"
			+ " only; run chmod 600 %s";

	private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

	/** Directories made for a keyset: a file's mode is not all that hides it, its name and siblings too. */
	private static final Set<PosixFilePermission> PRIVATE_DIRECTORY = PosixFilePermissions.fromString("rwx------");

	static {
		try {
			StreamingAeadConfig.register();
		}
		catch (GeneralSecurityException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private final KeysetHandle handle;

	private final StreamingAead aead;

	private Keyset(KeysetHandle handle) throws GeneralSecurityException {
		this.handle = handle;
		this.aead = handle.getPrimitive(com.google.crypto.tink.RegistryConfiguration.get(), StreamingAead.class);
	}

	/** A new keyset with one key, written to {@code file}; refused when the file exists. */
	public static Keyset init(Path file) {
		if (Files.exists(file)) {
			throw new RefusedException(String.format(EXISTS, file));
		}
		try {
			Keyset keyset = new Keyset(KeysetHandle.newBuilder()
				.addEntry(KeysetHandle.generateEntryFromParametersName(KEY_TYPE).withRandomId().makePrimary())
				.build());
			keyset.write(file, false);
			return keyset;
		}
		catch (GeneralSecurityException ex) {
			throw new IllegalStateException("cannot make a key: " + ex.getMessage(), ex);
		}
	}

	/** The keyset in {@code file}; refused when the file is missing, open to others, or not a keyset. */
	public static Keyset load(Path file) {
		String json;
		try {
			Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
			if (!OWNER_ONLY.containsAll(mode)) {
				throw new UsageException(String.format(OPEN_TO_OTHERS, file, PosixFilePermissions.toString(mode), file));
			}
			json = Files.readString(file, StandardCharsets.UTF_8);
		}
		catch (NoSuchFileException ex) {
			throw new RefusedException(String.format(MISSING, file));
		}
		catch (IOException ex) {
			throw new RefusedException(String.format(UNREADABLE, file, ex.getClass().getSimpleName()));
		}
		try {
			return new Keyset(TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get()));
		}
		catch (GeneralSecurityException | RuntimeException ex) {
			// the parser's message may quote the file: never print key material
			throw new RefusedException(String.format(UNREADABLE, file, "not a Tink JSON keyset"));
		}
	}

	/**
	 * Adds a new primary key to the keyset in {@code file}; the old keys stay for decryption. Under a lock on
	 * a file beside it, held from reading to writing: two rotations at once, in this process or in two, each
	 * add their key, neither loses the other's.
	 */
	public static Keyset rotate(Path file) {
		Path lockFile = file.resolveSibling(file.getFileName() + ".lock");
		// a file lock is held for the whole JVM: threads of one process take turns through the monitor first
		synchronized (Keyset.class) {
			try (FileChannel channel = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
					PosixFilePermissions.asFileAttribute(OWNER_ONLY)); FileLock lock = channel.lock()) {
				Keyset keyset = new Keyset(KeysetHandle.newBuilder(load(file).handle)
					.addEntry(KeysetHandle.generateEntryFromParametersName(KEY_TYPE).withRandomId().makePrimary())
					.build());
				keyset.write(file, true);
				return keyset;
			}
			catch (NoSuchFileException ex) {
				throw new RefusedException(String.format(MISSING, file));
			}
			catch (IOException ex) {
				throw new RefusedException("cannot lock " + lockFile + ": " + ex.getMessage());
			}
			catch (GeneralSecurityException ex) {
				throw new IllegalStateException("cannot make a key: " + ex.getMessage(), ex);
			}
		}
	}

	/** The id of the key new data is encrypted with (recorded in manifests; not secret). */
	public int primaryKeyId() {
		return this.handle.getPrimary().getId();
	}

	/** A key id as people read it: Tink's ids are unsigned 32-bit numbers, which Java's int prints negative. */
	public static String shown(int keyId) {
		return Integer.toUnsignedString(keyId);
	}

	public int size() {
		return this.handle.size();
	}

	/** Encrypts what is written into {@code sink}; {@code associatedData} binds the ciphertext to its name. */
	public OutputStream encrypting(OutputStream sink, byte[] associatedData) throws IOException {
		try {
			return this.aead.newEncryptingStream(sink, associatedData);
		}
		catch (GeneralSecurityException ex) {
			throw new IOException("cannot encrypt: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Decrypts {@code source}; any byte changed, cut or added, another key, or other associated data makes a
	 * read fail with {@link AuthenticationFailedException}; a failure of {@code source} itself is rethrown as
	 * it was.
	 */
	public InputStream decrypting(InputStream source, byte[] associatedData) throws IOException {
		return AuthenticatedInputStream.of(source, ciphertext -> {
			try {
				return this.aead.newDecryptingStream(ciphertext, associatedData);
			}
			catch (GeneralSecurityException ex) {
				throw new AuthenticationFailedException(ex);
			}
		});
	}

	private void write(Path file, boolean replace) throws GeneralSecurityException {
		String json = TinkJsonProtoKeysetFormat.serializeKeyset(this.handle, InsecureSecretKeyAccess.get());
		try {
			Path directory = file.toAbsolutePath().getParent();
			Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PRIVATE_DIRECTORY));
			Path temporary = Files.createTempFile(directory, ".keyset", ".tmp",
					PosixFilePermissions.asFileAttribute(OWNER_ONLY));
			Files.writeString(temporary, json, StandardCharsets.UTF_8);
			if (replace) {
				Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
			}
			else {
				// a link cannot replace an existing file: two inits at once never overwrite each other
				try {
					Files.createLink(file, temporary);
				}
				finally {
					Files.delete(temporary);
				}
			}
		}
		catch (FileAlreadyExistsException ex) {
			throw new RefusedException(String.format(EXISTS, file));
		}
		catch (IOException ex) {
			throw new RefusedException("cannot write the keyset to " + file + ": " + ex.getMessage());
		}
	}

}
