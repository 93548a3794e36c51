package dev.pgbatch.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import dev.pgbatch.RestoreTurns;
import dev.pgbatch.TestDatabase;

/**
 * bin/etl's entry point ({@link Cli#execute}) called in the test's own JVM, aimed at the test class's database,
 * with its stdout and stderr captured: for tests of what a command prints and returns, where a separate process
 * (some 3 s to start) is not the point. Settings are given as system properties, which the runner reads before
 * the environment (Settings, and every property through core/SystemPropertiesFirst), and taken back afterwards.
 * Tests of the launcher itself, of kills and signals use {@link EtlProcess}.
 */
public final class EtlInProcess {

	private EtlInProcess() {
	}

	public static EtlProcess.Result run(String... arguments) {
		return run(Map.of(), arguments);
	}

	/** One command to its end, with settings that replace the environment's of the same name. */
	public static synchronized EtlProcess.Result run(Map<String, String> settings, String... arguments) {
		PrintStream out = System.out;
		PrintStream err = System.err;
		ByteArrayOutputStream stdout = new ByteArrayOutputStream();
		ByteArrayOutputStream stderr = new ByteArrayOutputStream();
		try (RestoreTurns.Turn turn = RestoreTurns.take(List.of(arguments))) {
			System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
			System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
			int exitCode = with(settings, () -> Cli.execute(arguments));
			System.out.flush();
			System.err.flush();
			return new EtlProcess.Result(exitCode, stdout.toString(StandardCharsets.UTF_8),
					stderr.toString(StandardCharsets.UTF_8));
		}
		finally {
			System.setOut(out);
			System.setErr(err);
		}
	}

	/** {@code work}'s result, with the settings a command gets from {@link #run(Map, String...)}. */
	public static synchronized <T> T with(Map<String, String> settings, Supplier<T> work) {
		Map<String, String> given = new HashMap<>(settings);
		// asked only when not given: TestDatabase.url() makes the class's database
		given.computeIfAbsent("ETL_DB_URL", name -> TestDatabase.url());
		Map<String, String> before = new HashMap<>();
		given.keySet().forEach(name -> before.put(name, System.getProperty(name)));
		try {
			given.forEach(System::setProperty);
			return work.get();
		}
		finally {
			before.forEach((name, value) -> {
				if (value == null) {
					System.clearProperty(name);
				}
				else {
					System.setProperty(name, value);
				}
			});
		}
	}

}
