package dev.pgbatch.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.pgbatch.core.BackgroundThreads;
import dev.pgbatch.core.RefusedException;
import org.postgresql.Driver;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * pg_dump and pg_restore against the server of ETL_DB_URL, with its credentials and parameters. The password goes to the tools in their environment (PGPASSWORD), never on a command
 * line that ps would show.
 */
@Component
class PostgresTools {

	static final String VERSION_MISMATCH = "%s is version %d but the server is %d: use the %d tools (set ETL_PG_BIN to their directory)";

	static final String NOT_FOUND = "cannot run %s: %s (set ETL_PG_BIN to the directory of the PostgreSQL %d tools)";

	static final String FAILED = "%s failed (exit %d): %s";

	static final String NO_TOOL = "%s of PostgreSQL %d is not here (%s): install PostgreSQL %2$d's server programs"
			+ " (Debian's postgresql-%2$d, in /usr/lib/postgresql/%2$d/bin), or set ETL_PG_BIN to a directory of them";

	private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)");

	/** Enough of a tool's error output to say what went wrong, not so much that it floods the log. */
	private static final int STDERR_CHARS = 2000;

	/**
	 * PgJDBC's connection parameters that libpq (pg_dump, pg_restore) knows too, with its environment
	 * variable: the tools connect as the runner's own connections do, with the same TLS demands.
	 */
	private static final Map<String, String> LIBPQ = Map.of("sslmode", "PGSSLMODE", "sslrootcert", "PGSSLROOTCERT",
			"sslcert", "PGSSLCERT", "sslkey", "PGSSLKEY", "options", "PGOPTIONS", "connectTimeout", "PGCONNECT_TIMEOUT",
			"targetServerType", "PGTARGETSESSIONATTRS", "ApplicationName", "PGAPPNAME");

	/** Of this process's environment, what a tool is given (see environment). */
	private static final List<String> INHERITED = List.of("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
			"TMPDIR", "TZ");

	private final Properties parsed;

	private final String host;

	private final String port;

	private final String user;

	private final String password;

	private final BackupProperties properties;

	PostgresTools(@Value("${spring.datasource.url}") String url, @Value("${spring.datasource.username}") String user,
			@Value("${spring.datasource.password:}") String password, BackupProperties properties) {
		Properties parsed = Driver.parseURL(url, null);
		if (parsed == null) {
			throw new IllegalArgumentException("ETL_DB_URL is not a PostgreSQL JDBC URL");
		}
		this.parsed = parsed;
		this.host = parsed.getProperty("PGHOST", "localhost");
		this.port = parsed.getProperty("PGPORT", "5432");
		this.user = user;
		this.password = password;
		this.properties = properties;
	}

	/** The server's major version (15 for 15.10). */
	static int serverMajor(Connection connection) throws SQLException {
		return connection.getMetaData().getDatabaseMajorVersion();
	}

	/**
	 * The full version line of a tool, after checking that its major version is the server's: pg_dump of
	 * another major version refuses to dump or writes what an older pg_restore cannot read.
	 */
	String checkedVersion(String tool, int serverMajor) {
		String line = run(List.of(executable(tool, serverMajor), "--version"), serverMajor).trim();
		Matcher matcher = VERSION.matcher(line);
		int major = matcher.find() ? Integer.parseInt(matcher.group(1)) : -1;
		if (major != serverMajor) {
			throw new RefusedException(String.format(VERSION_MISMATCH, tool, major, serverMajor, serverMajor));
		}
		return line;
	}

	/**
	 * Starts a tool with the connection to {@code database} in its environment. Its error output is read
	 * on the side (a tool blocked on a full stderr pipe would never finish) and kept for the error message.
	 */
	Running start(String tool, int serverMajor, String database, List<String> arguments) throws IOException {
		List<String> command = new ArrayList<>();
		command.add(executable(tool, serverMajor));
		command.addAll(arguments);
		ProcessBuilder builder = withOwnEnvironment(new ProcessBuilder(command));
		Map<String, String> environment = builder.environment();
		environment.put("PGHOST", this.host);
		environment.put("PGPORT", this.port);
		environment.put("PGUSER", this.user);
		environment.put("PGDATABASE", database);
		environment.put("PGPASSWORD", this.password);
		environment.putIfAbsent("PGAPPNAME", "pgbatch");
		Process process = builder.start();
		CompletableFuture<String> errors = BackgroundThreads.start(tool + " stderr", () -> {
			try (InputStream stderr = process.getErrorStream()) {
				String kept = new String(stderr.readNBytes(STDERR_CHARS), StandardCharsets.UTF_8);
				stderr.transferTo(OutputStream.nullOutputStream());
				return kept.trim();
			}
			catch (IOException ex) {
				return "";
			}
		});
		return new Running(tool, process, errors);
	}

	/** A started tool. */
	record Running(String tool, Process process, CompletableFuture<String> errors) {

		/** Waits for the tool and fails with its own words when it did not succeed. */
		void finish() throws IOException {
			int exit;
			try {
				exit = this.process.waitFor();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				this.process.destroyForcibly();
				throw new IOException(this.tool + " was interrupted", ex);
			}
			if (exit != 0) {
				String said = this.errors.join();
				throw new IOException(String.format(FAILED, this.tool, exit, said.isEmpty() ? "no message" : firstLines(said)));
			}
		}

		/** Stops the tool at once (kill -9): what it was doing is not to be finished. */
		void kill() {
			this.process.destroyForcibly();
		}

	}

	private String run(List<String> command, int serverMajor) {
		try {
			Process process = withOwnEnvironment(new ProcessBuilder(command).redirectErrorStream(true)).start();
			String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (process.waitFor() != 0) {
				throw new RefusedException(String.format(NOT_FOUND, command.get(0), out.trim(), serverMajor));
			}
			return out;
		}
		catch (IOException ex) {
			throw new RefusedException(String.format(NOT_FOUND, command.get(0), ex.getMessage(), serverMajor));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new RefusedException(command.get(0) + " was interrupted");
		}
	}

	/** The builder with {@link #environment} only: none of this JVM's other settings and secrets. */
	private ProcessBuilder withOwnEnvironment(ProcessBuilder builder) {
		Map<String, String> own = environment(System.getenv(), this.parsed);
		builder.environment().clear();
		builder.environment().putAll(own);
		return builder;
	}

	/**
	 * The tool of that major version for a cluster of it (a restored one may be older than the server: a restore to
	 * before a pg_upgradecluster), checked by its --version: ETL_PG_BIN's when it is of that version (it names the
	 * server's tools), else /usr/lib/postgresql/MAJOR/bin's (Debian's), else the first on the PATH, as an absolute path
	 * (runuser may run the tool with another PATH). None of them of that version: a MissingTool naming each.
	 */
	String executableOf(String tool, int major) {
		List<String> candidates = new ArrayList<>();
		if (!this.properties.pgBin().isBlank()) {
			candidates.add(Path.of(this.properties.pgBin(), tool).toString());
		}
		candidates.add(Path.of("/usr/lib/postgresql", Integer.toString(major), "bin", tool).toString());
		for (String directory : System.getenv().getOrDefault("PATH", "").split(":")) {
			if (directory.startsWith("/") && Files.isExecutable(Path.of(directory, tool))) {
				candidates.add(Path.of(directory, tool).toString());
				break;
			}
		}
		List<String> tried = new ArrayList<>();
		for (String candidate : candidates) {
			int version = majorOf(candidate);
			if (version == major) {
				return candidate;
			}
			tried.add(candidate + (version < 0 ? " cannot be run" : " is " + version));
		}
		throw new MissingTool(NO_TOOL.formatted(tool, major, String.join(", ", tried)));
	}

	/** The major version a tool's --version says, or -1 when it cannot be run or says none. */
	private int majorOf(String executable) {
		if (!Files.isExecutable(Path.of(executable))) {
			return -1;
		}
		try {
			Process process = withOwnEnvironment(new ProcessBuilder(executable, "--version").redirectErrorStream(true)).start();
			process.getOutputStream().close();
			String out = new String(process.getInputStream().readNBytes(STDERR_CHARS), StandardCharsets.UTF_8);
			if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0) {
				process.destroyForcibly();
				return -1;
			}
			Matcher matcher = VERSION.matcher(out);
			return matcher.find() ? Integer.parseInt(matcher.group(1)) : -1;
		}
		catch (IOException | RuntimeException ex) {
			return -1;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return -1;
		}
	}

	/** No tool of the major version a cluster needs is here ({@link #executableOf}). */
	static final class MissingTool extends IllegalStateException {

		MissingTool(String message) {
			super(message);
		}

	}

	String executable(String tool, int serverMajor) {
		if (!this.properties.pgBin().isBlank()) {
			return Path.of(this.properties.pgBin(), tool).toString();
		}
		Path debian = Path.of("/usr/lib/postgresql", Integer.toString(serverMajor), "bin", tool);
		return Files.isExecutable(debian) ? debian.toString() : tool;
	}

	/**
	 * What a tool gets of this process's environment: only what finding programs, files and messages
	 * needs (PATH, HOME for ~/.postgresql, the locale, TMPDIR), never the other secrets and settings the
	 * JVM was given; plus the libpq variables of ETL_DB_URL's parameters. The connection itself (host,
	 * port, user, database, password) is added by the caller.
	 */
	static Map<String, String> environment(Map<String, String> inherited, Properties parsed) {
		Map<String, String> environment = new java.util.TreeMap<>();
		for (String name : INHERITED) {
			if (inherited.containsKey(name)) {
				environment.put(name, inherited.get(name));
			}
		}
		environment.putAll(libpqEnvironment(parsed));
		return environment;
	}

	/**
	 * The libpq environment for the parameters of a parsed ETL_DB_URL that libpq knows. PgJDBC's ssl=true
	 * (or a bare ssl) without an sslmode means verify-full there, where libpq's default is prefer: it is
	 * passed on as verify-full, with the root certificate of sslrootcert (both default to
	 * ~/.postgresql/root.crt).
	 */
	static Map<String, String> libpqEnvironment(Properties parsed) {
		Map<String, String> environment = new java.util.TreeMap<>();
		String ssl = parsed.getProperty("ssl");
		if (parsed.getProperty("sslmode") == null && ssl != null && (ssl.isEmpty() || ssl.equalsIgnoreCase("true"))) {
			environment.put("PGSSLMODE", "verify-full");
		}
		LIBPQ.forEach((jdbc, libpq) -> {
			String value = parsed.getProperty(jdbc);
			if (value != null) {
				environment.put(libpq, value);
			}
		});
		return environment;
	}

	private static String firstLines(String errors) {
		String[] lines = errors.split("\n");
		return String.join(" / ", List.of(lines).subList(0, Math.min(3, lines.length)));
	}

}
