package dev.pgbatch.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import dev.pgbatch.core.Databases;
import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedObjects;
import dev.pgbatch.store.CountingHashingOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

import static dev.pgbatch.backup.ServerDatabases.MAINTENANCE;

/**
 * Reads a logical backup back: verifies it (pg_restore --list, or a restore into a scratch database with
 * every table's rows counted) and restores it into a database, staged under a name of its own and swapped in
 * only once complete.
 */
@Component
public class BackupRestorer {

	static final String NOT_EMPTY = "database '%s' is not empty (it holds tables, views, functions, types or schemas of its own): restore into a new database, or pass --force to replace what is in it";

	static final String MISMATCH = "%s: the stored object is not the one the manifest describes (%d bytes, sha256 %s; read: %d bytes, sha256 %s)";

	static final String COUNTS_DIFFER = "%s: after the restore %s holds %d rows, the backup recorded %d";

	/**
	 * The names {@link #unique} gives the databases a restore or verify makes: staging and scratch ones are
	 * swept when left; a replaced one (the old data, renamed aside) is left for the operator.
	 */
	private static final Pattern MADE_NAME = Pattern
		.compile("pgbatch_(restoring|verify|replaced)_\\d{8}t\\d{9}z_[0-9a-f]{8}");

	static final String SESSIONS = "database '%s' has %d other sessions connected: end them, or pass --terminate-sessions to have the restore end them";

	static final String STAGING_TARGET = "'%s' has the shape of the databases a restore stages in and sweeps away when left: restore into another name";

	static final String MAINTENANCE_TARGET = "'%s' is the maintenance database the restore works from: restore into another database";

	private static final SecureRandom RANDOM = new SecureRandom();

	/** The lock of a staging or scratch database's life (holdStaging). */
	private static final String STAGING = "backup staging ";

	private static final Logger log = LoggerFactory.getLogger(BackupRestorer.class);

	private final ObjectStore store;

	private final KeysetProperties keyset;

	private final PostgresTools tools;

	private final ServerDatabases databases;

	private final BackupCatalog catalog;

	private final ExecutionLock lock;

	private final ObjectProvider<DataSource> dataSource;

	BackupRestorer(ObjectStore store, KeysetProperties keyset, PostgresTools tools, ServerDatabases databases,
			BackupCatalog catalog, ExecutionLock lock, ObjectProvider<DataSource> dataSource) {
		this.store = store;
		this.keyset = keyset;
		this.tools = tools;
		this.databases = databases;
		this.catalog = catalog;
		this.lock = lock;
		this.dataSource = dataSource;
	}

	/**
	 * Streams a backup back: checks the stored object's size and SHA-256 against the manifest, authenticates
	 * every segment, decompresses, and has pg_restore read the archive (--list); with {@code restoreTest} it
	 * restores into a scratch database instead, compares every table's row count with the manifest, and
	 * drops it. A pass is recorded beside the backup.
	 */
	public BackupCatalog.Verification verify(String id, boolean restoreTest) throws IOException, SQLException {
		BackupManifest manifest = this.catalog.manifest(id);
		try (ExecutionLock.Held held = this.lock.acquire("backup verify " + id, MAINTENANCE)) {
			LockWatch watch = new LockWatch();
			watch.watch(held, "backup verify " + id);
			return verify(manifest, restoreTest, watch);
		}
	}

	private BackupCatalog.Verification verify(BackupManifest manifest, boolean restoreTest, LockWatch watch) throws IOException, SQLException {
		String id = manifest.id();
		if (!restoreTest) {
			readInto(manifest, List.of("--list"), this.databases.defaultDatabase(), watch);
		}
		else {
			sweepStaging();
			String scratch = unique("pgbatch_verify_" + id);
			try (ExecutionLock.Held staging = holdStaging(scratch); LockWatch.Watched watched = watch.watch(staging,
					STAGING + scratch)) {
				restoreInto(manifest, scratch, null, watch);
				this.databases.drop(scratch);
			}
		}
		watch.check();
		return this.catalog.recordVerified(id, restoreTest);
	}

	/**
	 * The archive id a restored database carries (ops.archive_installation, restored with it: the id of the
	 * database the backup was taken of), or null when it has none (a backup from before V18).
	 */
	public String archiveId(String database) throws SQLException {
		try (Connection connection = this.databases.connect(database); Statement statement = connection.createStatement()) {
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
		BackupManifest manifest = this.catalog.manifest(id);
		try (ExecutionLock.Held held = this.lock.acquire("backup restore into " + target, MAINTENANCE)) {
			LockWatch watch = new LockWatch();
			watch.watch(held, "backup restore into " + target);
			// first: a target an interrupted swap left closed is opened again before anything connects to it
			sweepStaging();
			boolean existed = this.databases.exists(target);
			if (existed) {
				if (this.databases.holdsObjects(target) && !force) {
					throw new UsageException(String.format(NOT_EMPTY, target));
				}
				try (Connection admin = this.databases.connect(MAINTENANCE)) {
					RestoreChecks.requireOwnerRights(admin, target);
				}
				if (target.equals(this.databases.defaultDatabase())) {
					closeOwnPool();
				}
				int sessions = this.databases.sessions(target);
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
				this.databases.execute("ALTER DATABASE " + SqlNames.quote(staging) + " RENAME TO " + SqlNames.quote(target));
			}
		}
		catch (SQLException | RuntimeException ex) {
			if (targetOpen(target, ex)) {
				this.databases.drop(staging);
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
		try (Connection admin = this.databases.connect(MAINTENANCE); PreparedStatement closed = admin
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
		try (Connection admin = this.databases.connect(MAINTENANCE); Statement statement = admin.createStatement()) {
			String comment = RestoreChecks.comment(admin, target);
			// tried again just before the target closes: grants or settings changed during pg_restore would
			// otherwise fail the swap only after every session of the target was ended
			RestoreChecks.tryCarryOver(admin, target, staging);
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
				DatabaseHandover.carryOver(admin, target, staging);
				statement.execute("ALTER DATABASE " + SqlNames.quote(target) + " RENAME TO " + SqlNames.quote(aside));
				statement.execute("ALTER DATABASE " + SqlNames.quote(staging) + " RENAME TO " + SqlNames.quote(target));
				// the replaced database's comment, in place of the note of the swap
				statement.execute("COMMENT ON DATABASE " + SqlNames.quote(target) + " IS "
						+ (comment == null ? "NULL" : DatabaseHandover.literal(comment)));
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
			try (ExecutionLock.Held held = holdStaging(database); Connection admin = this.databases.connect(MAINTENANCE)) {
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
		try (Connection admin = this.databases.connect(MAINTENANCE); Statement statement = admin.createStatement();
				ResultSet rs = statement.executeQuery(
						"SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)")) {
			while (rs.next()) {
				Matcher made = MADE_NAME.matcher(rs.getString(1));
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
				try (Connection admin = this.databases.connect(MAINTENANCE)) {
					String closed = RestoreChecks.leftClosed(admin, database);
					if (closed != null) {
						log.warn("opening {} to connections again: a restore interrupted during its swap left it closed", closed);
						RestoreChecks.reopen(admin, closed);
					}
				}
				log.warn("dropping {}, left by a restore or verify that is no longer running", database);
				// no FORCE: a database someone is connected to is not a leftover, whatever its lock says
				this.databases.execute("DROP DATABASE IF EXISTS " + SqlNames.quote(database));
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
		this.databases.drop(database);
		this.databases.create(database);
		try {
			if (replacing != null) {
				try (Connection admin = this.databases.connect(MAINTENANCE)) {
					RestoreChecks.tryCarryOver(admin, replacing, database);
				}
			}
			readInto(manifest, List.of("--dbname=" + database, "--single-transaction", "--exit-on-error", "--no-owner"),
					database, watch);
			compareCounts(manifest, database);
		}
		catch (IOException | SQLException | RuntimeException ex) {
			this.databases.drop(database);
			watch.check();
			throw ex;
		}
	}

	/** Feeds the authenticated plaintext of a backup to pg_restore, and checks the stored object on the way. */
	private void readInto(BackupManifest manifest, List<String> arguments, String database, LockWatch watch)
			throws IOException, SQLException {
		// the key comes from where the manifest is stored (checked equal to what it records), never from its text
		String objectKey = this.catalog.objectKey(manifest);
		List<ObjectStore.StoredObject> objects = this.store.list(objectKey);
		long size = objects.size() == 1 && objects.get(0).key().equals(objectKey) ? objects.get(0).size() : -1;
		if (size != manifest.storedBytes()) {
			throw new RefusedException(String.format(MISMATCH, objectKey, manifest.storedBytes(), manifest.storedSha256(),
					size, "not read"));
		}
		int major;
		try (Connection connection = this.databases.connect(database)) {
			major = PostgresTools.serverMajor(connection);
		}
		this.tools.checkedVersion("pg_restore", major);
		CountingHashingOutputStream stored = new CountingHashingOutputStream(OutputStream.nullOutputStream());
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
		try (Connection connection = this.databases.connect(database)) {
			Map<String, Long> restored = TableCounts.of(connection, null);
			for (Map.Entry<String, Long> table : manifest.rowCounts().entrySet()) {
				long rows = restored.getOrDefault(table.getKey(), -1L);
				if (rows != table.getValue()) {
					throw new IllegalStateException(String.format(COUNTS_DIFFER, manifest.id(), table.getKey(), rows,
							table.getValue()));
				}
			}
		}
	}

}
