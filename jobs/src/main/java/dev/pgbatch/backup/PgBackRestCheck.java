package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.stereotype.Component;

/**
 * bin/etl backup check: what WAL archiving through pgBackRest needs, on the server of ETL_DB_URL (its settings, read
 * as the runner) and then end to end (pgBackRest's own check: a WAL switch archived into the repository). Each thing
 * missing is one line; none is a pass.
 */
@Component
public class PgBackRestCheck {

	static final String WAL_LEVEL = "wal_level is %s: set wal_level = replica (a restart)";

	static final String ARCHIVE_MODE = "archive_mode is off: set archive_mode = on (a restart)";

	static final String ARCHIVE_COMMAND = "archive_command does not push to stanza %s through pgBackRest (%s): set"
			+ " archive_command = 'pgbackrest --stanza=%s archive-push %%p' (a reload)";

	static final String NO_CONFIG = "pgBackRest's configuration %s (ETL_PGBACKREST_CONFIG) cannot be read";

	static final String NOT_INSTALLED = "pgbackrest cannot be run (%s): install it on this host (Debian: pgbackrest) or set ETL_PGBACKREST_BIN";

	static final String CHECK_FAILED = "pgbackrest check failed: %s";

	static final String CHECK_TIMED_OUT = "pgbackrest check did not end within %d s";

	/** pgBackRest's check waits for the WAL segment it switched to reach the repository: 60 s by default. */
	private static final Duration TIMEOUT = Duration.ofSeconds(180);

	private final PgBackRest pgBackRest;

	private final JdbcTemplate jdbc;

	PgBackRestCheck(PgBackRest pgBackRest, JdbcTemplate jdbc) {
		this.pgBackRest = pgBackRest;
		this.jdbc = jdbc;
	}

	public String stanza() {
		return this.pgBackRest.stanza();
	}

	/** What to warn of, one line each ({@link PgBackRest#warnings()}). */
	public List<String> warnings() {
		return this.pgBackRest.warnings();
	}

	/** What is missing, one line each; empty when WAL archiving into the stanza's repository works. */
	public List<String> problems() throws InterruptedException {
		List<String> problems = new ArrayList<>(serverProblems());
		String config = this.pgBackRest.config();
		if (!config.isEmpty() && !Files.isReadable(Path.of(config))) {
			problems.add(NO_CONFIG.formatted(config));
			return problems;
		}
		problems.addAll(runCheck());
		return problems;
	}

	private List<String> serverProblems() {
		Map<String, String> settings = new HashMap<>();
		this.jdbc.query("SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'archive_mode', 'archive_command',"
				+ " 'archive_library')",
				(RowCallbackHandler) row -> settings.put(row.getString(1), row.getString(2)));
		List<String> problems = new ArrayList<>();
		if ("minimal".equals(settings.get("wal_level"))) {
			problems.add(WAL_LEVEL.formatted(settings.get("wal_level")));
		}
		if ("off".equals(settings.get("archive_mode"))) {
			problems.add(ARCHIVE_MODE);
		}
		String pushed = ArchivePush.problem(settings.getOrDefault("archive_command", ""), settings.get("archive_library"),
				stanza());
		if (pushed != null) {
			problems.add(ARCHIVE_COMMAND.formatted(stanza(), pushed, stanza()));
		}
		return problems;
	}

	/** pgBackRest's check: nothing when it passed, else its errors, one line each. */
	private List<String> runCheck() throws InterruptedException {
		PgBackRest.Result result;
		try {
			// errors only, on stdout; its log file stays as its configuration says
			result = this.pgBackRest.run(TIMEOUT, "check", "--log-level-console=error", "--log-level-stderr=off");
		}
		catch (IOException ex) {
			return List.of(NOT_INSTALLED.formatted(ex.getMessage()));
		}
		if (result.timedOut()) {
			return List.of(CHECK_TIMED_OUT.formatted(TIMEOUT.toSeconds()));
		}
		if (result.exitCode() == 0) {
			return List.of();
		}
		List<String> errors = result.errors().stream().map(CHECK_FAILED::formatted).toList();
		return errors.isEmpty() ? List.of(CHECK_FAILED.formatted("exit " + result.exitCode())) : errors;
	}

}
