package dev.pgbatch.backup;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import dev.pgbatch.core.BackgroundThreads;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedObjects;

import org.springframework.stereotype.Component;

/** Makes a logical backup: pg_dump streamed sealed into the store, its folder in the catalogue. */
@Component
class BackupWriter {

	static final String NO_DATABASE = "database '%s' does not exist";

	private final ObjectStore store;

	private final KeysetProperties keyset;

	private final PostgresTools tools;

	private final ServerDatabases databases;

	private final BackupCatalog catalog;

	private final Clock clock = Clock.systemUTC();

	BackupWriter(ObjectStore store, KeysetProperties keyset, PostgresTools tools, ServerDatabases databases,
			BackupCatalog catalog) {
		this.store = store;
		this.keyset = keyset;
		this.tools = tools;
		this.databases = databases;
		this.catalog = catalog;
	}

	/** The database a backup of {@code database} ("" for the configured one) would dump; refused if missing. */
	String checkedDatabase(String database) {
		String name = database.isEmpty() ? this.databases.defaultDatabase() : SqlNames.checkedName(database);
		if (!this.databases.exists(name)) {
			throw new UsageException(String.format(NO_DATABASE, name));
		}
		return name;
	}

	/**
	 * pg_dump in the custom format, uncompressed (zstd does it better and faster), streamed sealed into the
	 * store. The row counts of the manifest are read from the dump itself as it streams (DumpRowCounts), for
	 * the tables the catalogue lists in the snapshot pg_dump dumps: exact, and without reading every table a
	 * second time beside pg_dump. A dump whose rows cannot be counted fails the backup. pg_dump writes names
	 * in UTF-8, whatever the database's encoding, as DumpRowCounts reads them and JDBC lists them.
	 * <p>
	 * The backup holds no table lock beyond pg_dump's own. The exporting transaction only exports the
	 * snapshot (it stays open while pg_dump and the listing import it, and takes no lock). The tables are
	 * listed on another session, in a short transaction of its own that imports the same snapshot and locks no
	 * table. Anything held on the exporting transaction until the upload ended could deadlock with archive's
	 * DETACH queued behind a reader (DETACH waiting for it, pg_dump for DETACH and the session in Java for
	 * pg_dump, a deadlock PostgreSQL cannot see).
	 */
	BackupManifest make(String database, LockWatch watch) throws IOException, SQLException {
		Keyset keys = this.keyset.load();
		Instant started = this.clock.instant();
		try (Connection connection = this.databases.connect(database)) {
			// tools of another major version fail here, before anything is written
			int major = PostgresTools.serverMajor(connection);
			String serverVersion = ServerDatabases.single(connection, "SHOW server_version");
			String dumpVersion = this.tools.checkedVersion("pg_dump", major);
			BackupCatalog.Upload upload = this.catalog.start(connection, database, started, keys);
			connection.setAutoCommit(false);
			try (Statement statement = connection.createStatement()) {
				statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
			}
			String snapshot = ServerDatabases.single(connection, "SELECT pg_export_snapshot()");
			PostgresTools.Running dump = this.tools.start("pg_dump", major, database,
					List.of("--format=custom", "--compress=0", "--encoding=UTF8", "--snapshot=" + snapshot, "--no-password"));
			watch.guard(dump);
			CompletableFuture<List<TableCounts.Listed>> tables = BackgroundThreads.start("tables",
					() -> listed(database, snapshot));
			SealedObjects.Stored stored;
			AtomicReference<Map<String, Long>> rows = new AtomicReference<>();
			try {
				stored = new SealedObjects(this.store, keys).put(upload.objectKey(), plaintext -> {
					Map<DumpRowCounts.Table, Long> dumped;
					try (InputStream out = dump.process().getInputStream()) {
						dumped = DumpRowCounts.copy(out, plaintext);
					}
					dump.finish();
					// within the content: counts that fail abandon the object instead of leaving it stored whole
					rows.set(TableCounts.inDump(tables.join(), dumped));
				});
			}
			catch (IOException | RuntimeException ex) {
				dump.kill();
				watch.check();
				throw ex;
			}
			connection.commit();
			// the manifest makes the backup complete: not without the lock
			watch.check();
			BackupManifest manifest = new BackupManifest(upload.id(), upload.folder().server(), upload.systemIdentifier(), database, serverVersion, dumpVersion,
					started.toString(), this.clock.instant().toString(), stored.plainBytes(), stored.compressedBytes(),
					stored.storedBytes(), stored.storedSha256(), keys.primaryKeyId(), upload.objectKey(), BackupManifest.FORMAT, rows.get());
			this.catalog.complete(upload, manifest, keys);
			return manifest;
		}
	}

	/** The tables of {@code database} whose rows the manifest counts, on a session of its own ({@link TableCounts#tables}). */
	private List<TableCounts.Listed> listed(String database, String snapshot) {
		try (Connection listing = this.databases.connect(database)) {
			return TableCounts.tables(listing, snapshot);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("cannot count the rows: " + ex.getMessage(), ex);
		}
	}

}
