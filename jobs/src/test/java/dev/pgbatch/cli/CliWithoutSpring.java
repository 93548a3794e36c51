package dev.pgbatch.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs a command that starts no Spring (and needs no database) in this JVM, with its stdout captured. */
final class CliWithoutSpring {

	private CliWithoutSpring() {
	}

	static EtlProcess.Result run(String... arguments) {
		ByteArrayOutputStream stdout = new ByteArrayOutputStream();
		PrintStream out = System.out;
		int exitCode;
		try {
			System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
			exitCode = Cli.execute(arguments);
		}
		finally {
			System.setOut(out);
		}
		return new EtlProcess.Result(exitCode, stdout.toString(StandardCharsets.UTF_8), "");
	}

}
