package dev.pgbatch.cli;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.pgbatch.backup.BackupManifest;
import dev.pgbatch.backup.BackupCatalog;
import dev.pgbatch.backup.BackupRestorer;
import dev.pgbatch.backup.KeptRestores;
import dev.pgbatch.backup.PgBackRestCheck;
import dev.pgbatch.backup.PhysicalCatalog;
import dev.pgbatch.backup.PhysicalVerify;
import dev.pgbatch.backup.PointInTimeRestores;
import dev.pgbatch.backup.RestoreDrills;
import dev.pgbatch.backup.RestorePoints;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.core.UsageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "backup", mixinStandardHelpOptions = true,
		description = "The backups in the object store: list them, verify one (with a restore drill), restore one; check pgBackRest's WAL archiving, make restore points and drill a restore to one.",
		subcommands = { BackupCommand.ListBackups.class, BackupCommand.Verify.class, BackupCommand.Restore.class,
				BackupCommand.Check.class, BackupCommand.Point.class, BackupCommand.Drill.class })
class BackupCommand {

	@Command(name = "list", mixinStandardHelpOptions = true,
			description = "Complete backups, newest first, with their sizes and when a verify last passed.")
	static class ListBackups implements Callable<Integer> {

		static final String UNLISTED = "and %d object(s) under %s/ not shown: outside any backup folder"
				+ " (server/database/id/), an older layout or put there by hand; never restored, never removed by retention";

		@Mixin
		JsonOption json;

		@Option(names = "--physical", description = "List pgBackRest's sets of the stanza instead (ETL_PGBACKREST_CONFIG, ETL_PGBACKREST_STANZA), its WAL archive, the span a point-in-time restore reaches and the last restore drill.")
		boolean physical;

		@Override
		public Integer call() throws Exception {
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				if (this.physical) {
					listPhysical(context.getBean(PhysicalCatalog.class).list(), this.json.on);
					return Cli.OK;
				}
				List<BackupCatalog.StoredBackup> entries = context.getBean(BackupCatalog.class).list();
				// first, and apart from the listing (stderr): what an interrupted restore left for the operator
				context.getBean(BackupRestorer.class).leftClosed().forEach(warning -> System.err.println("warning: " + warning));
				if (this.json.on) {
					Output.json(entries);
					return Cli.OK;
				}
				System.out.printf(Locale.ROOT, "%-20s %-16s %-20s %14s %14s %10s  %s%n", "id", "database", "started",
						"dump bytes", "stored bytes", "key", "verified");
				for (BackupCatalog.StoredBackup entry : entries) {
					BackupManifest manifest = entry.manifest();
					System.out.printf(Locale.ROOT, "%-20s %-16s %-20s %14d %14d %10s  %s%n", manifest.id(), manifest.database(),
							Output.time(Instant.parse(manifest.startedAt())), manifest.dumpBytes(), manifest.storedBytes(),
							Keyset.shown(manifest.keyId()), entry.verified() == null ? "-"
									: Output.time(Instant.parse(entry.verified().verifiedAt()))
											+ (entry.verified().restoreTested() ? " (restore drill)" : ""));
				}
				long unlisted = context.getBean(BackupCatalog.class).unlisted();
				if (unlisted > 0) {
					System.out.printf(Locale.ROOT, UNLISTED + "%n", unlisted, context.getBean(BackupCatalog.class).prefix());
				}
				return Cli.OK;
			}
		}

	}

	private static final String PHYSICAL_ROW = "%-34s %-4s %-20s %-20s %-24s %-24s %14s %14s%n";

	private static void listPhysical(PhysicalCatalog.Listing listing, boolean json) {
		if (json) {
			Output.json(listing);
			return;
		}
		System.out.printf(Locale.ROOT, "stanza %s: %d physical backup sets%n", listing.stanza(), listing.sets().size());
		System.out.printf(Locale.ROOT, PHYSICAL_ROW, "label", "type", "started", "stopped", "WAL start", "WAL stop",
				"database bytes", "stored bytes");
		for (PhysicalCatalog.PhysicalSet set : listing.sets()) {
			System.out.printf(Locale.ROOT, PHYSICAL_ROW, set.label(), set.type(), Output.time(set.started()), Output.time(set.stopped()),
					set.walStart(), set.walStop(), set.databaseBytes(), set.repositoryBytes());
		}
		System.out.printf(Locale.ROOT, "WAL archive: %s to %s%n", dash(listing.walMin()), dash(listing.walMax()));
		System.out.printf(Locale.ROOT, "restorable from %s to %s%n", Output.time(listing.restorableFrom()),
				Output.time(listing.restorableTo()));
		PhysicalCatalog.LastDrill drill = listing.lastDrill();
		System.out.println(drill == null ? "last drill: none (bin/etl backup drill)"
				: String.format(Locale.ROOT, "last drill: %d at %s to %s from %s: %s", drill.id(), Output.time(drill.startedAt()),
						drill.point(), dash(drill.set()), drill.passed() ? "passed"
								: "FAILED: " + drill.problems().replace("\n", "; ")));
		PhysicalCatalog.LastVerify verify = listing.lastVerify();
		System.out.println(verify == null ? "last verify: none (bin/etl backup verify --physical)"
				: String.format(Locale.ROOT, "last verify: %d at %s: %s", verify.id(), Output.time(verify.verifiedAt()),
						verify.passed() ? "passed" : "FAILED: " + verify.problems().replace("\n", "; ")));
		List<String> labels = listing.sets().stream().map(PhysicalCatalog.PhysicalSet::label).toList();
		listing.held().forEach(hold -> System.out.println("held: " + hold.said(labels)));
	}

	private static String dash(Object value) {
		return value == null ? "-" : value.toString();
	}

	@StreamsThroughEncryption
	@Command(name = "verify", mixinStandardHelpOptions = true,
			description = "Stream a backup back: checksum, authentication, decompression and pg_restore --list; with --restore-test, restore it into a scratch database, compare row counts, drop it. With --physical instead of ID: pgBackRest's verify of the stanza's repository, and a check that its WAL archive has no gap from the oldest full set's WAL start to the newest segment; recorded in etl.physical_verify. Exit 0 when all is sound, 1 with one line for each thing wrong. With --json (and --physical): id, verified-at, sets, WAL range, problems.")
	static class Verify implements Callable<Integer> {

		static final String ID_OR_PHYSICAL = "name a backup ID (bin/etl backup list) or give --physical, not both";

		static final String PHYSICAL_ONLY = "%s goes with --physical only";

		static final String LOGICAL_ONLY = "--restore-test goes with a backup ID only";


		@Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "The backup (bin/etl backup list).")
		String id;

		@Option(names = "--restore-test", description = "Restore into a scratch database and compare every table's row count with the manifest.")
		boolean restoreTest;

		@Option(names = "--physical", description = "Verify pgBackRest's repository of the stanza (ETL_PGBACKREST_CONFIG, ETL_PGBACKREST_STANZA) instead: every set's files and every WAL segment read back and checked, and the WAL archive without a gap from the oldest full set on.")
		boolean physical;

		@Mixin
		JsonOption json;

		@Override
		public Integer call() throws Exception {
			if ((this.id == null) != this.physical) {
				throw new UsageException(ID_OR_PHYSICAL);
			}
			if (this.physical && this.restoreTest) {
				throw new UsageException(LOGICAL_ONLY);
			}
			if (!this.physical && this.json.on) {
				throw new UsageException(PHYSICAL_ONLY.formatted("--json"));
			}
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				if (this.physical) {
					return verifyPhysical(context.getBean(PhysicalVerify.class).verify(), this.json.on);
				}
				context.getBean(BackupRestorer.class).verify(this.id, this.restoreTest);
				BackupManifest manifest = context.getBean(BackupCatalog.class).manifest(this.id);
				System.out.println("backup " + this.id + " verified: " + manifest.storedBytes() + " bytes, sha256 "
						+ manifest.storedSha256() + ", authenticated"
						+ (this.restoreTest ? "; restored into a scratch database with the row counts of its manifest ("
								+ manifest.rowCounts().size() + " tables), dropped" : "; pg_restore reads it"));
				return Cli.OK;
			}
		}

		private static int verifyPhysical(PhysicalVerify.VerifyResult verified, boolean json) {
			if (json) {
				Output.json(verified);
			}
			else if (verified.passed()) {
				System.out.println(verified.summary());
			}
			else {
				verified.problems().forEach(System.out::println);
			}
			return verified.passed() ? Cli.OK : Cli.FAILED;
		}

	}

	@StreamsThroughEncryption
	@Command(name = "restore", mixinStandardHelpOptions = true,
			description = { "Restore a logical backup into a database of its own, in one transaction, then give it the target's name: backup restore ID --target-db NAME.",
					"Or restore the whole cluster to a point in time (pgBackRest, ETL_PGBACKREST_CONFIG, ETL_PGBACKREST_STANZA) into a new or empty directory: backup restore --to NAME|--to-time T --data-dir DIR [--port P]. It starts there on 127.0.0.1:P (a free port without --port), replays to the target and is promoted, with WAL archiving off (kept so across restarts) until you switch over as it prints. See docs/operations.md." })
	static class Restore implements Callable<Integer> {

		static final String BOTH_FORMS = "backup restore: ID --target-db NAME (a logical backup) or --to NAME|--to-time T"
				+ " --data-dir DIR (a point in time), not both";

		static final String NO_ID = "Missing required parameter: 'ID' (or a point in time: --to NAME|--to-time T --data-dir DIR)";

		static final String NO_TARGET_DB = "Missing required option: '--target-db=NAME'";

		static final String ONE_TARGET = "%s: --to NAME or --to-time T, one of them";

		static final String NO_DATA_DIR = "backup restore --to/--to-time: --data-dir DIR is required (a new or empty directory)";

		static final String RELEASE_ALONE = "backup restore --release DIR goes alone: no ID, --to, --to-time, --data-dir,"
				+ " --port or logical restore option with it";

		static final String RELEASED = "released the hold of set %s (stanza %s) for the kept restore into %s on %s, to %s:"
				+ " retention may expire it now";

		static final String BAD_PORT = "--port %d: a port from 1024 to 65535 (postgres, not running as root, cannot listen"
				+ " below 1024)";

		static final String KEEPS_ARCHIVE_ID = "%s keeps archive id %s, the one of the database the backup was taken of: if that"
				+ " database goes on archiving, give %s its own before it archives (in it: UPDATE ops.archive_installation SET"
				+ " archive_id = gen_random_uuid(); better, its own ETL_ARCHIVE_PREFIX too: docs/jobs/archive.md, whose segments)";

		@Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "The logical backup (bin/etl backup list).")
		String id;

		@Option(names = "--target-db", paramLabel = "NAME", description = "The database to restore a logical backup into.")
		String targetDb;

		@Option(names = "--force", description = "Replace a database that is not empty (any table, view, function, type or schema of its own): the restored one takes its name, then the old one is dropped.")
		boolean force;

		@Option(names = "--terminate-sessions", description = "End the sessions connected to the database being replaced (without it, the restore refuses while any are, and says how many).")
		boolean terminateSessions;

		@Option(names = "--to", paramLabel = "NAME", description = "Point in time: the restore point (etl.restore_point) to restore the cluster to.")
		String to;

		@Option(names = "--to-time", paramLabel = "T", description = "Point in time: the time to restore the cluster to, with its zone (2026-12-03T02:40:00Z): the last transaction committed at or before it.")
		String toTime;

		@Option(names = "--data-dir", paramLabel = "DIR", description = "Point in time: the new or empty directory to restore into (its tablespaces into DIR-tablespaces); never the live cluster's or near it.")
		String dataDir;

		@Option(names = "--port", paramLabel = "P", description = "Point in time: the loopback port the restored cluster starts on (default: a free one).")
		Integer port;

		@Option(names = "--release", paramLabel = "DIR", description = "Release the hold of the kept restore into DIR on this host (etl.kept_restore; bin/etl backup list --physical lists the holds): retention may expire its set then. A restore --to that is promoted releases its own.")
		String release;

		@Override
		public Integer call() throws Exception {
			boolean logical = this.id != null || this.targetDb != null || this.force || this.terminateSessions;
			boolean pointInTime = this.to != null || this.toTime != null || this.dataDir != null || this.port != null;
			if (this.release != null) {
				if (logical || pointInTime) {
					throw new UsageException(RELEASE_ALONE);
				}
				String problem = PointInTimeRestores.problemWithPath(this.release);
				if (problem != null) {
					throw new UsageException(problem);
				}
				try (ConfigurableApplicationContext context = SpringRuntime.start()) {
					KeptRestores.Hold released = context.getBean(KeptRestores.class).release(Path.of(this.release));
					System.out.printf(Locale.ROOT, RELEASED + "%n", released.set(), released.stanza(), released.dataDir(),
							released.host(), released.target());
					return Cli.OK;
				}
			}
			if (logical && pointInTime) {
				throw new UsageException(BOTH_FORMS);
			}
			if (pointInTime) {
				return pointInTime();
			}
			if (this.id == null) {
				throw new UsageException(NO_ID);
			}
			if (this.targetDb == null) {
				throw new UsageException(NO_TARGET_DB);
			}
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				BackupRestorer restorer = context.getBean(BackupRestorer.class);
				restorer.restore(this.id, this.targetDb, this.force, this.terminateSessions);
				System.out.println("backup " + this.id + " restored into " + this.targetDb + "; every table holds the rows its manifest recorded");
				// a copy beside the original (not a replacement: --force) shares its segments' archive id
				String archiveId = this.force ? null : restorer.archiveId(this.targetDb);
				if (archiveId != null) {
					System.out.printf(Locale.ROOT, KEEPS_ARCHIVE_ID + "%n", this.targetDb, archiveId, this.targetDb);
				}
				return Cli.OK;
			}
		}

		/** --to NAME|--to-time T --data-dir DIR [--port P], its input checked before anything starts. */
		private int pointInTime() throws Exception {
			if ((this.to == null) == (this.toTime == null)) {
				throw new UsageException(ONE_TARGET.formatted("backup restore"));
			}
			if (this.dataDir == null) {
				throw new UsageException(NO_DATA_DIR);
			}
			String problem = this.to != null ? RestorePoints.problemWithName(this.to) : null;
			if (problem == null) {
				problem = PointInTimeRestores.problemWithPath(this.dataDir);
			}
			if (problem != null) {
				throw new UsageException(problem);
			}
			if (this.port != null && (this.port < 1024 || this.port > 65535)) {
				throw new UsageException(BAD_PORT.formatted(this.port));
			}
			Instant time = this.toTime == null ? null : PointInTimeRestores.time(this.toTime);
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				PointInTimeRestores.Restored restored = context.getBean(PointInTimeRestores.class)
					.restore(this.to, time, Path.of(this.dataDir).toAbsolutePath(), this.port);
				restored.report().forEach(System.out::println);
				return Cli.OK;
			}
		}

	}

	@Command(name = "check", mixinStandardHelpOptions = true,
			description = "Check WAL archiving through pgBackRest (ETL_PGBACKREST_CONFIG, ETL_PGBACKREST_STANZA): the server's settings, then pgBackRest's own check (a WAL switch archived into the repository). Exit 0 when all is there, else 1 and one line for each thing missing.")
	static class Check implements Callable<Integer> {

		@Override
		public Integer call() throws Exception {
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				PgBackRestCheck check = context.getBean(PgBackRestCheck.class);
				check.warnings().forEach(warning -> System.err.println("warning: " + warning));
				List<String> problems = check.problems();
				if (problems.isEmpty()) {
					System.out.println("stanza " + check.stanza() + ": WAL archiving through pgBackRest works (pgbackrest check passed)");
					return Cli.OK;
				}
				problems.forEach(problem -> System.out.println("missing: " + problem));
				return Cli.FAILED;
			}
		}

	}

	@Command(name = "point", mixinStandardHelpOptions = true,
			description = "Create PostgreSQL's restore point NAME, and record in etl.restore_point the row count of every managed table (all but the runner's schema etl) at it: counted under brief SHARE locks (ETL_BACKUP_POINT_LOCK_TIMEOUT) held until the point is made, so that no write falls between the counts and the point. With --json: name, lsn, created-at, counts.")
	static class Point implements Callable<Integer> {

		@Parameters(index = "0", paramLabel = "NAME", description = "The point's name: 1 to 63 letters, digits, '.', '_' or '-'; not one recorded already.")
		String name;

		@Mixin
		JsonOption json;

		@Override
		public Integer call() throws Exception {
			// before anything starts (the migrations write)
			String problem = RestorePoints.problemWithName(this.name);
			if (problem != null) {
				throw new UsageException(problem);
			}
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				RestorePoints.Point point = context.getBean(RestorePoints.class).create(this.name, null);
				if (this.json.on) {
					Output.json(point);
					return Cli.OK;
				}
				System.out.printf(Locale.ROOT, "restore point %s at %s (%s): %d tables, %d rows counted%n", point.name(),
						point.lsn(), point.createdAt(), point.counts().size(),
						point.counts().values().stream().mapToLong(Long::longValue).sum());
				return Cli.OK;
			}
		}

	}

	static final String DRILL_AT_A_TIME = "a time has no recorded row counts: pg_amcheck only checked the restored cluster";

	@Command(name = "drill", mixinStandardHelpOptions = true,
			description = "Restore drill of a point in time: pgBackRest restores the newest set that ended before restore point NAME into a scratch cluster under ETL_PGBACKREST_DRILL_DIR, which replays the WAL to the point (on a loopback port, archiving off); every table's rows must equal the point's counts and pg_amcheck must find no corruption (to a time, --to-time, pg_amcheck only: no counts were recorded at it). Recorded in etl.restore_drill; the scratch cluster is removed. Exit 0 on a pass, 1 on a failure (one line for each thing that failed). With --json: id, point, set, restore and replay seconds, problems.")
	static class Drill implements Callable<Integer> {

		@Option(names = "--to", paramLabel = "NAME", description = "The restore point (etl.restore_point); default: the newest.")
		String to;

		@Option(names = "--to-time", paramLabel = "T", description = "A time instead of a point, with its zone (2026-12-03T02:40:00Z): no counts were recorded at it, so only pg_amcheck checks the restored cluster.")
		String toTime;

		@Mixin
		JsonOption json;

		@Override
		public Integer call() throws Exception {
			if (this.to != null && this.toTime != null) {
				throw new UsageException(Restore.ONE_TARGET.formatted("backup drill"));
			}
			if (this.to != null) {
				String problem = RestorePoints.problemWithName(this.to);
				if (problem != null) {
					throw new UsageException(problem);
				}
			}
			Instant time = this.toTime == null ? null : PointInTimeRestores.time(this.toTime);
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				// nothing else asks a command at a terminal to stop: Ctrl-C ends the process, and its wait with it
				RestoreDrills.Drill drill = context.getBean(RestoreDrills.class).drill(this.to, time, () -> false);
				if (this.json.on) {
					Output.json(drill);
				}
				else {
					System.out.printf(Locale.ROOT, "drill %d to %s from set %s: %s (restore %.1f s, replay %.1f s)%s%n",
							drill.id(), (drill.counted() ? "restore point " : "") + drill.point(), drill.set(),
							drill.passed() ? "passed" : "FAILED", drill.restoreSeconds(), drill.replaySeconds(),
							drill.counted() ? "" : "; " + DRILL_AT_A_TIME);
					drill.problems().forEach(problem -> System.out.println("  " + problem));
				}
				return drill.passed() ? Cli.OK : Cli.FAILED;
			}
		}

	}

}
