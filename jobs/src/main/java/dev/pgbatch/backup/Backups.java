package dev.pgbatch.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

import javax.sql.DataSource;

import dev.pgbatch.core.Databases;
import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.OwnThreads;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.crypto.AuthenticationFailedException;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedJson;
import dev.pgbatch.store.SealedObjects;
import dev.pgbatch.store.Tally;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Backups in the object store: made, listed, verified, restored and deleted. One folder per backup,
 * {@code PREFIX/SERVER/DATABASE/ID/}: the sealed dump, {@code manifest.json} (written last: without it a
 * backup is not complete), {@code started.json} (written first: the cluster an upload is of), and a
 * {@code verified-TIME.json} for each verify that passed; manifests and
 * verify records are sealed with the keyset like the dump (store/SealedJson). SERVER is ETL_BACKUP_SERVER_NAME
 * or else the cluster's system identifier (pg_control_system(), readable by any role), so two clusters that
 * share a bucket, or two databases of one, never count or remove each other's backups. Ids are the start time in UTC, so they
 * sort by age.
 */
@Component
public class Backups {

	static final String UNKNOWN = "there is no complete backup '%s' (bin/etl backup list shows them)";

	static final String NO_DATABASE = "database '%s' does not exist";

	static final String NOT_EMPTY = "database '%s' is not empty (it holds tables, views, functions, types or schemas of its own): restore into a new database, or pass --force to replace what is in it";

	static final String MISMATCH = "%s: the stored object is not the one the manifest describes (%d bytes, sha256 %s; read: %d bytes, sha256 %s)";

	static final String COUNTS_DIFFER = "%s: after the restore %s holds %d rows, the backup recorded %d";

	private static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
		.withZone(ZoneOffset.UTC);

	private static final String MANIFEST = "manifest.json";

	private static final String STARTED = "started.json";

	/** A verify's record: one object per pass (objects are never overwritten), the newest one counts. */
	private static final String VERIFIED = "verified-";

	/** The tables pg_dump dumps the rows of: every plain table outside the system schemas and extensions. */
	private static final String USER_TABLES = """
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
			""";

	/** Whether a database holds anything of its own (see holdsObjects); "true" or "false". */
	private static final String OWN_OBJECTS = """
			SELECT (
			  EXISTS (SELECT 1 FROM pg_class o JOIN pg_namespace n ON n.oid = o.relnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_proc o JOIN pg_namespace n ON n.oid = o.pronamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  -- a relation's row type and array types come with what they belong to
			  OR EXISTS (SELECT 1 FROM pg_type o JOIN pg_namespace n ON n.oid = o.typnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND o.typrelid = 0 AND o.typcategory <> 'A'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_namespace o
			          WHERE o.nspname NOT IN ('public', 'pg_catalog', 'information_schema') AND o.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_event_trigger) OR EXISTS (SELECT 1 FROM pg_publication)
			  OR EXISTS (SELECT 1 FROM pg_foreign_server) OR EXISTS (SELECT 1 FROM pg_largeobject_metadata)
			  OR EXISTS (SELECT 1 FROM pg_collation o JOIN pg_namespace n ON n.oid = o.collnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_collation'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  OR EXISTS (SELECT 1 FROM pg_ts_config o JOIN pg_namespace n ON n.oid = o.cfgnamespace
			          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
			            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_ts_config'::regclass AND d.objid = o.oid AND d.deptype = 'e'))
			  -- rows an extension keeps of its users' (pg_extension_config_dump): PostGIS's spatial_ref_sys, partman's config
			  OR EXISTS (SELECT 1 FROM pg_extension e WHERE e.extconfig IS NOT NULL)
			)::text
			""";

	/** What pg_export_snapshot() returns (00000003-0000001B-1): checked before it goes into SET TRANSACTION SNAPSHOT. */
	private static final java.util.regex.Pattern SNAPSHOT_ID = java.util.regex.Pattern.compile("[0-9A-F]+(-[0-9A-F]+)+");

	private static final java.util.regex.Pattern BACKUP_ID = java.util.regex.Pattern.compile("\\d{8}T\\d{9}Z");

	/**
	 * The names {@link #unique} gives the databases a restore or verify makes: staging and scratch ones are
	 * swept when left; a replaced one (the old data, renamed aside) is left for the operator.
	 */
	private static final java.util.regex.Pattern MADE_NAME = java.util.regex.Pattern
		.compile("pgbatch_(restoring|verify|replaced)_\\d{8}t\\d{9}z_[0-9a-f]{8}");

	static final String SESSIONS = "database '%s' has %d other sessions connected: end them, or pass --terminate-sessions to have the restore end them";

	static final String STAGING_TARGET = "'%s' has the shape of the databases a restore stages in and sweeps away when left: restore into another name";

	static final String MAINTENANCE_TARGET = "'%s' is the maintenance database the restore works from: restore into another database";

	/**
	 * Where CREATE, RENAME and DROP DATABASE run from: never a database they act on (PostgreSQL cannot drop
	 * or rename the database a statement runs in), and every role may connect to it by default.
	 */
	private static final String MAINTENANCE = "postgres";

	private static final SecureRandom RANDOM = new SecureRandom();

	/** The lock of a staging or scratch database's life (holdStaging). */
	private static final String STAGING = "backup staging ";

	private static final Set<String> DATABASE_PRIVILEGES = Set.of("CREATE", "CONNECT", "TEMPORARY");

	/** Settings whose stored value is a list of identifiers (GUC_LIST_QUOTE in PostgreSQL). */
	private static final Set<String> LIST_SETTINGS = Set.of("search_path", "temp_tablespaces", "local_preload_libraries",
			"session_preload_libraries", "shared_preload_libraries");

	private static final Logger log = LoggerFactory.getLogger(Backups.class);

	static final String FOREIGN_MANIFEST = "%s does not describe the backup it is stored with: refused";

	static final String AMBIGUOUS = "'%s' names backups of several databases or servers (%s); remove the stray one by hand";

	static final String NOT_AN_ID = "'%s' is not a backup id (like 20261123T020000123Z; bin/etl backup list shows them)";

	private final ObjectStore store;

	private final KeysetProperties keyset;

	private final PostgresTools tools;

	private final BackupProperties properties;

	private final Clock clock;

	private final ExecutionLock lock;

	private final ObjectProvider<DataSource> dataSource;

	/** Where a backup lives in the store: under the prefix, its server, its database and its id. */
	record Folder(String server, String database, String id) {

		String key(String prefix) {
			return prefix + "/" + this.server + "/" + this.database + "/" + this.id + "/";
		}

	}

	/**
	 * What a retention run deleted (or, dry, would delete) and kept, of one database of one server, and how
	 * many backups and uploads in its folder it left alone as not this cluster's (or not known to be).
	 */
	record Retained(List<String> expired, int abandoned, int kept, int notOurs) {
	}

	/** Written first into a backup's folder: which cluster the upload is of, before its manifest says so. */
	record Started(String systemIdentifier, String startedAt) {
	}

	Backups(ObjectStore store, KeysetProperties keyset, PostgresTools tools, BackupProperties properties,
			ExecutionLock lock, ObjectProvider<DataSource> dataSource) {
		this.lock = lock;
		this.dataSource = dataSource;
		this.store = store;
		this.keyset = keyset;
		this.tools = tools;
		this.properties = properties;
		this.clock = Clock.systemUTC();
	}

	/** A complete backup and whether a verify has passed on it. */
	public record Entry(BackupManifest manifest, Verified verified) {
	}

	/** What a passed verify wrote. */
	public record Verified(String verifiedAt, boolean restoreTested) {
	}

	/** The database a backup of {@code database} ("" for the configured one) would dump; refused if missing. */
	String checkedDatabase(String database) {
		String name = database.isEmpty() ? this.tools.defaultDatabase() : SqlNames.checkedName(database);
		if (!exists(name)) {
			throw new UsageException(String.format(NO_DATABASE, name));
		}
		return name;
	}

	/**
	 * pg_dump in the custom format, uncompressed (zstd does it better and faster), streamed sealed into the
	 * store. pg_dump takes the snapshot of a transaction of ours, so the row counts of the manifest are taken
	 * in exactly what it dumps.
	 * <p>
	 * The backup holds no table lock beyond pg_dump's own. The exporting transaction only exports the
	 * snapshot (it stays open while pg_dump and the counts import it, and takes no lock). The rows are
	 * counted on another session, each table in a short transaction of its own that imports the same
	 * snapshot, so the counts are exactly what pg_dump dumps while at most one table's ACCESS SHARE lock is
	 * held at a time, and never while anything waits for pg_dump. Counting on the exporting transaction
	 * held a lock on every table until the upload ended: with archive's DETACH queued behind a reader,
	 * DETACH waited for those locks, pg_dump for DETACH and the session in Java for pg_dump, a deadlock
	 * PostgreSQL cannot see; and at 1,200 partitions the two sessions' locks overflowed the lock table.
	 * Counting from the dump stream would need a parser of pg_dump's archive format; estimates would not
	 * be exact, and verify compares the counts exactly.
	 */
	BackupManifest make(String database, LockWatch watch) throws IOException, SQLException {
		Keyset keys = this.keyset.load();
		Instant started = this.clock.instant();
		String id = ID.format(started);
		try (Connection connection = this.tools.connect(database)) {
			String system = systemIdentifier(connection);
			Folder folder = new Folder(server(connection), database, id);
			String objectKey = objectKey(folder);
			// tools of another major version fail here, before anything is written
			int major = PostgresTools.serverMajor(connection);
			String serverVersion = single(connection, "SHOW server_version");
			String dumpVersion = this.tools.checkedVersion("pg_dump", major);
			// first of the objects, so that an upload that never gets its manifest can still be told this
			// cluster's (retain)
			new SealedJson(this.store, keys).put(folder.key(prefix()) + STARTED, new Started(system, started.toString()));
			connection.setAutoCommit(false);
			try (Statement statement = connection.createStatement()) {
				statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
			}
			String snapshot = single(connection, "SELECT pg_export_snapshot()");
			PostgresTools.Running dump = this.tools.start("pg_dump", major, database,
					List.of("--format=custom", "--compress=0", "--snapshot=" + snapshot, "--no-password"));
			watch.guard(dump);
			CompletableFuture<Map<String, Long>> counts = OwnThreads.start("row counts", () -> {
				try (Connection counting = this.tools.connect(database)) {
					return rowCounts(counting, snapshot);
				}
				catch (SQLException ex) {
					throw new IllegalStateException("cannot count the rows: " + ex.getMessage(), ex);
				}
			});
			SealedObjects.Stored stored;
			try {
				stored = new SealedObjects(this.store, keys).put(objectKey, plaintext -> {
					try (InputStream out = dump.process().getInputStream()) {
						out.transferTo(plaintext);
					}
					dump.finish();
				});
			}
			catch (IOException | RuntimeException ex) {
				dump.kill();
				watch.check();
				throw ex;
			}
			Map<String, Long> rows = counts.join();
			connection.commit();
			// the manifest makes the backup complete: not without the lock
			watch.check();
			BackupManifest manifest = new BackupManifest(id, folder.server(), system, database, serverVersion, dumpVersion,
					started.toString(), this.clock.instant().toString(), stored.plainBytes(), stored.compressedBytes(),
					stored.storedBytes(), stored.storedSha256(), keys.primaryKeyId(), objectKey, BackupManifest.FORMAT, rows);
			new SealedJson(this.store, keys).put(folder.key(prefix()) + MANIFEST, manifest);
			return manifest;
		}
	}

	/** Complete backups of every server and database, newest first. */
	public List<Entry> list() {
		return new ArrayList<>(entries(folders(true)).values());
	}

	/**
	 * Retention over the complete backups of one database of this server ({@link Retention}), and removal of
	 * that database's abandoned uploads. Backups of other databases and other servers are not looked at.
	 * {@code current} is the backup this run made: kept whatever the numbers say, and the time the store
	 * wrote its manifest is "now" for the abandoned-upload check, so every age is judged by the store's
	 * clock alone, never a runner's clock against ids another runner's clock made.
	 */
	Retained retain(String database, String current, long last, long daily, long weekly, boolean dryRun)
			throws SQLException {
		String server;
		String system;
		try (Connection connection = this.tools.connect(database)) {
			server = server(connection);
			system = systemIdentifier(connection);
		}
		// per id of this database's folders: when the store wrote its manifest, and its newest object
		Map<String, Instant> manifests = new TreeMap<>();
		Map<String, Instant> written = new TreeMap<>();
		String under = prefix() + "/" + server + "/" + database + "/";
		for (ObjectStore.StoredObject object : this.store.list(under)) {
			String[] parts = object.key().substring(under.length()).split("/", -1);
			if (parts.length == 2 && BACKUP_ID.matcher(parts[0]).matches()) {
				written.merge(parts[0], object.lastModified(), (a, b) -> a.isAfter(b) ? a : b);
				if (parts[1].equals(MANIFEST)) {
					manifests.put(parts[0], object.lastModified());
				}
			}
		}
		// newest first by the store's clock; only this cluster's count or go (two clusters may share a server name)
		Map<Folder, Entry> entries = entries(manifests.entrySet().stream()
			.sorted(Map.Entry.<String, Instant>comparingByValue().thenComparing(Map.Entry.comparingByKey()).reversed())
			.map(manifest -> new Folder(server, database, manifest.getKey()))
			.toList());
		int complete = entries.size();
		entries.entrySet().removeIf(entry -> !ours(entry.getValue().manifest().systemIdentifier(), entry.getKey(), system));
		int notOurs = complete - entries.size();
		List<Retention.Candidate> byStore = entries.entrySet().stream()
			.map(entry -> new Retention.Candidate(entry.getKey().id(), manifests.get(entry.getKey().id()),
					entry.getValue().verified() != null))
			.toList();
		// and by the times the ids name: a bucket copied or mirrored gives every object the day of the copy, and
		// the store's times alone would then make weeks of backups one day's. Only what both orders let go goes.
		List<Retention.Candidate> byName = byStore.stream()
			.map(candidate -> new Retention.Candidate(candidate.id(), ID.parse(candidate.id(), Instant::from),
					candidate.verified()))
			.sorted(Comparator.comparing(Retention.Candidate::storedAt)
				.thenComparing(Retention.Candidate::id)
				.reversed())
			.toList();
		Set<String> kept = new HashSet<>(Retention.keep(byStore, current, last, daily, weekly));
		kept.addAll(Retention.keep(byName, current, last, daily, weekly));
		List<Folder> expired = entries.keySet().stream().filter(folder -> !kept.contains(folder.id())).toList();
		// a folder without a manifest whose newest object the store wrote long before this run's manifest:
		// no run still writes it (an upload in progress is not listed at all until its last part, and what a
		// runner finishes is followed by its manifest within moments)
		Instant now = manifests.get(current);
		List<Folder> abandoned = now == null ? List.of() : written.entrySet().stream()
			.filter(folder -> !manifests.containsKey(folder.getKey()))
			.filter(folder -> folder.getValue().isBefore(now.minus(this.properties.abandonedAfter())))
			.map(folder -> new Folder(server, database, folder.getKey()))
			.toList();
		int uploads = abandoned.size();
		abandoned = abandoned.stream().filter(folder -> uploadIsOurs(folder, system)).toList();
		notOurs += uploads - abandoned.size();
		if (notOurs > 0) {
			log.info("retention left {} backups and uploads under {} alone: another cluster's, or not known to be ours",
					notOurs, under);
		}
		if (!dryRun) {
			expired.forEach(this::delete);
			abandoned.forEach(this::delete);
		}
		return new Retained(expired.stream().map(Folder::id).toList(), abandoned.size(), kept.size(), notOurs);
	}

	/**
	 * Whether a backup in this server's folder is this cluster's: the system identifier it recorded is ours.
	 * One written before identifiers were recorded (null) is ours only in a folder named by our identifier
	 * (ETL_BACKUP_SERVER_NAME unset then); under a server name it cannot be told from another cluster's given
	 * the same name, and is never counted or removed.
	 */
	private static boolean ours(String recorded, Folder folder, String system) {
		return recorded != null ? recorded.equals(system) : folder.server().equals(system);
	}

	/** Whether an upload without a manifest is this cluster's, by its started.json (see ours). */
	private boolean uploadIsOurs(Folder folder, String system) {
		String key = folder.key(prefix()) + STARTED;
		if (this.store.list(key).isEmpty()) {
			return ours(null, folder, system);
		}
		try {
			return ours(new SealedJson(this.store, this.keyset.load()).get(key, Started.class).systemIdentifier(), folder,
					system);
		}
		catch (IOException | RuntimeException ex) {
			log.warn("{} is left in place: its {} cannot be read ({})", folder.key(prefix()), STARTED, ex.getMessage());
			return false;
		}
	}

	/** Removes a complete backup (tests and the command line name it by id). */
	void delete(String id) {
		delete(folder(id));
	}

	/** Removes a backup: its manifest first, so a half-removed backup is never listed as complete. */
	private void delete(Folder folder) {
		String key = folder.key(prefix());
		this.store.delete(key + MANIFEST);
		for (ObjectStore.StoredObject object : this.store.list(key)) {
			this.store.delete(object.key());
		}
	}

	/**
	 * Streams a backup back: checks the stored object's size and SHA-256 against the manifest, authenticates
	 * every segment, decompresses, and has pg_restore read the archive (--list); with {@code restoreTest} it
	 * restores into a scratch database instead, compares every table's row count with the manifest, and
	 * drops it. A pass is recorded beside the backup.
	 */
	public Verified verify(String id, boolean restoreTest) throws IOException, SQLException {
		BackupManifest manifest = manifest(id);
		try (ExecutionLock.Held held = this.lock.acquire("backup verify " + id, MAINTENANCE)) {
			LockWatch watch = new LockWatch();
			watch.watch(held, "backup verify " + id);
			return verify(manifest, restoreTest, watch);
		}
	}

	private Verified verify(BackupManifest manifest, boolean restoreTest, LockWatch watch) throws IOException, SQLException {
		String id = manifest.id();
		if (!restoreTest) {
			readInto(manifest, List.of("--list"), this.tools.defaultDatabase(), watch);
		}
		else {
			sweepStaging();
			String scratch = unique("pgbatch_verify_" + id);
			try (ExecutionLock.Held staging = holdStaging(scratch); LockWatch.Watched watched = watch.watch(staging,
					STAGING + scratch)) {
				restoreInto(manifest, scratch, null, watch);
				dropDatabase(scratch);
			}
		}
		watch.check();
		Verified verified = new Verified(this.clock.instant().toString(), restoreTest);
		new SealedJson(this.store, this.keyset.load())
			.put(folder(id).key(prefix()) + VERIFIED + ID.format(this.clock.instant()) + ".json", verified);
		return verified;
	}

	/**
	 * The archive id a restored database carries (ops.archive_installation, restored with it: the id of the
	 * database the backup was taken of), or null when it has none (a backup from before V18).
	 */
	public String archiveId(String database) throws SQLException {
		try (Connection connection = this.tools.connect(database); Statement statement = connection.createStatement()) {
			try (ResultSet table = statement.executeQuery("SELECT to_regclass('ops.archive_installation') IS NOT NULL")) {
				if (!table.next() || !table.getBoolean(1)) {
					return null;
				}
			}
			try (ResultSet id = statement.executeQuery("SELECT archive_id::text FROM ops.archive_installation")) {
				return id.next() ? id.getString(1) : null;
			}
		}
	}

	/**
	 * Restores a backup into {@code target}: into a database of its own first (a staging name of its own,
	 * so two restores never share one), renamed to {@code target} once every table holds the rows the
	 * manifest recorded, so a failed restore (a backup that fails authentication half way, a full disk)
	 * leaves {@code target} as it was and nothing behind. A {@code target} that holds tables is refused
	 * unless {@code force}; then it is renamed aside, the restored one takes its name, and only then is the
	 * old one dropped (a failed rename puts it back). Sessions connected to the target are refused, naming
	 * how many, unless {@code terminateSessions}, which ends them. Every administrative statement runs in
	 * the maintenance database, so the configured database itself can be replaced; one restore into a
	 * target at a time (a lock as jobs take, core/ExecutionLock).
	 */
	public void restore(String id, String target, boolean force, boolean terminateSessions) throws IOException, SQLException {
		try {
			SqlNames.checkedName(target);
		}
		catch (IllegalArgumentException ex) {
			throw new UsageException(ex.getMessage());
		}
		if (target.equals(MAINTENANCE)) {
			throw new UsageException(String.format(MAINTENANCE_TARGET, MAINTENANCE));
		}
		if (MADE_NAME.matcher(target).matches()) {
			throw new UsageException(String.format(STAGING_TARGET, target));
		}
		BackupManifest manifest = manifest(id);
		try (ExecutionLock.Held held = this.lock.acquire("backup restore into " + target, MAINTENANCE)) {
			LockWatch watch = new LockWatch();
			watch.watch(held, "backup restore into " + target);
			// first: a target an interrupted swap left closed is opened again before anything connects to it
			sweepStaging();
			boolean existed = exists(target);
			if (existed) {
				if (holdsObjects(target) && !force) {
					throw new UsageException(String.format(NOT_EMPTY, target));
				}
				try (Connection admin = this.tools.connect(MAINTENANCE)) {
					RestoreChecks.requireOwnerRights(admin, target);
				}
				if (target.equals(this.tools.defaultDatabase())) {
					closeOwnPool();
				}
				int sessions = sessions(target);
				if (sessions > 0 && !terminateSessions) {
					throw new RefusedException(String.format(SESSIONS, target, sessions));
				}
			}
			String staging = unique("pgbatch_restoring_" + id);
			try (ExecutionLock.Held stagingLock = holdStaging(staging)) {
				watch.watch(stagingLock, STAGING + staging);
				restoreAndSwap(manifest, target, staging, existed, terminateSessions, watch);
			}
		}
	}

	private void restoreAndSwap(BackupManifest manifest, String target, String staging, boolean existed,
			boolean terminateSessions, LockWatch watch) throws IOException, SQLException {
		restoreInto(manifest, staging, existed ? target : null, watch);
		try {
			// not without both locks: another restore could be on its way into the target, or sweeping staging
			watch.check();
			if (existed) {
				replace(target, staging, unique("pgbatch_replaced_" + manifest.id()), terminateSessions);
			}
			else {
				adminStatement("ALTER DATABASE " + SqlNames.quote(staging) + " RENAME TO " + SqlNames.quote(target));
			}
		}
		catch (SQLException | RuntimeException ex) {
			if (targetOpen(target, ex)) {
				dropDatabase(staging);
			}
			else {
				// its note names the target: the next restore opens it again, backup list warns meanwhile
				log.warn("{} is kept: {} may still refuse connections", staging, target);
			}
			throw ex;
		}
	}

	/**
	 * Whether the target takes connections after a failed swap, opened again if it was left closed, on a
	 * connection of its own (the swap's may be the one that failed).
	 */
	private boolean targetOpen(String target, Exception failure) {
		try (Connection admin = this.tools.connect(MAINTENANCE); PreparedStatement closed = admin
			.prepareStatement("SELECT NOT datallowconn FROM pg_database WHERE datname = ?")) {
			closed.setString(1, target);
			try (ResultSet rs = closed.executeQuery()) {
				if (rs.next() && rs.getBoolean(1)) {
					RestoreChecks.reopen(admin, target);
				}
			}
			return true;
		}
		catch (SQLException | RuntimeException again) {
			failure.addSuppressed(again);
			return false;
		}
	}

	/**
	 * Puts {@code staging} in the place of {@code target}: target renamed aside (with its sessions ended
	 * first, and no new ones let in, when asked), staging renamed to target, the old one dropped. Both
	 * renames commit together, so the target's name never goes missing, whatever fails in between; on a
	 * failure the target takes connections again.
	 */
	private void replace(String target, String staging, String aside, boolean terminateSessions) throws SQLException {
		try (Connection admin = this.tools.connect(MAINTENANCE); Statement statement = admin.createStatement()) {
			String comment = RestoreChecks.comment(admin, target);
			// tried again just before the target closes: grants or settings changed during pg_restore would
			// otherwise fail the swap only after every session of the target was ended
			RestoreChecks.tryCarryOver(admin, target, staging, Backups::carryOver);
			if (terminateSessions) {
				// first, where a kill -9 before the swap cannot take it along: the next restore opens the target again
				RestoreChecks.recordClosing(admin, staging, target);
				statement.execute("ALTER DATABASE " + SqlNames.quote(target) + " ALLOW_CONNECTIONS false");
			}
			try {
				if (terminateSessions) {
					// only sessions of roles the runner may signal: another role's session makes the rename
					// below fail, naming the database as being accessed, and the target stays as it was
					try (PreparedStatement terminate = admin.prepareStatement(
							"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND pg_has_role(usesysid, 'MEMBER')")) {
						terminate.setString(1, target);
						try (ResultSet rs = terminate.executeQuery()) {
							rs.next();
							log.info("ended {} sessions of {} before replacing it", rs.getLong(1), target);
						}
					}
				}
				admin.setAutoCommit(false);
				// a swap blocked behind another transaction fails and reopens the target, not keeps it closed
				statement.execute("SET LOCAL lock_timeout = '10s'");
				// in the swap's transaction: until it commits, a staging database is the runner's own (see staging())
				carryOver(admin, target, staging);
				statement.execute("ALTER DATABASE " + SqlNames.quote(target) + " RENAME TO " + SqlNames.quote(aside));
				statement.execute("ALTER DATABASE " + SqlNames.quote(staging) + " RENAME TO " + SqlNames.quote(target));
				// the replaced database's comment, in place of the note of the swap
				statement.execute("COMMENT ON DATABASE " + SqlNames.quote(target) + " IS "
						+ (comment == null ? "NULL" : literal(comment)));
				admin.commit();
			}
			catch (SQLException | RuntimeException ex) {
				if (!admin.getAutoCommit()) {
					admin.rollback();
					admin.setAutoCommit(true);
				}
				// opened again by the caller, on a connection of its own
				throw ex;
			}
			admin.setAutoCommit(true);
			try {
				Databases.drop(statement, SqlNames.quote(aside));
			}
			catch (SQLException ex) {
				// the restore is done: the target holds the backup
				log.warn("{} holds the restored backup; the database it replaced, {}, could not be dropped ({}): drop it by hand",
						target, aside, ex.getMessage());
			}
		}
	}

	/**
	 * A lock named after a staging or scratch database, held from before it is created until it is renamed
	 * or dropped: a database of that shape whose lock is free was left by a restore or verify that is gone
	 * (kill -9, power loss; the lock ends with its session), and {@link #sweepStaging} removes it.
	 */
	private ExecutionLock.Held holdStaging(String database) {
		return this.lock.acquire(STAGING + database, MAINTENANCE);
	}

	/**
	 * The databases that restores interrupted during their swap (their staging database left, its lock free)
	 * left refusing connections, each with what to do (for backup list, which changes nothing).
	 */
	public List<String> leftClosed() throws SQLException {
		List<String> warnings = new ArrayList<>();
		for (String database : staging()) {
			try (ExecutionLock.Held held = holdStaging(database); Connection admin = this.tools.connect(MAINTENANCE)) {
				String closed = RestoreChecks.leftClosed(admin, database);
				if (closed != null) {
					warnings.add(RestoreChecks.leftClosedWarning(closed));
				}
			}
			catch (RefusedException ex) {
				// its restore is running: the target is closed for its swap
			}
		}
		return warnings;
	}

	/**
	 * The staging and scratch databases there are (by the shape of their names), live or left: only those
	 * owned by the runner's role itself, as every one a restore or verify makes is until its swap. Another
	 * role's database of that shape (any CREATEDB role can make one, with a note naming a database to open)
	 * is not trusted, opened from or dropped, even when the runner has that role's rights.
	 */
	private List<String> staging() throws SQLException {
		List<String> found = new ArrayList<>();
		try (Connection admin = this.tools.connect(MAINTENANCE); Statement statement = admin.createStatement();
				ResultSet rs = statement.executeQuery(
						"SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)")) {
			while (rs.next()) {
				java.util.regex.Matcher made = MADE_NAME.matcher(rs.getString(1));
				if (made.matches() && !made.group(1).equals("replaced")) {
					found.add(rs.getString(1));
				}
			}
		}
		return found;
	}

	/** Drops the staging and scratch databases whose restore or verify is gone; those of live ones stay. */
	private void sweepStaging() throws SQLException {
		for (String database : staging()) {
			try (ExecutionLock.Held held = holdStaging(database)) {
				try (Connection admin = this.tools.connect(MAINTENANCE)) {
					String closed = RestoreChecks.leftClosed(admin, database);
					if (closed != null) {
						log.warn("opening {} to connections again: a restore interrupted during its swap left it closed", closed);
						RestoreChecks.reopen(admin, closed);
					}
				}
				log.warn("dropping {}, left by a restore or verify that is no longer running", database);
				// no FORCE: a database someone is connected to is not a leftover, whatever its lock says
				adminStatement("DROP DATABASE IF EXISTS " + SqlNames.quote(database));
			}
			catch (RefusedException ex) {
				// its restore or verify is running
			}
			catch (SQLException ex) {
				// one that cannot go must not stop this restore: say so and go on
				log.warn("{} is left in place: {}", database, ex.getMessage());
			}
		}
	}

	/**
	 * Gives {@code staging} what belongs to the database it replaces rather than to its contents: owner,
	 * privileges (datacl), connection limit, and its settings (ALTER DATABASE SET, ALTER ROLE IN DATABASE
	 * SET). pg_restore --no-owner carries none of them, and the applications connecting to the database
	 * depend on them. Names and values from the catalogue go in quoted (role names by quote_ident: any name a
	 * role may have), never as SQL text.
	 */
	private static void carryOver(Connection admin, String target, String staging) throws SQLException {
		String into = SqlNames.quote(staging);
		carrySettings(admin, target, into);
		try (Statement statement = admin.createStatement();
				PreparedStatement database = admin.prepareStatement(
						"SELECT quote_ident(pg_get_userbyid(datdba)), datconnlimit, datacl IS NULL FROM pg_database WHERE datname = ?")) {
			database.setString(1, target);
			try (ResultSet rs = database.executeQuery()) {
				rs.next();
				statement.execute("ALTER DATABASE " + into + " OWNER TO " + rs.getString(1));
				statement.execute("ALTER DATABASE " + into + " CONNECTION LIMIT " + rs.getInt(2));
				if (rs.getBoolean(3)) {
					// the defaults, as the new database has them
					return;
				}
			}
			statement.execute("REVOKE ALL ON DATABASE " + into + " FROM PUBLIC");
			try (PreparedStatement acl = admin.prepareStatement("""
					SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE quote_ident(pg_get_userbyid(a.grantee)) END, a.privilege_type, a.is_grantable
					FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = ?""")) {
				acl.setString(1, target);
				try (ResultSet rs = acl.executeQuery()) {
					while (rs.next()) {
						if (!DATABASE_PRIVILEGES.contains(rs.getString(2))) {
							throw new IllegalStateException("unexpected database privilege " + rs.getString(2));
						}
						statement.execute("GRANT " + rs.getString(2) + " ON DATABASE " + into + " TO "
								+ (rs.getString(1) == null ? "PUBLIC" : rs.getString(1))
								+ (rs.getBoolean(3) ? " WITH GRANT OPTION" : ""));
					}
				}
			}
			RestoreChecks.requireDone(statement);
		}
	}

	private static void carrySettings(Connection admin, String target, String into) throws SQLException {
		try (Statement statement = admin.createStatement();
				PreparedStatement settings = admin.prepareStatement("""
						SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE quote_ident(pg_get_userbyid(s.setrole)) END, c.setting
						FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) c(setting)
						WHERE d.datname = ?""")) {
			settings.setString(1, target);
			try (ResultSet rs = settings.executeQuery()) {
				while (rs.next()) {
					String[] setting = rs.getString(2).split("=", 2);
					String role = rs.getString(1);
					statement.execute((role == null ? "ALTER DATABASE " + into : "ALTER ROLE " + role
							+ " IN DATABASE " + into) + " SET " + settingName(setting[0]) + " = " + settingValue(setting[0], setting[1]));
				}
			}
		}
	}

	/** A setting's name as the catalogue stores it (work_mem, or a prefixed one like pg_trgm.similarity_threshold). */
	private static String settingName(String name) {
		if (!name.matches("[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?")) {
			throw new IllegalStateException("unexpected setting name in pg_db_role_setting: " + name);
		}
		return name;
	}

	/**
	 * A stored setting as SQL literals: the list settings whose elements PostgreSQL quotes as identifiers
	 * (search_path: "a, b" stored as {@code a, "B c"}) as one literal per element, any other as one literal.
	 */
	private static String settingValue(String name, String value) {
		if (!LIST_SETTINGS.contains(name.toLowerCase(Locale.ROOT))) {
			return literal(value);
		}
		List<String> elements = new ArrayList<>();
		StringBuilder element = new StringBuilder();
		boolean quoted = false;
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			if (c == '"' && quoted && i + 1 < value.length() && value.charAt(i + 1) == '"') {
				element.append('"');
				i++;
			}
			else if (c == '"') {
				quoted = !quoted;
			}
			else if (c == ',' && !quoted) {
				elements.add(element.toString().strip());
				element.setLength(0);
			}
			else {
				element.append(c);
			}
		}
		elements.add(element.toString().strip());
		return String.join(", ", elements.stream().map(Backups::literal).toList());
	}

	private static String literal(String value) {
		return "'" + value.replace("'", "''") + "'";
	}

	/**
	 * Client sessions connected to a database, other than this one (autovacuum workers are ended by the
	 * rename itself).
	 */
	private int sessions(String database) throws SQLException {
		try (Connection admin = this.tools.connect(MAINTENANCE);
				PreparedStatement statement = admin
					.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid() AND backend_type = 'client backend'")) {
			statement.setString(1, database);
			try (ResultSet rs = statement.executeQuery()) {
				rs.next();
				return rs.getInt(1);
			}
		}
	}

	/**
	 * Closes this process's own pool before its database is replaced: its idle connections are sessions of
	 * the target too, and the command needs none of them any more (the restore uses connections of its own).
	 */
	private void closeOwnPool() {
		if (this.dataSource.getIfAvailable() instanceof AutoCloseable pool) {
			try {
				pool.close();
			}
			catch (Exception ex) {
				throw new IllegalStateException("cannot close the connection pool: " + ex.getMessage(), ex);
			}
		}
	}

	/** A database name no other run uses: a prefix and 32 random bits. */
	private static String unique(String prefix) {
		return prefix.toLowerCase(Locale.ROOT) + "_" + HexFormat.of().toHexDigits(RANDOM.nextInt());
	}

	/**
	 * A new database made from the backup, checked against its manifest; dropped again when anything fails.
	 * When it is to replace {@code replacing}, what it takes over from that one is tried first, while it is
	 * still empty (RestoreChecks).
	 */
	private void restoreInto(BackupManifest manifest, String database, String replacing, LockWatch watch)
			throws IOException, SQLException {
		dropDatabase(database);
		createDatabase(database);
		try {
			if (replacing != null) {
				try (Connection admin = this.tools.connect(MAINTENANCE)) {
					RestoreChecks.tryCarryOver(admin, replacing, database, Backups::carryOver);
				}
			}
			readInto(manifest, List.of("--dbname=" + database, "--single-transaction", "--exit-on-error", "--no-owner"),
					database, watch);
			compareCounts(manifest, database);
		}
		catch (IOException | SQLException | RuntimeException ex) {
			dropDatabase(database);
			watch.check();
			throw ex;
		}
	}

	/** A complete backup's manifest, authenticated and checked against where it is stored. */
	public BackupManifest manifest(String id) throws IOException {
		return manifest(folder(id), this.keyset.load());
	}

	/**
	 * The manifest of a folder: authenticated with the keyset under its own key (an edited manifest, or one
	 * copied from another backup's folder, fails here, before any field of it is used), then checked to
	 * describe this very folder and its object.
	 */
	private BackupManifest manifest(Folder folder, Keyset keys) throws IOException {
		String key = folder.key(prefix()) + MANIFEST;
		BackupManifest manifest = new SealedJson(this.store, keys).get(key, BackupManifest.class);
		if (!manifest.id().equals(folder.id()) || !manifest.server().equals(folder.server())
				|| !manifest.database().equals(folder.database()) || !manifest.objectKey().equals(objectKey(folder))) {
			throw new RefusedException(String.format(FOREIGN_MANIFEST, key));
		}
		return manifest;
	}

	/** Feeds the authenticated plaintext of a backup to pg_restore, and checks the stored object on the way. */
	private void readInto(BackupManifest manifest, List<String> arguments, String database, LockWatch watch)
			throws IOException, SQLException {
		// the key comes from where the manifest is stored (checked equal to what it records), never from its text
		String objectKey = objectKey(new Folder(manifest.server(), manifest.database(), manifest.id()));
		List<ObjectStore.StoredObject> objects = this.store.list(objectKey);
		long size = objects.size() == 1 && objects.get(0).key().equals(objectKey) ? objects.get(0).size() : -1;
		if (size != manifest.storedBytes()) {
			throw new RefusedException(String.format(MISMATCH, objectKey, manifest.storedBytes(), manifest.storedSha256(),
					size, "not read"));
		}
		int major;
		try (Connection connection = this.tools.connect(database)) {
			major = PostgresTools.serverMajor(connection);
		}
		this.tools.checkedVersion("pg_restore", major);
		Tally stored = new Tally(OutputStream.nullOutputStream());
		PostgresTools.Running restore = this.tools.start("pg_restore", major, database, arguments);
		watch.guard(restore);
		try (InputStream plain = new SealedObjects(this.store, this.keyset.load()).open(objectKey, stored);
				OutputStream stdin = restore.process().getOutputStream()) {
			byte[] buffer = new byte[1 << 16];
			boolean listening = true;
			for (int n; (n = plain.read(buffer)) >= 0;) {
				if (listening) {
					try {
						stdin.write(buffer, 0, n);
					}
					catch (IOException ex) {
						// pg_restore --list stops after the table of contents; the rest is still authenticated
						listening = false;
					}
				}
				else if (watch.lost()) {
					// killed by the watch: nothing more to read for
					watch.check();
				}
			}
		}
		catch (IOException | RuntimeException ex) {
			// killed before it reads an end: pg_restore never commits what it got before the failure
			restore.kill();
			throw ex;
		}
		restore.finish();
		if (stored.bytes() != manifest.storedBytes() || !stored.sha256().equals(manifest.storedSha256())) {
			throw new IOException(String.format(MISMATCH, objectKey, manifest.storedBytes(),
					manifest.storedSha256(), stored.bytes(), stored.sha256()));
		}
	}

	private void compareCounts(BackupManifest manifest, String database) throws SQLException {
		try (Connection connection = this.tools.connect(database)) {
			Map<String, Long> restored = rowCounts(connection, null);
			for (Map.Entry<String, Long> table : manifest.rowCounts().entrySet()) {
				long rows = restored.getOrDefault(table.getKey(), -1L);
				if (rows != table.getValue()) {
					throw new IllegalStateException(String.format(COUNTS_DIFFER, manifest.id(), table.getKey(), rows,
							table.getValue()));
				}
			}
		}
	}

	/**
	 * Every table's exact row count, by its quoted name as the catalogue spells it; each table counted in a
	 * transaction of its own, importing {@code snapshot} when given, so no more than one table is locked at
	 * a time.
	 */
	private static Map<String, Long> rowCounts(Connection connection, String snapshot) {
		try {
			connection.setAutoCommit(false);
			List<String> tables = inSnapshot(connection, snapshot, statement -> {
				List<String> names = new ArrayList<>();
				try (ResultSet rs = statement.executeQuery("SELECT format('%I.%I', n.nspname, c.relname) " + USER_TABLES + " ORDER BY 1")) {
					while (rs.next()) {
						names.add(rs.getString(1));
					}
				}
				return names;
			});
			Map<String, Long> counts = new TreeMap<>();
			for (String table : tables) {
				// the name comes from the catalogue, quoted by format('%I'), not from the manifest
				counts.put(table, inSnapshot(connection, snapshot, statement -> {
					try (ResultSet rs = statement.executeQuery("SELECT count(*) FROM " + table)) {
						rs.next();
						return rs.getLong(1);
					}
				}));
			}
			return counts;
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot count the rows: " + ex.getMessage(), ex);
		}
	}

	/** Work on a statement. */
	@FunctionalInterface
	private interface StatementWork<T> {

		T run(Statement statement) throws SQLException;

	}

	/** Runs work in a transaction of its own (in the snapshot when one is given) and ends it. */
	private static <T> T inSnapshot(Connection connection, String snapshot, StatementWork<T> work) throws SQLException {
		try (Statement statement = connection.createStatement()) {
			if (snapshot != null) {
				if (!SNAPSHOT_ID.matcher(snapshot).matches()) {
					throw new IllegalStateException("unexpected snapshot id from pg_export_snapshot()");
				}
				statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
				statement.execute("SET TRANSACTION SNAPSHOT '" + snapshot + "'");
			}
			T result = work.run(statement);
			connection.commit();
			return result;
		}
		catch (SQLException | RuntimeException ex) {
			connection.rollback();
			throw ex;
		}
	}

	/**
	 * The complete backups of these folders, in their order. A manifest that does not authenticate is left
	 * out with a warning: it is no backup of ours to list, count or remove.
	 */
	private Map<Folder, Entry> entries(List<Folder> folders) {
		Keyset keys = this.keyset.load();
		Map<Folder, Entry> entries = new LinkedHashMap<>();
		for (Folder folder : folders) {
			try {
				entries.put(folder, new Entry(manifest(folder, keys), verified(folder, keys)));
			}
			catch (IOException | RefusedException ex) {
				log.warn("{} is left out: its manifest {}", folder.key(prefix()), ex.getMessage());
			}
		}
		return entries;
	}

	/** The folder of a complete backup, by its id; refused when there is none, or more than one. */
	private Folder folder(String id) {
		if (!BACKUP_ID.matcher(id).matches()) {
			throw new UsageException(String.format(NOT_AN_ID, id));
		}
		List<Folder> found = folders(true).stream().filter(folder -> folder.id().equals(id)).toList();
		if (found.isEmpty()) {
			throw new RefusedException(String.format(UNKNOWN, id));
		}
		if (found.size() > 1) {
			throw new RefusedException(String.format(AMBIGUOUS, id,
					String.join(", ", found.stream().map(folder -> folder.server() + "/" + folder.database()).toList())));
		}
		return found.get(0);
	}

	/**
	 * Objects under the prefix outside any backup folder this version reads (server/database/id/file): an
	 * older layout, or objects someone else put there. Not listed, never restored, never removed by
	 * retention: `backup list` counts them so they are not forgotten.
	 */
	public long unlisted() {
		String prefix = prefix() + "/";
		return this.store.list(prefix).stream()
			.filter(object -> folderOf(object.key().substring(prefix.length())) == null)
			.count();
	}

	/** The folder of a key below the prefix, or null when the key is not of a backup folder's shape. */
	private static Folder folderOf(String relativeKey) {
		String[] parts = relativeKey.split("/", -1);
		return (parts.length == 4 && BACKUP_ID.matcher(parts[2]).matches()) ? new Folder(parts[0], parts[1], parts[2]) : null;
	}

	/** Backup folders (only those with a manifest: complete), newest first; keys of another shape are ignored. */
	private List<Folder> folders(boolean completeOnly) {
		TreeSet<Folder> folders = new TreeSet<>(Comparator.comparing(Folder::id)
			.thenComparing(Folder::server)
			.thenComparing(Folder::database)
			.reversed());
		String prefix = prefix() + "/";
		for (ObjectStore.StoredObject object : this.store.list(prefix)) {
			String relativeKey = object.key().substring(prefix.length());
			Folder folder = folderOf(relativeKey);
			if (folder != null && (!completeOnly || relativeKey.endsWith("/" + MANIFEST))) {
				folders.add(folder);
			}
		}
		return new ArrayList<>(folders);
	}

	/**
	 * The newest verify record that authenticates: an object planted beside the real records (anyone who may
	 * put into the bucket can) must not make a verified backup count as unverified, which retention could
	 * then remove. Any other failure (the store, a record this version cannot read) fails the caller: a
	 * verified backup taken for unverified could be removed.
	 */
	private Verified verified(Folder folder, Keyset keys) {
		List<ObjectStore.StoredObject> records = this.store.list(folder.key(prefix()) + VERIFIED);
		for (int i = records.size() - 1; i >= 0; i--) {
			String key = records.get(i).key();
			try {
				return new SealedJson(this.store, keys).get(key, Verified.class);
			}
			catch (AuthenticationFailedException ex) {
				log.warn("{} is not taken for a verify: {}", key, ex.getMessage());
			}
			catch (IOException ex) {
				throw new UncheckedIOException(key + ": " + ex.getMessage(), ex);
			}
		}
		return null;
	}

	/** The backups' prefix in the object store, as `backup list` names it. */
	public String prefix() {
		return this.properties.prefix();
	}

	private String objectKey(Folder folder) {
		return folder.key(prefix()) + folder.database() + ".dump.zst.tink";
	}

	/** The cluster's system identifier: pg_control_system() is executable by every role (PUBLIC) by default. */
	private static String systemIdentifier(Connection connection) throws SQLException {
		return single(connection, "SELECT system_identifier::text FROM pg_control_system()");
	}

	/**
	 * The server's folder: ETL_BACKUP_SERVER_NAME, or else the cluster's system identifier (the same for
	 * every database of one server, different for every other, except for clusters cloned from one another).
	 */
	private String server(Connection connection) throws SQLException {
		return this.properties.serverName().isEmpty() ? systemIdentifier(connection) : this.properties.serverName();
	}

	private boolean exists(String database) {
		try (Connection connection = this.tools.connect(MAINTENANCE);
				var statement = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
			statement.setString(1, database);
			try (ResultSet rs = statement.executeQuery()) {
				return rs.next();
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot read the databases: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Whether a database holds anything of its own: a relation of any kind (table, view, materialized view,
	 * sequence, foreign table, composite type), function, type or operator outside the system
	 * schemas, a collation or text search configuration, a schema other than public, an event trigger,
	 * publication or foreign server, a large object, or an extension that keeps its users' rows in tables of
	 * its own (OWN_OBJECTS). Other extensions and what they bring do not count: a new database has those of its template (the stack's
	 * template1 has vector), and the restore brings the backup's own. Replacing a database that holds
	 * only views or functions loses them as surely as tables.
	 */
	private boolean holdsObjects(String database) throws SQLException {
		try (Connection connection = this.tools.connect(database)) {
			return "true".equals(single(connection, OWN_OBJECTS));
		}
	}

	private void createDatabase(String database) throws SQLException {
		adminStatement("CREATE DATABASE " + SqlNames.quote(database));
	}

	private void dropDatabase(String database) throws SQLException {
		try (Connection connection = this.tools.connect(MAINTENANCE);
				Statement statement = connection.createStatement()) {
			Databases.drop(statement, SqlNames.quote(database));
		}
	}

	private void adminStatement(String sql) throws SQLException {
		try (Connection connection = this.tools.connect(MAINTENANCE);
				Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

	private static String single(Connection connection, String sql) throws SQLException {
		try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
			rs.next();
			return rs.getString(1);
		}
	}

}
