package dev.pgbatch.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.crypto.AuthenticationFailedException;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * The catalogue of logical backups in the object store: listed, read back, kept by retention and deleted. One folder per backup,
 * {@code PREFIX/SERVER/DATABASE/ID/}: the sealed dump, {@code manifest.json} (written last: without it a
 * backup is not complete), {@code started.json} (written first: the cluster an upload is of), and a
 * {@code verified-TIME.json} for each verify that passed; manifests and
 * verify records are sealed with the keyset like the dump (store/SealedJson). SERVER is ETL_BACKUP_SERVER_NAME
 * or else the cluster's system identifier (pg_control_system(), readable by any role), so two clusters that
 * share a bucket, or two databases of one, never count or remove each other's backups. Ids are the start time in UTC, so they
 * sort by age.
 */
@Component
public class BackupCatalog {

	static final String UNKNOWN = "there is no complete backup '%s' (bin/etl backup list shows them)";

	static final String FOREIGN_MANIFEST = "%s does not describe the backup it is stored with: refused";

	static final String AMBIGUOUS = "'%s' names backups of several databases or servers (%s); remove the stray one by hand";

	static final String NOT_AN_ID = "'%s' is not a backup id (like 20261123T020000123Z; bin/etl backup list shows them)";

	private static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
		.withZone(ZoneOffset.UTC);

	private static final String MANIFEST = "manifest.json";

	private static final String STARTED = "started.json";

	/** A verify's record: one object per pass (objects are never overwritten), the newest one counts. */
	private static final String VERIFIED = "verified-";

	private static final Pattern BACKUP_ID = Pattern.compile("\\d{8}T\\d{9}Z");

	private static final Logger log = LoggerFactory.getLogger(BackupCatalog.class);

	private final ObjectStore store;

	private final KeysetProperties keyset;

	private final ServerDatabases databases;

	private final BackupProperties properties;

	private final Clock clock = Clock.systemUTC();

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

	/** A backup being written: its folder, the key of its dump and the cluster it is of. */
	record Upload(Folder folder, String objectKey, String systemIdentifier) {

		String id() {
			return this.folder.id();
		}

	}

	BackupCatalog(ObjectStore store, KeysetProperties keyset, ServerDatabases databases, BackupProperties properties) {
		this.store = store;
		this.keyset = keyset;
		this.databases = databases;
		this.properties = properties;
	}

	/** A complete backup and whether a verify has passed on it. */
	public record StoredBackup(BackupManifest manifest, Verification verified) {
	}

	/** What a passed verify wrote. */
	public record Verification(String verifiedAt, boolean restoreTested) {
	}

	/**
	 * Opens the folder of a backup of {@code database} started at {@code started}: its started.json first of
	 * its objects, so that an upload that never gets its manifest can still be told this cluster's (retain).
	 */
	Upload start(Connection connection, String database, Instant started, Keyset keys) throws IOException, SQLException {
		String system = systemIdentifier(connection);
		Folder folder = new Folder(server(connection), database, ID.format(started));
		new SealedJson(this.store, keys).put(folder.key(prefix()) + STARTED, new Started(system, started.toString()));
		return new Upload(folder, objectKey(folder), system);
	}

	/** Writes the manifest, last: it makes the backup complete. */
	void complete(Upload upload, BackupManifest manifest, Keyset keys) throws IOException {
		new SealedJson(this.store, keys).put(upload.folder().key(prefix()) + MANIFEST, manifest);
	}

	/** Records a passed verify beside the backup, in an object of its own. */
	Verification recordVerified(String id, boolean restoreTested) throws IOException {
		Instant now = this.clock.instant();
		Verification verified = new Verification(now.toString(), restoreTested);
		new SealedJson(this.store, this.keyset.load()).put(folder(id).key(prefix()) + VERIFIED + ID.format(now) + ".json",
				verified);
		return verified;
	}

	/** Complete backups of every server and database, newest first. */
	public List<StoredBackup> list() {
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
		try (Connection connection = this.databases.connect(database)) {
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
		Map<Folder, StoredBackup> entries = entries(manifests.entrySet().stream()
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

	/**
	 * The complete backups of these folders, in their order. A manifest that does not authenticate is left
	 * out with a warning: it is no backup of ours to list, count or remove.
	 */
	private Map<Folder, StoredBackup> entries(List<Folder> folders) {
		Keyset keys = this.keyset.load();
		Map<Folder, StoredBackup> entries = new LinkedHashMap<>();
		for (Folder folder : folders) {
			try {
				entries.put(folder, new StoredBackup(manifest(folder, keys), verified(folder, keys)));
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
			// bad input like an unknown archive partition (exit 2); a backup that is there but unreadable is refused
			throw new UsageException(String.format(UNKNOWN, id));
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
	private Verification verified(Folder folder, Keyset keys) {
		List<ObjectStore.StoredObject> records = this.store.list(folder.key(prefix()) + VERIFIED);
		for (int i = records.size() - 1; i >= 0; i--) {
			String key = records.get(i).key();
			try {
				return new SealedJson(this.store, keys).get(key, Verification.class);
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

	/** Where the dump of a backup is: from its folder, which the manifest was checked to name. */
	String objectKey(BackupManifest manifest) {
		return objectKey(new Folder(manifest.server(), manifest.database(), manifest.id()));
	}

	/** The cluster's system identifier: pg_control_system() is executable by every role (PUBLIC) by default. */
	private static String systemIdentifier(Connection connection) throws SQLException {
		return ServerDatabases.single(connection, "SELECT system_identifier::text FROM pg_control_system()");
	}

	/**
	 * The server's folder: ETL_BACKUP_SERVER_NAME, or else the cluster's system identifier (the same for
	 * every database of one server, different for every other, except for clusters cloned from one another).
	 */
	private String server(Connection connection) throws SQLException {
		return this.properties.serverName().isEmpty() ? systemIdentifier(connection) : this.properties.serverName();
	}
}
