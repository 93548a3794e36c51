package dev.pgbatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

import org.awaitility.core.ConditionTimeoutException;

import static org.awaitility.Awaitility.await;

/**
 * The stack's WAL archiving failing for a while, as while its object store is down, without stopping the store
 * other test classes use at the same time: archive_command is set (ALTER SYSTEM, as the superuser) to fail until a
 * time two minutes on, then to push as the stack's own does, so that it heals even when the JVM dies first (and the
 * next outage resets what that JVM left); closing resets it to the stack's own (pgbatch.conf). PostgreSQL keeps each
 * segment it could not archive and retries it. The command is the stack's own with its program replaced by a script
 * named pgbackrest that fails until then and is pgbackrest after: the scheduler's health takes archiving that is not
 * a plain archive-push (a shell operator in archive_command) for archiving that cannot work, not for a failure.
 */
public final class WalArchivingOutage implements AutoCloseable {

	private static final Duration HEALS_AFTER = Duration.ofSeconds(120);

	/** What this class's archive_command holds (its script's directory): one found so is a killed test's, reset. */
	private static final String MARK = "pgbatch-wal-outage";

	private final String database;

	/** The session whose advisory lock says the outage is this test's. */
	private final Connection turn;

	/** The script archive_command runs: deleted once archive_command is reset (a killed JVM's heals on its own). */
	private final Path script;

	private WalArchivingOutage(String database, Connection turn, Path script) {
		this.database = database;
		this.turn = turn;
		this.script = script;
	}

	/**
	 * Starts the outage, once no other test's runs (test classes run in two JVMs at once; a session's advisory lock
	 * in the postgres database says whose turn it is). One left by a killed JVM is reset first; an archive_command
	 * set by ALTER SYSTEM by someone else is refused (closing would lose it).
	 */
	public static WalArchivingOutage start(String database) throws Exception {
		Connection turn = TestDatabase.connect("postgres");
		try (Statement statement = turn.createStatement()) {
			statement.execute("SELECT pg_advisory_lock(hashtext('pgbatch test: WAL archiving outage'))");
			String set = StackSuperuser.query(database, "SELECT setting FROM pg_file_settings WHERE name ="
					+ " 'archive_command' AND sourcefile LIKE '%postgresql.auto.conf'");
			if (!set.isEmpty() && !set.contains(MARK)) {
				throw new IllegalStateException("archive_command is set by ALTER SYSTEM: this test would reset it");
			}
			long healsAt = Instant.now().plus(HEALS_AFTER).getEpochSecond();
			// the stack's own command (pgbatch.conf), run once the time has come
			String stacks = StackSuperuser.query(database, "SELECT setting FROM pg_file_settings WHERE name ="
					+ " 'archive_command' AND sourcefile LIKE '%pgbatch.conf'");
			// pgbackrest, as the stack's command names it (its first word)
			String program = stacks.substring(0, stacks.indexOf(' '));
			Path script = Files.createTempDirectory(MARK).resolve("pgbackrest");
			Files.writeString(script, "#!/bin/sh\n[ \"$(date +%s)\" -gt " + healsAt + " ] && exec " + program
					+ " \"$@\"\nexit 1\n");
			Files.setPosixFilePermissions(script.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
			Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
			// (ALTER SYSTEM takes no parameter, nor runs in a DO)
			StackSuperuser.execute(database, "ALTER SYSTEM SET archive_command = $c$" + script
					+ stacks.substring(program.length()) + "$c$");
			WalArchivingOutage outage = new WalArchivingOutage(database, turn, script);
			outage.reload();
			return outage;
		}
		catch (Exception | Error ex) {
			turn.close();
			throw ex;
		}
	}

	@Override
	public void close() throws Exception {
		try (this.turn) {
			StackSuperuser.execute(this.database, "ALTER SYSTEM RESET archive_command");
			reload();
		}
		// an archiver may still run it a moment after the reload: it then fails, and the segment is retried
		Files.deleteIfExists(this.script);
		Files.deleteIfExists(this.script.getParent());
	}

	private void reload() throws IOException, InterruptedException {
		StackSuperuser.execute(this.database, "SELECT pg_reload_conf()");
	}

	/**
	 * Writes WAL and switches to a new segment (the archiver's cue) until the condition holds, within a minute: the
	 * archiver takes a reloaded archive_command when it next looks, which may be after the first switch.
	 */
	public static void awaitSwitchingSegments(String database, Callable<Boolean> condition) throws Exception {
		Instant deadline = Instant.now().plusSeconds(60);
		while (true) {
			// a WAL record of no table (a table would be one more that restore points count)
			StackSuperuser.execute(database, "SELECT pg_logical_emit_message(false, 'pgbatch-test', 'wal');"
					+ " SELECT pg_switch_wal()");
			try {
				await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(250))
					.ignoreException(IllegalStateException.class)
					.until(condition);
				return;
			}
			catch (ConditionTimeoutException ex) {
				if (Instant.now().isAfter(deadline)) {
					throw ex;
				}
			}
		}
	}

}
