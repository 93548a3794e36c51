package dev.pgbatch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SQL as the stack's superuser (postgres, over the stack's unix socket, as bin/stack itself runs it), for a test
 * that needs roles the runner's role may not make (it has no CREATEROLE).
 */
public final class StackSuperuser {

	private StackSuperuser() {
	}

	public static void execute(String database, String sql) throws IOException, InterruptedException {
		Process psql = start(database, sql);
		String output = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(psql.waitFor()).as("psql as postgres: " + output).isZero();
	}

	/** The one value the query returns, as psql -At prints it. */
	public static String query(String database, String sql) throws IOException, InterruptedException {
		Process psql = start(database, sql, "-At");
		String output = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(psql.waitFor()).as("psql as postgres: " + output).isZero();
		return output.strip();
	}

	/** The same, in the background: a session that stays while its statement runs (destroy the process to end it). */
	public static Process start(String database, String sql) throws IOException {
		return start(database, sql, "-q");
	}

	private static Process start(String database, String sql, String format) throws IOException {
		String stack = System.getenv("ETL_STACK_DIR");
		assertThat(stack).as("ETL_STACK_DIR (eval \"$(bin/stack env)\")").isNotBlank();
		return new ProcessBuilder("psql", "-X", format, "-v", "ON_ERROR_STOP=1", "-h", Path.of(stack, "pg", "run").toString(),
				"-p", System.getenv().getOrDefault("ETL_STACK_PG_PORT", "55432"), "-U", "postgres", "-d", database, "-c", sql)
			.redirectErrorStream(true)
			.start();
	}

}
