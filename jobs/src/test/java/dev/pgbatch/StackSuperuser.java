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

	/** The same, in the background: a session that stays while its statement runs (destroy the process to end it). */
	public static Process start(String database, String sql) throws IOException {
		String stack = System.getenv("ETL_STACK_DIR");
		assertThat(stack).as("ETL_STACK_DIR (eval \"$(bin/stack env)\")").isNotBlank();
		return new ProcessBuilder("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", Path.of(stack, "pg", "run").toString(),
				"-p", System.getenv().getOrDefault("ETL_STACK_PG_PORT", "55432"), "-U", "postgres", "-d", database, "-c", sql)
			.redirectErrorStream(true)
			.start();
	}

}
