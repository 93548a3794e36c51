package dev.pgbatch.backup;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import dev.pgbatch.Settings;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.BackgroundThreads;

import org.springframework.stereotype.Component;

/**
 * Runs pgBackRest (ETL_PGBACKREST_BIN, an absolute path: not whatever a PATH entry holds) with the configuration and
 * stanza of ETL_PGBACKREST_CONFIG and _STANZA. Its command line holds no secret: pgBackRest takes its secure options
 * from its configuration file or environment only.
 */
@Component
class PgBackRest {

	static final String NOT_OWNER = "pgBackRest's configuration %s belongs to %s, not to %s who runs this: pgBackRest"
			+ " runs without its log file, and may leave files of %s in its lock and spool directories that later runs"
			+ " as %s (archive_command) cannot write; run this as %s (runuser -u %s -- bin/etl ...)";

	/**
	 * Said after an error whose detail shows an info file or manifest read as garbage: what an encrypted repository
	 * gives with another passphrase (pgBackRest does not say so itself).
	 */
	static final String UNREADABLE = " (it reads as garbage: is repo1-cipher-pass the repository's? Else the file is damaged)";

	/** What starts an error line of pgbackrest's, after the time and process its console log may put first. */
	private static final String ERROR = "ERROR:";

	/**
	 * pgBackRest's details of a file decrypted with a wrong key: its padding refused (CryptoError), or the bytes
	 * parsed as an info file or manifest and not one (FormatError, JsonFormatError); which one depends on the key.
	 */
	private static final Pattern GARBAGE = Pattern.compile("\\b(Crypto|Format|JsonFormat)Error: ");

	/** help reads the configuration only. */
	private static final Duration HELP_TIMEOUT = Duration.ofSeconds(30);

	/** What a run of pgbackrest gave: its exit code (-1 when it did not end in time), its stdout and its stderr. */
	record Result(int exitCode, String stdout, String stderr) {

		boolean timedOut() {
			return this.exitCode == -1;
		}

		/** What a failed run said, on one line: its errors, else its exit code. */
		String failure() {
			List<String> errors = errors();
			return OneLine.of(errors.isEmpty() ? "exit " + this.exitCode : String.join("; ", errors));
		}

		/**
		 * Its ERROR lines from "ERROR:" on, without it, from both streams: its log's errors go to the console (stdout), those of
		 * its options and configuration to stderr whatever the log levels say.
		 */
		List<String> errors() {
			List<String> lines = (this.stdout + "\n" + this.stderr).lines().toList();
			List<String> errors = new ArrayList<>();
			for (int i = 0; i < lines.size(); i++) {
				String line = lines.get(i);
				if (line.contains(ERROR)) {
					// its detail is on the indented lines below; only whether it is garbage is said (it may hold
					// the garbage itself, not one line's worth of text)
					StringBuilder detail = new StringBuilder();
					for (int next = i + 1; next < lines.size() && lines.get(next).startsWith(" "); next++) {
						detail.append(lines.get(next)).append('\n');
					}
					String error = line.substring(line.indexOf(ERROR) + ERROR.length()).strip();
					String hint = hint(detail.toString());
					errors.add((hint.isEmpty() || !error.endsWith(":") ? error : error.substring(0, error.length() - 1))
							+ hint);
				}
			}
			return errors;
		}

	}

	/**
	 * A failure pgBackRest reported, said in full by its message: without a stack trace, which Spring Batch would log
	 * with a failed step's exception and which would say nothing more.
	 */
	static final class Failure extends IllegalStateException {

		Failure(String message) {
			super(message);
		}

		@Override
		public synchronized Throwable fillInStackTrace() {
			return this;
		}

	}

	/** {@link #UNREADABLE} when pgBackRest's detail of an error says a file read as garbage, else nothing. */
	static String hint(String detail) {
		return GARBAGE.matcher(detail).find() ? UNREADABLE : "";
	}

	private final PgBackRestProperties properties;

	PgBackRest(PgBackRestProperties properties) {
		this.properties = properties;
	}

	String stanza() {
		return this.properties.stanza();
	}

	String config() {
		return this.properties.config();
	}

	/** ETL_PGBACKREST_BIN: the pgbackrest program, an absolute path. */
	String bin() {
		return this.properties.bin();
	}

	/**
	 * What a physical backup and backup check warn of, one line each: the configuration file another user's
	 * ({@link #ownerWarning}), pgBackRest's variables in this environment that a restore or drill would refuse
	 * ({@link ClusterRestore#REFUSED_BY_RESTORES}): learnt at backup time, not at a restore at 3 a.m.
	 */
	List<String> warnings() {
		List<String> warnings = new ArrayList<>();
		ownerWarning().ifPresent(warnings::add);
		ClusterRestore.unseenByTheReplay(ClusterRestore.REFUSED_BY_RESTORES, config(), Settings.inherited())
			.ifPresent(warnings::add);
		return warnings;
	}

	/**
	 * When the configuration file is another user's (the stack's is postgres's, mode 0600): a warning saying so, since
	 * pgBackRest run by this user creates files in directories the owner uses too (its log file, which a run then goes
	 * without, and the lock files a killed run leaves).
	 */
	Optional<String> ownerWarning() {
		String me = System.getProperty("user.name");
		String owner = owner();
		return owner.equals(me) ? Optional.empty()
				: Optional.of(NOT_OWNER.formatted(this.properties.config(), owner, me, me, owner, owner, owner));
	}

	/**
	 * Who owns the configuration file: the user archive_command runs as, so the one whose files pgBackRest's
	 * directories hold; this user when there is no file named or it cannot be read (whoever reads it says so).
	 */
	String owner() {
		String config = this.properties.config();
		String me = System.getProperty("user.name");
		try {
			return config.isEmpty() ? me : Files.getOwner(Path.of(config)).getName();
		}
		catch (IOException ex) {
			return me;
		}
	}

	/**
	 * Runs {@code pgbackrest --config=... --stanza=... OPTIONS COMMAND} and waits for it at most {@code timeout}; on a
	 * timeout it and every process it started (process-max's workers) are killed.
	 */
	Result run(Duration timeout, String command, String... options) throws IOException, InterruptedException {
		return run(timeout, command, List.of(), options);
	}

	/** {@link #run(Duration, String, String...)} with the command's parameters after it (repo-ls PATH). */
	Result run(Duration timeout, String command, List<String> parameters, String... options)
			throws IOException, InterruptedException {
		Read<String> read = runReading(timeout, command, parameters, PgBackRest::read, options);
		return new Result(read.result().exitCode(), read.read() == null ? "" : read.read(), read.result().stderr());
	}

	/** What a run's stdout is read with; it may stop before its end (the first bytes of a WAL segment). */
	@FunctionalInterface
	interface StdoutReader<T> {

		T read(InputStream stdout) throws IOException;

	}

	/**
	 * A run whose stdout was read by a {@link StdoutReader}: what it read (null when it timed out, or when it failed
	 * and so did its reader), and the run's Result, its stdout empty.
	 */
	record Read<T>(Result result, T read) {
	}

	/**
	 * {@link #run(Duration, String, List, String...)} with stdout given to {@code reader} as it comes, never held
	 * whole (repo-get of a segment of up to 1 GB, of which 40 bytes are read). When the reader stops before the end
	 * while pgbackrest still runs, pgbackrest is killed, and its exit code (of the kill) is taken for 0: only then
	 * is it ignored. A reader that fails is the run's failure when pgbackrest failed too (its errors say why its
	 * output was short or wrong); else its IOException is thrown.
	 */
	<T> Read<T> runReading(Duration timeout, String command, List<String> parameters, StdoutReader<T> reader,
			String... options) throws IOException, InterruptedException {
		List<String> line = new ArrayList<>(List.of(this.properties.bin()));
		if (!this.properties.config().isEmpty()) {
			line.add("--config=" + this.properties.config());
		}
		line.add("--stanza=" + stanza());
		if (ownerWarning().isPresent()) {
			// no log file of this user's in the owner's log directory: the owner's later runs could not open it
			line.add("--log-level-file=off");
		}
		line.addAll(List.of(options));
		line.add(command);
		line.addAll(parameters);
		long deadline = System.nanoTime() + timeout.toNanos();
		Process process = CleanUpOnExit.start(new ProcessBuilder(line));
		process.getOutputStream().close();
		EndSeen stdout = new EndSeen(process.getInputStream());
		CompletableFuture<T> reading = BackgroundThreads.start("pgbackrest " + command + " stdout", () -> reader.read(stdout));
		CompletableFuture<String> stderr = BackgroundThreads.start("pgbackrest " + command + " stderr",
				() -> read(process.getErrorStream()));
		try (InputStream pipe = process.getInputStream()) {
			try {
				reading.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
			}
			catch (TimeoutException ex) {
				kill(process);
				return new Read<>(new Result(-1, "", ""), null);
			}
			catch (ExecutionException ex) {
				// the reader failed: told below, once pgbackrest's exit says whether it failed first
			}
			boolean cutShort = !stdout.ended() && process.isAlive();
			if (cutShort) {
				// read enough: the rest of its output is not wanted
				kill(process);
			}
			else if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
				kill(process);
				return new Read<>(new Result(-1, "", ""), null);
			}
			int exitCode = cutShort ? 0 : process.exitValue();
			Result result = new Result(exitCode, "", BackgroundThreads.joined(stderr));
			if (reading.isCompletedExceptionally() && exitCode != 0) {
				return new Read<>(result, null);
			}
			// a failed run's output too: its errors are on it
			return new Read<>(result, BackgroundThreads.joined(reading));
		}
		catch (InterruptedException ex) {
			kill(process);
			throw ex;
		}
	}

	/**
	 * Kills a run and every process it started (process-max's workers). Through its handle: Process.destroyForcibly
	 * also closes the pipes under the threads reading them, whose read then fails ("Stream closed") instead of
	 * ending with what the run wrote.
	 */
	private static void kill(Process process) {
		// (the descendants are listed before the parent is killed: once it is gone, its children are init's)
		List<ProcessHandle> descendants = process.descendants().toList();
		process.toHandle().destroyForcibly();
		descendants.forEach(ProcessHandle::destroyForcibly);
	}

	/**
	 * A run's stdout as its reader gets it: it tells whether its end was read (a reader that stopped before cut the
	 * run short), and the reader's close (of a decompressor on it) leaves it open: the run closes it once
	 * pgbackrest's exit is known, as pgbackrest would fail writing into a pipe closed under it.
	 */
	private static final class EndSeen extends FilterInputStream {

		private volatile boolean ended;

		EndSeen(InputStream in) {
			super(in);
		}

		boolean ended() {
			return this.ended;
		}

		@Override
		public int read() throws IOException {
			int read = super.read();
			this.ended |= read < 0;
			return read;
		}

		@Override
		public int read(byte[] buffer, int offset, int length) throws IOException {
			int read = super.read(buffer, offset, length);
			this.ended |= read < 0;
			return read;
		}

		@Override
		public void close() {
		}

	}

	/**
	 * The value pgBackRest gives {@code option} for {@code command} (`help COMMAND OPTION`: its configuration's,
	 * includes and defaults applied), or empty when it has none or cannot say.
	 */
	Optional<String> option(String command, String option) throws IOException, InterruptedException {
		Result help = run(HELP_TIMEOUT, "help", List.of(command, option));
		if (help.exitCode() != 0) {
			return Optional.empty();
		}
		Optional<String> current = valueOf(help.stdout(), "current: ");
		return current.isPresent() ? current : valueOf(help.stdout(), "default: ");
	}

	private static Optional<String> valueOf(String help, String label) {
		return help.lines().filter(line -> line.startsWith(label)).map(line -> line.substring(label.length()).strip()).findFirst();
	}

	private static String read(InputStream stream) throws IOException {
		return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
	}

}
