package dev.pgbatch.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.pgbatch.RestoreTurns;
import dev.pgbatch.TestDatabase;

/** bin/etl as an operator runs it: a separate process, aimed at the test database. */
public final class EtlProcess {

	private static final Path ETL = Path.of("..", "bin", "etl").toAbsolutePath().normalize();

	private static boolean runnerReady;

	private final Process process;

	private final Path stdout;

	private final Path stderr;

	private EtlProcess(Process process, Path stdout, Path stderr) {
		this.process = process;
		this.stdout = stdout;
		this.stderr = stderr;
	}

	/** Runs bin/etl to its end. */
	public static Result run(String... arguments) throws IOException, InterruptedException {
		return start(Map.of(), arguments).await();
	}

	/** Starts bin/etl in the background, with extra environment variables. */
	public static EtlProcess start(Map<String, String> environment, String... arguments) throws IOException {
		return start(ETL, null, environment, List.of(), arguments);
	}

	/** Starts another copy of bin/etl ({@code etl}, in a project of its own) in the background. */
	public static EtlProcess start(Path etl, Map<String, String> environment, String... arguments) throws IOException {
		return start(etl, null, environment, List.of(), arguments);
	}

	/** Runs bin/etl to its end in {@code directory}, with extra environment variables and without {@code unset}. */
	public static Result runIn(Path directory, Map<String, String> environment, List<String> unset, String... arguments)
			throws IOException, InterruptedException {
		return start(ETL, directory, environment, unset, arguments).await();
	}

	private static EtlProcess start(Path etl, Path directory, Map<String, String> environment, List<String> unset,
			String... arguments) throws IOException {
		prepareTheRunner();
		List<String> command = new ArrayList<>();
		command.add(etl.toString());
		command.addAll(List.of(arguments));
		Path out = Files.createTempFile("etl-out", ".txt");
		Path err = Files.createTempFile("etl-err", ".txt");
		ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile())
			.redirectError(err.toFile())
			.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
		builder.environment().putAll(TestDatabase.processEnvironment());
		builder.environment().remove("ETL_JAVA_OPTS");
		builder.environment().putAll(environment);
		builder.environment().keySet().removeAll(unset);
		if (directory != null) {
			builder.directory(directory.toFile());
		}
		RestoreTurns.Turn turn = RestoreTurns.take(List.of(arguments));
		Process process;
		try {
			process = builder.start();
		}
		catch (IOException | RuntimeException ex) {
			turn.close();
			throw ex;
		}
		process.onExit().thenRun(turn::close);
		return new EtlProcess(process, out, err);
	}

	/**
	 * The first bin/etl of a build unpacks the runner and trains its class archive (a minute on a busy machine):
	 * done here once, before any test's process starts, so that no test's waits include it.
	 */
	private static synchronized void prepareTheRunner() throws IOException {
		if (runnerReady) {
			return;
		}
		// aimed at the test class's database: the training run reads its executions
		ProcessBuilder builder = new ProcessBuilder(ETL.toString(), "--help").redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.DISCARD);
		builder.environment().putAll(TestDatabase.processEnvironment());
		builder.environment().remove("ETL_JAVA_OPTS");
		Process help = builder.start();
		try {
			if (!help.waitFor(10, TimeUnit.MINUTES) || help.exitValue() != 0) {
				help.destroyForcibly();
				throw new IllegalStateException("bin/etl --help did not prepare the runner");
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
		runnerReady = true;
	}

	public Result await() throws IOException, InterruptedException {
		if (!this.process.waitFor(5, TimeUnit.MINUTES)) {
			this.process.destroyForcibly();
			throw new IllegalStateException("bin/etl did not end within 5 minutes");
		}
		return new Result(this.process.exitValue(), Files.readString(this.stdout, StandardCharsets.UTF_8),
				Files.readString(this.stderr, StandardCharsets.UTF_8));
	}

	/** SIGTERM, as a service manager stops a daemon, then waits for the process to end. */
	public Result terminate() throws IOException, InterruptedException {
		this.process.destroy();
		return await();
	}

	/** Ctrl-C on a terminal: SIGINT to the process and its children (the foreground group), then waits for its end. */
	public Result interruptFromTheTerminal() throws IOException, InterruptedException {
		signal("INT");
		return await();
	}

	/** What the process has written to stderr so far. */
	public String stderrSoFar() throws IOException {
		return Files.readString(this.stderr, StandardCharsets.UTF_8);
	}

	/** The processes it started, and theirs. */
	public java.util.stream.Stream<ProcessHandle> descendants() {
		return this.process.descendants();
	}

	public boolean isAlive() {
		return this.process.isAlive();
	}

	/** The process's JVM once bin/etl has replaced itself with it, as the system shows it (its command line). */
	public ProcessHandle.Info info() {
		return this.process.info();
	}

	/**
	 * SIGSTOP: the process and its children of its process group hang on, sessions and locks included, as a node that
	 * is slow but alive.
	 */
	public void pause() throws IOException, InterruptedException {
		signal("STOP");
	}

	/** SIGCONT: a paused process goes on where it was. */
	public void resume() throws IOException, InterruptedException {
		signal("CONT");
	}

	private void signal(String name) throws IOException, InterruptedException {
		List<String> command = new ArrayList<>(List.of("kill", "-" + name, Long.toString(this.process.pid())));
		// as a terminal does: its process group only, not a child that made a session of its own (postgres, which
		// pg_ctl starts with setsid, is not stopped by a Ctrl-C meant for bin/etl)
		long group = processGroup(this.process.pid());
		this.process.descendants()
			.filter(child -> processGroup(child.pid()) == group)
			.forEach(child -> command.add(Long.toString(child.pid())));
		Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
		String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		// a child that ended between the listing and the kill is no failure
		if (kill.waitFor() != 0 && !said.lines().allMatch(line -> line.contains("No such process"))) {
			throw new IllegalStateException(String.join(" ", command) + ": " + said);
		}
	}

	/** A process's group (the fifth field of /proc/PID/stat), or -1 once it has ended. */
	private static long processGroup(long pid) {
		try {
			// bytes as they are: a command name need not be UTF-8
			String stat = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "stat")),
					StandardCharsets.ISO_8859_1);
			return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[2]);
		}
		catch (IOException ex) {
			return -1;
		}
	}

	/** kill -9: no shutdown hook, no rollback on the client's side, as when the machine loses power. */
	public void kill() throws InterruptedException {
		this.process.destroyForcibly();
		this.process.waitFor();
	}

	/** What a bin/etl process printed, and how it ended. */
	public record Result(int exitCode, String stdout, String stderr) {
	}

}
