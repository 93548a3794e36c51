package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.UsageException;

import org.springframework.stereotype.Component;

/**
 * bin/etl backup restore --to NAME|--to-time T --data-dir DIR [--port P]: the stanza's cluster restored to a point in
 * time into a new or empty directory DIR (its tablespaces into DIR-tablespaces), started on 127.0.0.1:P (a free port
 * when none is given), replayed to the target and promoted. DIR is checked against the live cluster's places and
 * pgBackRest's before anything is written (exit 2). The restored cluster runs with archive_mode on and an empty
 * archive_command, kept so in its postgresql.auto.conf across restarts: it never archives into the repository it came
 * from until the operator switches over, in the order the command prints, and keeps its WAL until then. A restore that
 * fails, or is stopped by a signal (Ctrl-C, SIGHUP, SIGTERM: {@link CleanUpOnExit}), leaves no process running, and
 * removes only what it made; but a copy whose replay was stopped (by the signal, or by someone else's clean stop of
 * its postgres) or that could not start is kept, with how to start it, and holds its set from retention
 * ({@link KeptRestores}) until it is released.
 */
@Component
public class PointInTimeRestores {

	/** The restored cluster's log, in its data directory: nothing is written beside it. */
	static final String LOG = "restore.log";

	static final String BAD_TIME = "--to-time '%s': a date and time with its zone, such as 2026-12-03T02:40:00Z or"
			+ " 2026-12-03T03:40:00+01:00";

	static final String PORT_BUSY = "port %d is in use on 127.0.0.1: give a free one, or no --port (a free one is then"
			+ " chosen)";

	static final String LIVE_PORT = "port %d is the live cluster's (%s): clients of it could write into the restored copy;"
			+ " give another, or no --port";

	static final String SOCKET_TOO_LONG = "%s: its socket %s would be %d bytes, over the 107 postgres can create (it would"
			+ " stop at its start, after the whole restore): name a shorter path";

	static final String TEMPORARY = "%s is in %s: files not touched for days are removed there (systemd-tmpfiles) or are"
			+ " lost at a reboot (a tmpfs), and a restored cluster may become production: name a directory elsewhere";

	static final String FAILED = "the restore into %s failed: %s; %s";

	static final String LOCK_LOST_NOT_KEPT = "the restore lock was lost during pgBackRest's restore (its session ended):"
			+ " retention may have expired set %s meanwhile, and a copy of it is not kept";

	static final String SET_GONE_NOT_KEPT = "pgbackrest info no longer lists set %s after its restore: its replay could"
			+ " not resume, and a copy of it is not kept";

	static final String NO_PROCESS = "no process is left running";

	static final String REMOVED = "%s, made by the restore, is removed";

	static final String LEFT = "%s (given empty) holds what the restore wrote: empty it (find %s -mindepth 1 -delete)"
			+ " before trying again";

	static final String KEPT = "%s and %s hold set %s as pgBackRest restored it (postgres began no replay): kept; once the"
			+ " cause is fixed (its port and settings: %s/postgresql.auto.conf), start it (%s): it replays to %s and is"
			+ " promoted (%s); then check it and switch over as docs/operations.md says (Point-in-time restore at 3 a.m.,"
			+ " step 4 on)";

	/** A restore whose replay was stopped, not failed: what it left, and how to start it again (what, then the rest). */
	static final String STOPPED_IN_REPLAY = "the restore into %s was stopped during its replay: %s; %s";

	static final String REPLAY_KEPT = "%s and %s hold set %s as pgBackRest restored it, its replay to %s stopped %s:"
			+ " kept; start it again (%s): the replay resumes from its last restartpoint, to %s, and it is promoted (%s);"
			+ " then check it and switch over as docs/operations.md says (Point-in-time restore at 3 a.m., step 4 on)";

	/** Said of a kept restore: retention keeps its set until the operator releases it. */
	static final String HELD = "set %s stays held from retention (etl.kept_restore) until released: once it is"
			+ " promoted, bin/etl backup restore --release %s";

	/** Said when a restore that is done with its set could not release its hold: retention keeps the set meanwhile. */
	static final String NOT_RELEASED = "its hold of set %s from retention could not be released (%s): release it"
			+ " (bin/etl backup restore --release %s)";

	/** What stopped a kept replay: this command's signal, or a clean shutdown of its postgres by someone else. */
	static final String BY_SIGNAL = "by the signal (postgres stopped, fast)";

	static final String BY_SHUTDOWN = "by that shutdown";

	/** A restore promoted at its target, then shut down by someone else before this command saw it run. */
	static final String STOPPED_PROMOTED = "the restore into %s was stopped once promoted: %s; %s";

	static final String PROMOTED_KEPT = "%s and %s hold set %s replayed to %s and promoted: kept; start it (%s), then"
			+ " check it and switch over as docs/operations.md says (Point-in-time restore at 3 a.m., step 4 on)";

	static final String BY_MISSING_TOOL = "as it could no longer be watched (postgres stopped, fast)";

	/**
	 * pgBackRest's restore done, a tool gone before the restored cluster was configured: kept, not to be started; set
	 * apart all the same ({@link ClusterRestore#setApart}), would someone start it.
	 */
	static final String NOT_SET_APART = "%s and %s hold set %s as pgBackRest restored it, set apart from the live cluster"
			+ " only (archiving off and port %d in %1$s/postgresql.auto.conf), not configured further: kept, never to be"
			+ " started as it is; remove both (rm -rf %1$s %2$s) and restore again once the tool is back";

	/**
	 * How a kept restore is started: pg_ctl waits up to 12 hours (its default, 60 s, would say "server did not start
	 * in time" of a replay that goes on).
	 */
	static final String START = "%s%s -D %s -l %s -t 43200 start";

	/** When a kept restore's replay is done. */
	static final String PROMOTED_WHEN = "its log says selected new timeline ID at the promotion";

	static final String STILL_RUNS = "the restored cluster in %s could not be stopped (%s): stop it (%s%s -D %s stop -m"
			+ " immediate), then remove what the restore wrote";

	/** Said at once when a signal stops a restore: the clean-up may take minutes. */
	static final String REMOVING = "stopping pgBackRest's restore into %s and removing what it made there and in"
			+ " %s-tablespaces";

	static final String STOPPING = "stopping the restored cluster in %s (fast), to keep it";

	static final String RESTORED = "restored set %s of stanza %s into %s (its tablespaces into %s), running on"
			+ " 127.0.0.1:%d, its socket in %s, its log %s";

	static final String REACHED = "point reached: %s; timeline %d begins at %s (%s)";

	static final String ARCHIVING_WAITS = "WAL archiving WAITS in the restored cluster (archive_mode = on with an empty"
			+ " archive_command in its postgresql.auto.conf, kept across restarts): it archives nothing into stanza %s's"
			+ " repository, which the old cluster archives into, until you switch over, and keeps every WAL segment of its"
			+ " new timeline (and the timeline's history file, pg_wal/%s) ready to archive then: its pg_wal grows until the"
			+ " switch-over (or until it is stopped and removed). To switch over, in this order:";

	/**
	 * The switch-over: the old cluster down first, never two clusters archiving into one repository; pgBackRest's
	 * pg1-path before the archive_command (archive-push finds %p under it), the restored cluster's own settings reset
	 * before the restart that makes it take the old one's port and socket, which pgBackRest's configuration still names.
	 */
	static final List<String> SWITCH_OVER = List.of(
			"  1. stop the old cluster (data directory %2$s) and keep it from starting again (its service disabled:"
					+ " systemctl disable, or Debian's start.conf set to disabled): never two clusters archiving into the"
					+ " repository",
			"  2. in pgBackRest's configuration %3$s, stanza %4$s: pg1-path=%1$s; leave pg1-port and pg1-socket-path at the"
					+ " old cluster's (the restored one takes its port and socket at step 4)",
			"  3. in the restored cluster (%10$spsql -h %1$s -p %5$d -U %6$s -d postgres), one statement at a"
					+ " time: ALTER SYSTEM SET archive_command = '%7$s archive-push %%p'; SELECT pg_reload_conf();"
					+ " (it then archives the history file and the WAL it kept, without a restart), then, for it to run as"
					+ " the old cluster did: %9$s",
			"  4. restart it (%10$s%8$s -D %1$s -l %1$s/" + LOG + " restart -m fast): it takes the old"
					+ " cluster's port and socket (its postgresql.conf's settings)",
			"  5. %7$s check: it must pass",
			"  6. take a full backup: bin/etl run backup type=full (ETL_DB_URL at the restored cluster)");

	/** What the restore sets in postgresql.auto.conf and the switch-over leaves: archiving, waiting for its command. */
	private static final Map<String, String> ARCHIVING = Map.of("archive_mode", "on", "archive_command", "");

	/** Where files are not kept: cleaned by systemd-tmpfiles (/tmp after 10 days, /var/tmp after 30), or in memory. */
	private static final List<Path> TEMPORARY_PLACES = List.of(Path.of("/tmp"), Path.of("/var/tmp"), Path.of("/dev/shm"));

	/** File systems in memory, lost at a reboot. */
	private static final Set<String> IN_MEMORY = Set.of("tmpfs", "ramfs", "devtmpfs");

	/** A timeline history file's name: the timeline in hex. */
	private static final Pattern HISTORY = Pattern.compile("[0-9A-F]{8}\\.history");

	/**
	 * Said before the restart of a switch-over whose configuration files were not restored (Debian's /etc/postgresql):
	 * the restored cluster's are placeholders, and the restart would make them production's.
	 */
	static final String PLACEHOLDERS = "     then, before step 4 (the live cluster's configuration files were not restored"
			+ " with its data directory: the ones in %1$s are placeholders): put the old cluster's pg_hba.conf and"
			+ " pg_ident.conf in place of %1$s/pg_hba.conf and"
			+ " %1$s/pg_ident.conf (the placeholder lets in only %2$s through the socket and the runner's role from"
			+ " 127.0.0.1; the old cluster's rules, its hardening, are not there), and its postgresql.conf's settings"
			+ " (listen_addresses, max_connections, shared_buffers, ssl...: the RESETs above leave PostgreSQL's defaults"
			+ " for every setting the restore wrote) into %1$s/postgresql.conf; or point the old cluster's service"
			+ " (Debian: data_directory in /etc/postgresql/VERSION/NAME/postgresql.conf) at %1$s and restart it through"
			+ " that service";

	/** What was restored, and where it runs; {@code notes}: what was written beyond pgBackRest's files. */
	public record Restored(String set, String stanza, Path dataDir, Path tablespaces, int port, String target,
			int timeline, String switchPoint, String reason, String history, List<String> notes, String liveDataDir,
			String config, String owner, String asOwner, String pgbackrest, String pgCtl, List<String> resets,
			boolean placeholders) {

		/** What the command prints: what was restored, the point reached, and how to switch over. */
		public List<String> report() {
			List<String> lines = new ArrayList<>();
			lines.add(RESTORED.formatted(this.set, this.stanza, this.dataDir, this.tablespaces, this.port, this.dataDir,
					this.dataDir.resolve(LOG)));
			lines.add(REACHED.formatted(this.target, this.timeline, this.switchPoint, this.reason));
			lines.addAll(this.notes);
			lines.add(ARCHIVING_WAITS.formatted(this.stanza, this.history));
			String reset = this.resets.stream().map(name -> "ALTER SYSTEM RESET " + name + ";").collect(Collectors.joining(" "));
			for (String step : SWITCH_OVER) {
				if (this.placeholders && step.startsWith("  4. ")) {
					lines.add(PLACEHOLDERS.formatted(this.dataDir, this.owner));
				}
				lines.add(step.formatted(this.dataDir, this.liveDataDir, this.config, this.stanza, this.port, this.owner,
						this.pgbackrest, this.pgCtl, reset, this.asOwner));
			}
			return lines;
		}

	}

	private final ExecutionLock lock;

	private final ClusterRestore cluster;

	private final RestorePoints points;

	private final PgBackRest pgBackRest;

	private final PgBackRestProperties properties;

	private final KeptRestores kept;

	private final PhysicalBackups physical;

	PointInTimeRestores(ExecutionLock lock, ClusterRestore cluster, RestorePoints points, PgBackRest pgBackRest,
			PgBackRestProperties properties, KeptRestores kept, PhysicalBackups physical) {
		this.lock = lock;
		this.cluster = cluster;
		this.points = points;
		this.pgBackRest = pgBackRest;
		this.properties = properties;
		this.kept = kept;
		this.physical = physical;
	}

	/**
	 * Restores to restore point {@code pointName} (recorded in etl.restore_point) or to {@code time} into {@code dir},
	 * on {@code port} (null: a free one). Bad input (an unknown point, a time after the server's clock, a target no
	 * set ended before, a directory that is not new or empty, or near the live cluster's places, a port in use) is a
	 * UsageException, with nothing written.
	 */
	public Restored restore(String pointName, Instant time, Path dir, Integer port) throws IOException, InterruptedException {
		// the input first, needing no lock: a typo is refused at once, not after a wait for retention
		this.cluster.preflight();
		ClusterRestore.Target target;
		String described;
		if (pointName != null) {
			RestorePoints.Point point = this.points.recorded(pointName)
				.orElseThrow(() -> new UsageException(RestoreDrills.UNKNOWN_POINT.formatted(OneLine.of(pointName))));
			target = ClusterRestore.Target.point(point.name(), point.createdAt());
			described = "restore point " + point.name() + " (made " + point.createdAt() + ", LSN " + point.lsn() + ")";
		}
		else {
			this.cluster.refuseFuture(time);
			target = ClusterRestore.Target.time(time);
			described = "the last transaction committed at or before " + time;
		}
		Map<Path, String> live = this.cluster.livePlaces();
		live.putIfAbsent(ClusterRestore.real(Path.of(this.properties.drillDir())), "ETL_PGBACKREST_DRILL_DIR");
		refuseIfUnsafe(this.cluster.unsafe(dir, ClusterRestore.Use.DATA, live));
		Path data = ClusterRestore.real(dir);
		Path tablespaces = data.resolveSibling(data.getFileName() + "-tablespaces");
		refuseIfUnsafe(this.cluster.unsafe(tablespaces, ClusterRestore.Use.TABLESPACES, live));
		refuseIfUnsafe(temporary(dir));
		refuseIfUnsafe(temporary(tablespaces));
		int listening = port != null ? port : this.cluster.freePort();
		String livePort = this.cluster.livePorts().get(listening);
		if (livePort != null) {
			throw new UsageException(LIVE_PORT.formatted(listening, livePort));
		}
		if (!ClusterRestore.portFree(listening)) {
			throw new UsageException(PORT_BUSY.formatted(listening));
		}
		Path socket = data.resolve(".s.PGSQL." + listening);
		int bytes = socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
		if (bytes > 107) {
			throw new UsageException(SOCKET_TOO_LONG.formatted(dir, socket, bytes));
		}
		// a backup's retention holds the lock for seconds: waited for, as a drill waits
		try (ExecutionLock.Held held = RestoreLock.holdAfterRetention(this.lock, "backup restore --to",
				Instant.now().plus(this.properties.lockWait()), () -> false)) {
			// what the wait may have changed: the sets (retention expired some), and the paths
			this.cluster.refuseWithoutSet(target, ClusterRestore.RESTORE_TOOLS);
			String liveData = this.pgBackRest.option("restore", "pg1-path").orElse("?");
			// pgbackrest check (a WAL switch archived) and the set, before anything is made
			String set = this.cluster.setFor(target, ClusterRestore.RESTORE_TOOLS);
			// checked again after the wait and the check's seconds, just before anything is made there
			refuseIfUnsafe(this.cluster.unsafe(data, ClusterRestore.Use.DATA, live));
			refuseIfUnsafe(this.cluster.unsafe(tablespaces, ClusterRestore.Use.TABLESPACES, live));
			return restore(data, tablespaces, listening, set, target, described, liveData, held);
		}
	}

	/**
	 * Restores into {@code data} and {@code tablespaces}, real paths recorded at the check: made here (0700) when
	 * new, and from then on used as such only (pgBackRest's pg1-path, pg_ctl, the clean-up), never through a link
	 * something put in their place. The set is held from retention as soon as DIR holds it, pgBackRest's restore done
	 * and configured, before postgres starts (the restore lock, which retention's expire takes too, is held all along,
	 * so no expire comes in between): released when the restore is promoted or removes what it made, kept with a copy
	 * that is kept. Not before: a copy pgBackRest has not finished is never kept, and a shutdown hook could not
	 * release a hold (the database's pool is closed by then).
	 */
	private Restored restore(Path data, Path tablespaces, int port, String set, ClusterRestore.Target target,
			String described, String liveData, ExecutionLock.Held lockHeld) throws IOException, InterruptedException {
		boolean newData = !Files.exists(data, LinkOption.NOFOLLOW_LINKS);
		boolean newTablespaces = !Files.exists(tablespaces, LinkOption.NOFOLLOW_LINKS);
		// set once made here (read by both clean-ups): one made by someone else meanwhile is not removed
		AtomicBoolean madeData = new AtomicBoolean();
		AtomicBoolean madeTablespaces = new AtomicBoolean();
		// set once pgBackRest's restore (hours) is done and configured: from then on a signal stops the replay only
		AtomicBoolean restored = new AtomicBoolean();
		// set once its hold of the set is recorded: only then is there one to release
		AtomicBoolean held = new AtomicBoolean();
		// a replay stopped by a signal (an ssh session dropped) did not fail: started again, it resumes
		CleanUpOnExit onExit = new CleanUpOnExit("backup restore", data,
				() -> restored.get() ? STOPPING.formatted(data) : REMOVING.formatted(data, data),
				() -> restored.get() ? replayKept(data, tablespaces, set, target, BY_SIGNAL)
						: cleanUp(data, tablespaces, held.get() ? set : null, madeData.get(), madeTablespaces.get()),
				() -> this.cluster.stop(data));
		try {
			for (Path directory : List.of(data, tablespaces)) {
				if (directory == data ? newData : newTablespaces) {
					makeDirectory(directory, directory == data ? madeData : madeTablespaces);
				}
				if (ClusterRestore.moved(directory)) {
					throw new IllegalStateException(ClusterRestore.MOVED.formatted(directory));
				}
			}
			if (!Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE)
				.containsAll(Files.getPosixFilePermissions(data, LinkOption.NOFOLLOW_LINKS))) {
				// postgres refuses a data directory more open than that; it is ours (checked, not a link)
				Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
			}
			Map<String, String> settings = new LinkedHashMap<>();
			settings.put("port", Integer.toString(port));
			settings.put("listen_addresses", "127.0.0.1");
			settings.put("unix_socket_directories", data.toString());
			// not the drill's archive_mode = off: with it, the new timeline's segments would be recycled unarchived
			settings.putAll(ARCHIVING);
			ClusterRestore.Configured configured = this.cluster.restore(data, tablespaces, set, target, settings);
			this.kept.hold(data, this.pgBackRest.stanza(), set, target.toString());
			held.set(true);
			// before it is ever kept: a copy whose set an expire may have removed could not resume
			keepable(lockHeld.check(), this.physical, set);
			restored.set(true);
			this.cluster.start(data, data.resolve(LOG), port);
			String[] history = history(data);
			// promoted: its new timeline needs the set no more
			List<String> notes = new ArrayList<>(configured.notes());
			String notReleased = release(data, set);
			if (notReleased != null) {
				notes.add(notReleased);
			}
			return new Restored(set, this.pgBackRest.stanza(), data, tablespaces, port, described,
					Integer.parseInt(history[0].substring(0, 8), 16), history[1], history[2], history[0], notes,
					liveData, this.cluster.config(), this.cluster.owner(), this.cluster.ownersCommand(), this.cluster.pgBackRestCommand(),
					this.cluster.printedTool("pg_ctl", data), resets(configured.settings()), !configured.notes().isEmpty());
		}
		catch (IOException | RuntimeException | InterruptedException ex) {
			// an interrupted restore cleans up too (the flag set aside meanwhile: pg_ctl stop is waited for)
			boolean interrupted = Thread.interrupted() || ex instanceof InterruptedException;
			// hours of restore are kept when the cluster only failed to start: what pgBackRest restored is untouched;
			// a replay that began and failed (the target not reached) would fail again from it: removed
			// and a replay interrupted (the JVM stopping: a signal) did not fail either, whichever thread gets here first
			// and a replay someone else shut down cleanly resumes at its next start too (unless the hook ran first), or,
			// shut down once promoted, starts promoted;
			// a tool gone during the restore (never there: refused up front) is no reason to throw it away
			boolean shutDown = ex instanceof ClusterRestore.ShutDownInReplay;
			boolean promoted = shutDown && ((ClusterRestore.ShutDownInReplay) ex).promoted();
			String left = onExit.run(() -> ex instanceof ClusterRestore.NotStarted ? kept(data, tablespaces, set, target)
					: promoted ? released(data, held.get() ? set : null,
							keptStopped(data, "fast", PROMOTED_KEPT.formatted(data, tablespaces, set, target, start(data))))
					: shutDown ? replayKept(data, tablespaces, set, target, BY_SHUTDOWN)
					: ex instanceof PostgresTools.MissingTool ? restored.get()
							? replayKept(data, tablespaces, set, target, BY_MISSING_TOOL)
							: NOT_SET_APART.formatted(data, tablespaces, set, port)
					: (interrupted || ex instanceof ClusterRestore.ReplayStopped) && restored.get()
							? replayKept(data, tablespaces, set, target, BY_SIGNAL)
							: cleanUp(data, tablespaces, held.get() ? set : null, madeData.get(), madeTablespaces.get()));
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
			// not as its cause: bin/etl prints a failure's root cause, and this line says what is left
			IllegalStateException failed = new IllegalStateException((promoted ? STOPPED_PROMOTED
					: shutDown ? STOPPED_IN_REPLAY : FAILED)
				.formatted(data, OneLine.of(String.valueOf(ex.getMessage())), left));
			failed.addSuppressed(ex);
			throw failed;
		}
		finally {
			onExit.close();
		}
	}

	/**
	 * Fails, so that the copy is removed, not kept, when {@code set} may be gone from under it: during pgBackRest's
	 * restore of hours only the restore lock held retention's expire off, and a lost lock ({@code lockHeld} false)
	 * let one in; a set info no longer lists is gone, and a kept copy of it could never resume its replay.
	 */
	static void keepable(boolean lockHeld, PhysicalBackups physical, String set) throws IOException, InterruptedException {
		if (!lockHeld) {
			throw new IllegalStateException(LOCK_LOST_NOT_KEPT.formatted(set));
		}
		if (physical.info().stream().noneMatch(listed -> listed.label().equals(set))) {
			throw new IllegalStateException(SET_GONE_NOT_KEPT.formatted(set));
		}
	}

	/**
	 * The new timeline's history file (the newest in pg_wal, written at the promotion, and marked ready by postgres:
	 * archiving is on): its name, the switch point and the reason recovery stopped (its last line).
	 */
	private static String[] history(Path data) throws IOException {
		Path wal = data.resolve("pg_wal");
		Path history;
		try (Stream<Path> files = Files.list(wal)) {
			history = files.filter(file -> HISTORY.matcher(file.getFileName().toString()).matches())
				.max(Comparator.comparing(Path::getFileName))
				.orElseThrow(() -> new IllegalStateException("no timeline history file in " + wal + " after the promotion"));
		}
		String[] last = Files.readAllLines(history)
			.stream()
			.filter(line -> !line.isBlank() && !line.startsWith("#"))
			.reduce((first, second) -> second)
			.orElseThrow(() -> new IllegalStateException(history + " is empty"))
			.split("\t", 3);
		return new String[] { history.getFileName().toString(), last.length > 1 ? last[1] : "?", last.length > 2 ? last[2] : "?" };
	}

	/**
	 * Makes {@code directory} (0700), failing when anything, a link included, is there now; {@code made} is set only
	 * once it is made: what another user or the operator put there meanwhile is not the restore's to remove.
	 */
	static void makeDirectory(Path directory, AtomicBoolean made) throws IOException {
		Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
		made.set(true);
	}

	/**
	 * What the switch-over resets, in the order written: every setting the restore wrote into postgresql.auto.conf
	 * ({@code written}) but the archive ones (archiving stays on, with the command set at the switch-over; no
	 * archive_library or cleanup).
	 */
	static List<String> resets(Map<String, String> written) {
		return written.keySet().stream().filter(name -> !name.startsWith("archive_")).toList();
	}

	/**
	 * Stops the restored cluster and removes what this restore made, then releases its hold of {@code set} (null:
	 * none recorded): what is left, said so.
	 */
	private String cleanUp(Path data, Path tablespaces, String set, boolean madeData, boolean madeTablespaces) {
		String notStopped = this.cluster.stop(data);
		if (notStopped != null) {
			return stillRuns(data, notStopped);
		}
		List<String> said = new ArrayList<>(List.of(NO_PROCESS));
		for (Path directory : List.of(data, tablespaces)) {
			if (directory == data ? madeData : madeTablespaces) {
				String left = this.cluster.remove(directory, directory);
				said.add(left != null ? left : REMOVED.formatted(directory));
			}
			else if (holdsAnything(directory)) {
				said.add(LEFT.formatted(directory, directory));
			}
		}
		return released(data, set, String.join("; ", said));
	}

	/**
	 * {@code said}, once the hold of {@code set} (null: none recorded) for {@code data} is released, or with why it
	 * could not be.
	 */
	private String released(Path data, String set, String said) {
		String notReleased = set == null ? null : release(data, set);
		return notReleased == null ? said : said + "; " + notReleased;
	}

	/**
	 * Releases the hold of {@code set} for {@code data}: null when released, else what to do. Never throws: a restore done, or cleaning up, must not fail on its hold, which
	 * keeps the set meanwhile, never the other way round.
	 */
	private String release(Path data, String set) {
		try {
			this.kept.released(data);
			return null;
		}
		catch (RuntimeException ex) {
			return NOT_RELEASED.formatted(set, OneLine.of(String.valueOf(ex.getMessage())), data);
		}
	}

	/** A restored cluster that did not start, kept (and stopped, would anything run): how to start it. */
	private String kept(Path data, Path tablespaces, String set, ClusterRestore.Target target) {
		return keptStopped(data, "immediate", KEPT.formatted(data, tablespaces, set, data, start(data), target,
				PROMOTED_WHEN)) + "; " + HELD.formatted(set, data);
	}

	/**
	 * A replay stopped {@code by} a signal or a shutdown: postgres stopped (fast: a restartpoint the next start resumes
	 * from), DIR kept.
	 */
	private String replayKept(Path data, Path tablespaces, String set, ClusterRestore.Target target, String by) {
		return keptStopped(data, "fast", REPLAY_KEPT.formatted(data, tablespaces, set, target, by, start(data), target,
				PROMOTED_WHEN)) + "; " + HELD.formatted(set, data);
	}

	/**
	 * Stops the restored cluster when it runs ({@code mode}), then says what is {@code kept}, or what still runs; its
	 * set stays held either way.
	 */
	private String keptStopped(Path data, String mode, String kept) {
		String notStopped = this.cluster.stop(data, mode);
		return notStopped != null ? stillRuns(data, notStopped) : NO_PROCESS + "; " + kept;
	}

	/** The command line that starts a kept restore, as the operator runs it. */
	private String start(Path data) {
		return START.formatted(this.cluster.ownersCommand(), this.cluster.printedTool("pg_ctl", data), data, data.resolve(LOG));
	}

	private String stillRuns(Path data, String notStopped) {
		return STILL_RUNS.formatted(data, notStopped, this.cluster.ownersCommand(), this.cluster.printedTool("pg_ctl", data),
				data);
	}

	private static boolean holdsAnything(Path directory) {
		try (Stream<Path> entries = Files.list(directory)) {
			return entries.findAny().isPresent();
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * --to-time's value: an ISO 8601 date and time with its zone (T or a space between them), or a UsageException;
	 * without a zone it would be read in some clock's, hours away from the operator's.
	 */
	public static Instant time(String text) {
		try {
			return OffsetDateTime.parse(text.strip().replaceFirst(" ", "T"), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
		}
		catch (DateTimeParseException ex) {
			throw new UsageException(BAD_TIME.formatted(OneLine.of(text)));
		}
	}

	/** Why {@code dir} cannot be a restore's data directory by its path alone, or null. */
	public static String problemWithPath(String dir) {
		Path path;
		try {
			path = Path.of(dir).toAbsolutePath();
		}
		catch (java.nio.file.InvalidPathException ex) {
			return ClusterRestore.BAD_PATH.formatted(OneLine.of(dir));
		}
		return ClusterRestore.badPath(path) ? ClusterRestore.BAD_PATH.formatted(OneLine.of(dir)) : null;
	}

	/**
	 * Why {@code dir} is no place for a cluster that may become production, or null: in /tmp, /var/tmp or /dev/shm
	 * (as given or as its real path), or on a file system in memory (the one its nearest existing directory is on).
	 */
	static String temporary(Path dir) {
		Path real = ClusterRestore.real(dir);
		for (Path place : TEMPORARY_PLACES) {
			if (dir.toAbsolutePath().normalize().startsWith(place) || real.startsWith(place)) {
				return TEMPORARY.formatted(dir, place);
			}
		}
		Path existing = real;
		while (existing.getParent() != null && !Files.exists(existing)) {
			existing = existing.getParent();
		}
		try {
			String type = Files.getFileStore(existing).type();
			return IN_MEMORY.contains(type) ? TEMPORARY.formatted(dir, "a " + type + " (" + existing + ")") : null;
		}
		catch (IOException ex) {
			// its file system unknown: the other checks and the restore itself say what is wrong with it
			return null;
		}
	}

	private static void refuseIfUnsafe(String problem) {
		if (problem != null) {
			throw new UsageException(problem);
		}
	}

}
