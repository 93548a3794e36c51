package dev.pgbatch.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import javax.sql.DataSource;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.ExecutionLock;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.crypto.AuthenticationFailedException;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.partition.PartitionLock;
import dev.pgbatch.partition.PartitionPolicy;
import dev.pgbatch.partition.PartitionProperties;
import dev.pgbatch.partition.PartitionedTable;
import dev.pgbatch.partition.Tier;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedObjects;
import dev.pgbatch.store.CountingHashingOutputStream;
import dev.pgbatch.store.TeeInputStream;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** What archive put in the object store, and bringing a partition back from it. */
@Component
public class ArchivedPartitions {

	private static final Logger log = LoggerFactory.getLogger(ArchivedPartitions.class);

	static final String RESTORED_MEANWHILE = "%s %s: its segments were restored by another run meanwhile; nothing restored";

	static final String SUPERSEDED = "{} {}: {} archived rows not restored: a newer row with the same key is kept (written after the export, or in a newer segment)";

	static final String LOCK_LOST = "%s %s: the lock of the partitions was lost during the restore (its database session ended), and another job could have changed them beside it; rolled back, nothing restored: run it again";

	static final String LOCK_LOST_BEFORE = "%s %s: the lock of the partitions was lost (its database session ended), and another job could have changed them; nothing written: run it again";

	static final String CHANGED_MEANWHILE = "%s %s: %s is no longer a completed cold segment (restored or forgotten meanwhile); nothing written";

	static final String NOT_ARCHIVED = "%s %s has no completed cold archive (see: bin/etl archive list)";

	static final String NOT_A_SEGMENT = "%s %s has no completed cold segment stored at %s (see: bin/etl archive list)";

	static final String UNDECIDED = "%s: cannot tell whether it can be restored (%s); nothing forgotten (if it is lost for good: --force)";

	static final String ABSENT = "%s is not in the store";

	static final String RESTORABLE = "%s: its manifest authenticates and its object is the one it records: it can be restored (bin/etl archive restore); nothing forgotten (to write its rows off all the same: --force)";

	/** The status `archive list` gives a sealed segment of this installation that its log does not know: adopt takes it. */
	public static final String NOT_LOGGED = "not-logged";

	/**
	 * The status of a sealed segment the log does not know whose rows were restored and exported again in a
	 * newer segment (whose manifest names it): never offered for adoption.
	 */
	public static final String SUPERSEDED_SEGMENT = "superseded";

	/** The status of a sealed segment the log does not know of an interval that has a newer segment. */
	public static final String OLDER = "older";

	/**
	 * The status of a sealed segment the log does not know beside another unlogged object of its partition
	 * whose manifest is absent or does not authenticate: whether that one supersedes it, or is newer, cannot
	 * be told.
	 */
	public static final String UNDECIDED_SEGMENT = "undecided";

	/** The status of a sealed segment whose manifest names another archive installation (see {@link Manifest}). */
	public static final String OTHER_ORIGIN = "other-origin";

	/** The status of a sealed segment whose manifest was written before manifests named their installation. */
	public static final String NO_ORIGIN = "no-origin";

	/**
	 * The status of every sealed segment the log does not know while this installation's archive id is
	 * unknown (ops.archive_installation has no row): whose it is cannot be told; its entry shows the id its
	 * manifest names.
	 */
	public static final String ORIGIN_UNKNOWN_HERE = "origin-unknown-here";

	static final String ATTACHED = "%s: %s is attached with rows (a restored dump brought it back?): this segment's rows are most likely there already, and adopting it would bring back rows deleted since; nothing adopted (to merge it into the partition all the same: --into-existing)";

	static final String STAGED_ADOPT = "%s: partition-rollover is moving rows of this interval into %s; nothing adopted (run partition-rollover first, or --into-existing)";

	static final String IS_SUPERSEDED = "%s: superseded by segment %s, exported after this one's rows were restored: adopting it would bring back rows deleted since; nothing adopted (if that segment is lost for good: --older)";

	static final String UNDECIDED_ADOPT = "%s: %s, so whether it supersedes this segment or is newer cannot be told: adopting this one could bring back rows deleted since; nothing adopted (if that object is lost for good, or not this installation's: --despite KEY, naming each)";

	static final String NOT_UNDECIDED = "--despite %s: not an object that leaves %s undecided (those are: %s); nothing adopted";

	static final String NEWER = "%s: the interval has a newer segment, logged or adoptable (%s): adopting this older one would bring back rows deleted since; nothing adopted (adopt the newer one, or --older)";

	static final String SUPERSEDES_UNVOUCHED = "%s: its manifest names the logged segment(s) %s as superseded, but it was adopted with --older or --origin-mismatch-ok, or written by another database or cluster: adopting it would write them off on its word; nothing adopted (if they are truly superseded: bin/etl archive forget each with --force first)";

	static final String SUPERSEDES_ANOTHER = "%s %s: segment %s supersedes segment %s (exported after its rows were restored), and the archive log has both completed: restoring both would bring back rows deleted since; nothing restored (if the older one's rows are in the newer one: bin/etl archive forget %s %s %s --force)";

	static final String NO_UNIQUE_KEY = "%s %s: restoring into the partition that is there, or %d segments at once, needs a primary key or a unique index on NOT NULL columns of %s and of its partition there, valid and not deferrable (without one every row there would be added twice); nothing restored";

	static final String NOT_A_SEGMENT_KEY = "%s is not the key of a cold segment of that partition (%s, the id being the segment's)";

	static final String LOGGED = "%s is in the archive log already (see: bin/etl archive list); nothing adopted";

	static final String NOT_OURS = "%s: written by archive installation %s (database %s of cluster %s), not by this one (%s); nothing adopted (if it is this database's all the same, e.g. its archive id was changed since: --origin-mismatch-ok)";

	static final String ORIGIN_UNKNOWN = "%s: written before manifests named their archive installation (database %s of cluster %s), so it may be another database's; nothing adopted (if it is this one's: --origin-mismatch-ok)";

	/** Why a partition's folder is undecided: an unlogged segment's manifest authenticates, its object is gone. */
	static final String OBJECT_MISSING = "%s is missing (its sealed manifest is there: deleted from the store?)";

	static final String PRESENT = "%s.%s exists and is not a partition of %s: nothing restored";

	static final String OTHER_PARTITION = "%s: the interval of %s is held by partition %s: nothing restored";

	static final String STAGED = "%s: partition-rollover is moving rows of this interval into %s; run partition-rollover first";

	static final String MANIFEST_UNREADABLE = "%s: the manifest cannot be used: %s; nothing restored";

	static final String MANIFEST_DIFFERS = "%s: the manifest does not match the archive log (%s); nothing restored";

	static final String OBJECT_MISMATCH = "the stored object is not the one its manifest records (%d bytes, sha256 %s; manifest: %d bytes, sha256 %s); nothing restored";

	/** The temporary table a restore copies each segment into, with the columns it was exported with. */
	private static final String RESTORING = "pgbatch_restoring";

	/** The temporary table a restore gathers the segments' rows in when the partition is there. */
	private static final String RESTORED = "pgbatch_restored";

	/** The check that holds a restored partition to be in its interval until it is attached. */
	private static final String BOUND = "pgbatch_restore_bound";

	static final String MISSING_COLUMNS = "%s: exported with column(s) %s, which %s no longer has: its values would be lost; nothing restored (to restore without them, add them back, restore, and drop them)";

	static final String NARROWED_COLUMNS = "%s: exported with column(s) whose type changed since in a way that may alter their values (%s); %s restores only into types that widen (an integer into a wider one or numeric, real into double precision, varchar into a longer one or text); nothing restored";

	static final String NOT_LOADED = "%s: the rows do not load into %s as it is now%s: %s; nothing restored";

	static final String NO_PARENT = "%s: %d archived rows have no parent row for foreign key %s (%s) in %s; nothing restored";

	static final String RESTORE_MISMATCH = "%s: the object's rows do not match its manifest (%d rows, sha256 %s; manifest: %d rows, sha256 %s); nothing restored";

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/**
	 * One archived step of one partition, as `archive list` prints it; for a segment of the store the log
	 * does not know, the archive id its manifest names (escaped: one line), else null, and where it was
	 * written when that is not here ("database D of cluster C", escaped), else null.
	 */
	public record ListedPartition(String table, String partition, OffsetDateTime rangeStart, OffsetDateTime rangeEnd, Tier tier,
			String status, Long rows, Long bytes, String objectKey, OffsetDateTime finishedAt, String archiveId,
			String writtenIn) {
	}

	private final DataSource dataSource;

	private final JdbcTemplate jdbc;

	private final TransactionTemplate transactions;

	private final ObjectStore store;

	private final KeysetProperties keyset;

	private final PartitionProperties partitions;

	private final PartitionLock partitionLock;

	private final BoundedLocks locks;

	private final String prefix;

	ArchivedPartitions(DataSource dataSource, JdbcTemplate jdbc, TransactionTemplate transactions, ObjectStore store,
			KeysetProperties keyset, PartitionProperties partitions, PartitionLock partitionLock,
			PlatformTransactionManager transactionManager, ArchiveProperties archive) {
		this.prefix = archive.prefix();
		this.partitionLock = partitionLock;
		this.locks = partitions.locks(transactionManager, jdbc);
		this.dataSource = dataSource;
		this.jdbc = jdbc;
		this.transactions = transactions;
		this.store = store;
		this.keyset = keyset;
		this.partitions = partitions;
	}

	/**
	 * Every cold segment (one per export: an interval exported again has several), and the newest other step
	 * of every partition archive moved; by partition, newest first.
	 */
	public List<ListedPartition> list() {
		return this.jdbc.query("""
				SELECT DISTINCT ON (table_name, partition_name, object_key) table_name, partition_name, range_start,
				       range_end, tier, status, row_count, bytes, object_key, finished_at
				FROM ops.archive_log ORDER BY table_name, partition_name, object_key, started_at DESC
				""", (rs, i) -> new ListedPartition(rs.getString(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class),
				rs.getObject(4, OffsetDateTime.class), Tier.of(rs.getString(5)), rs.getString(6), (Long) rs.getObject(7),
				(Long) rs.getObject(8), rs.getString(9), rs.getObject(10, OffsetDateTime.class), null, null))
			.stream()
			.sorted(Comparator.comparing(ListedPartition::partition)
				.thenComparing(ListedPartition::finishedAt, Comparator.nullsLast(Comparator.naturalOrder()))
				.reversed())
			.toList();
	}

	/**
	 * What the store holds under each managed table's folder that {@link #list} does not show (one listing per
	 * table, not the whole prefix). {@code notLogged}: sealed segments (their manifests authenticated with the
	 * keyset) that the archive log does not know, as after a restore of a dump older than the export, each
	 * with its status (see {@link #stored()}): {@link #adopt} registers one. {@code withoutManifest}: objects with no sealed
	 * manifest beside them and no log row (an older layout, or an export that did not finish; written by any
	 * database: the key does not say). {@code unreadable}: sealed manifests that do not authenticate with this
	 * keyset or do not match their key. {@code archiveIds}: while this installation's archive id is unknown
	 * (ops.archive_installation has no row), the ids every authenticated manifest names, the logged segments'
	 * too, the newest manifest's first (escaped: one line each), so that the right one can be put back; else
	 * none.
	 */
	public record Stored(List<ListedPartition> notLogged, long withoutManifest, long unreadable, List<String> archiveIds) {
	}

	/**
	 * Everything {@link Stored} lists, its {@code notLogged} with a status each: {@link #NOT_LOGGED} for one
	 * adopt takes, {@link #SUPERSEDED_SEGMENT} or {@link #OLDER} for one it refuses without --older,
	 * {@link #OTHER_ORIGIN} or {@link #NO_ORIGIN} for one it refuses without --origin-mismatch-ok.
	 */
	public Stored stored() {
		// listed even without this installation's id: the ids the manifests name are the way to put it back
		Manifest.Origin origin = Manifest.Origin.read(this.jdbc);
		Keyset[] keys = new Keyset[1];
		List<ListedPartition> notLogged = new ArrayList<>();
		Scan all = new Scan(new ArrayList<>(), 0, 0, Map.of());
		for (PartitionPolicy policy : this.partitions.policies().tables()) {
			Scan scan = scan(policy, ColdObjectKeys.folder(this.prefix, policy.table()), origin, () -> {
				if (keys[0] == null) {
					keys[0] = this.keyset.load();
				}
				return keys[0];
			});
			for (Unlogged segment : scan.unlogged()) {
				notLogged.add(new ListedPartition(policy.table(), segment.manifest().partition(), null, null, Tier.COLD, segment.status(),
						segment.manifest().rows(), segment.manifest().objectBytes(), segment.key(), segment.exportedAt(),
						segment.manifest().archiveId() == null ? null : OneLine.of(segment.manifest().archiveId()),
						origin.elsewhere(segment.manifest())));
			}
			all = all.plus(scan);
		}
		List<String> named = all.named().entrySet().stream()
			.sorted(Map.Entry.<String, OffsetDateTime>comparingByValue().reversed())
			.map(entry -> OneLine.of(entry.getKey()))
			.toList();
		return new Stored(List.copyOf(notLogged), all.withoutManifest(), all.unreadable(), named);
	}

	/**
	 * A sealed segment that the archive log does not know, its manifest authenticated; whose it says it is;
	 * the newer segment that names it as superseded, and the newest segment of its interval newer than it
	 * (logged, or another such one not superseded), or null.
	 */
	private record Unlogged(String key, Manifest manifest, OffsetDateTime exportedAt, Manifest.Whose whose,
			String supersededBy, String newer, Map<String, String> undecided) {

		String status() {
			if (this.whose == Manifest.Whose.UNKNOWN_HERE) {
				return ORIGIN_UNKNOWN_HERE;
			}
			if (this.supersededBy != null) {
				return SUPERSEDED_SEGMENT;
			}
			if (this.whose != Manifest.Whose.OURS) {
				return this.whose == Manifest.Whose.OTHER ? OTHER_ORIGIN : NO_ORIGIN;
			}
			if (!this.undecided.isEmpty()) {
				return UNDECIDED_SEGMENT;
			}
			return this.newer != null ? OLDER : NOT_LOGGED;
		}

	}

	/**
	 * What a listing under a table's folder holds beside the segments the log knows (see {@link Stored});
	 * {@code named}: while this installation's id is unknown, each archive id a manifest names, with the
	 * newest export time of those naming it.
	 */
	private record Scan(List<Unlogged> unlogged, long withoutManifest, long unreadable, Map<String, OffsetDateTime> named) {

		Scan plus(Scan other) {
			List<Unlogged> both = new ArrayList<>(this.unlogged);
			both.addAll(other.unlogged);
			Map<String, OffsetDateTime> named = new java.util.HashMap<>(this.named);
			other.named.forEach((id, at) -> named.merge(id, at, (a, b) -> a.isAfter(b) ? a : b));
			return new Scan(both, this.withoutManifest + other.withoutManifest, this.unreadable + other.unreadable, named);
		}

	}

	/**
	 * One listing under {@code folder} (a table's, or one partition's in it): the segments the log does not
	 * know, each manifest authenticated before anything in it is used. In a partition's folder that holds
	 * such a segment every sealed manifest is read, the logged segments' too: the ids they name as superseded
	 * are never offered, and an older segment than the interval's newest is marked so.
	 */
	private Scan scan(PartitionPolicy policy, String folder, Manifest.Origin origin,
			java.util.function.Supplier<Keyset> keys) {
		List<String> keysStored = this.store.list(folder).stream().map(ObjectStore.StoredObject::key).toList();
		List<Unlogged> unlogged = new ArrayList<>();
		long withoutManifest = 0;
		long unreadable = 0;
		// this installation's id unknown: every manifest is read, for the ids they name
		boolean unknownHere = origin.archiveId() == null;
		Map<String, OffsetDateTime> named = new java.util.HashMap<>();
		if (keysStored.isEmpty()) {
			return new Scan(unlogged, 0, 0, named);
		}
		// what the log knows of this table: object keys, and segment ids (an export that failed has no key)
		java.util.Set<String> logged = new java.util.HashSet<>(this.jdbc.queryForList(
				"SELECT object_key FROM ops.archive_log WHERE table_name = ? AND object_key IS NOT NULL", String.class,
				policy.table()));
		logged.addAll(this.jdbc.queryForList("SELECT archive_id::text FROM ops.archive_log WHERE table_name = ?",
				String.class, policy.table()));
		java.util.Set<String> present = new java.util.HashSet<>(keysStored);
		Map<String, List<String>> byFolder = new LinkedHashMap<>();
		for (String key : keysStored) {
			// a sealed manifest whose object is gone (deleted: no key needed) still says what it supersedes
			String segment = ColdObjectKeys.isObject(key) ? key
					: ColdObjectKeys.isManifest(key) && !present.contains(ColdObjectKeys.objectOf(key)) ? ColdObjectKeys.objectOf(key) : null;
			if (segment != null) {
				byFolder.computeIfAbsent(segment.substring(0, segment.lastIndexOf('/') + 1), f -> new ArrayList<>()).add(segment);
			}
		}
		String tableFolder = ColdObjectKeys.folder(this.prefix, policy.table());
		for (List<String> segments : byFolder.values()) {
			if (!unknownHere && segments.stream().allMatch(key -> isLogged(logged, key))) {
				continue;
			}
			List<Unlogged> found = new ArrayList<>();
			Map<String, String> supersededBy = new java.util.HashMap<>();
			// fail closed: an unlogged object whose manifest cannot be read may be the newer segment that
			// supersedes the others, and its absent "no" is not taken for a "yes"
			// by the key --despite names: why it leaves the others undecided
			Map<String, String> undecided = new LinkedHashMap<>();
			for (String key : segments) {
				boolean known = isLogged(logged, key);
				if (!present.contains(ColdObjectKeys.manifestOf(key))) {
					withoutManifest += known ? 0 : 1;
					if (!known) {
						undecided.put(key, key + " has no sealed manifest");
					}
					continue;
				}
				Manifest manifest;
				try {
					manifest = sealedManifest(ColdObjectKeys.manifestOf(key), keys.get());
				}
				catch (RefusedException ex) {
					// a logged segment's manifest is restore's to check
					unreadable += known ? 0 : 1;
					if (!known) {
						undecided.put(ColdObjectKeys.manifestOf(key), ColdObjectKeys.manifestOf(key) + " cannot be read or authenticated");
					}
					continue;
				}
				if (!key.equals(manifest.objectKey()) || !policy.table().equals(manifest.table())
						|| !key.startsWith(tableFolder + manifest.partition() + "/")) {
					unreadable += known ? 0 : 1;
					if (!known) {
						undecided.put(ColdObjectKeys.manifestOf(key), ColdObjectKeys.manifestOf(key) + " does not match its key");
					}
					continue;
				}
				if (unknownHere && manifest.archiveId() != null) {
					OffsetDateTime at = exportedAt(manifest) == null ? OffsetDateTime.MIN : exportedAt(manifest);
					named.merge(manifest.archiveId(), at, (a, b) -> a.isAfter(b) ? a : b);
				}
				// ids compared as text, nothing more: an authenticated manifest's word on which rows it holds
				for (String id : manifest.supersedes() == null ? List.<String>of() : manifest.supersedes()) {
					supersededBy.putIfAbsent(id, key);
				}
				if (!present.contains(key)) {
					// its rows are lost, and it may have been the interval's newest: the others are not taken
					if (!known) {
						undecided.put(key, String.format(OBJECT_MISSING, key));
					}
				}
				else if (!known) {
					found.add(new Unlogged(key, manifest, exportedAt(manifest), manifest.whose(origin), null, null, null));
				}
			}
			if (found.isEmpty()) {
				continue;
			}
			Newest newestLogged = newestLogged(policy.table(), found.get(0).manifest().partition());
			for (Unlogged segment : found) {
				String by = supersededBy.get(ColdObjectKeys.segmentOf(segment.key()));
				String newer = null;
				OffsetDateTime newest = segment.exportedAt();
				if (newestLogged != null && newest != null && newestLogged.startedAt().isAfter(newest)) {
					newer = newestLogged.objectKey();
					newest = newestLogged.startedAt();
				}
				for (Unlogged other : found) {
					if (newest != null && other.exportedAt() != null && other.exportedAt().isAfter(newest)
							&& supersededBy.get(ColdObjectKeys.segmentOf(other.key())) == null) {
						newer = other.key();
						newest = other.exportedAt();
					}
				}
				unlogged.add(new Unlogged(segment.key(), segment.manifest(), segment.exportedAt(), segment.whose(), by,
						newer, Map.copyOf(undecided)));
			}
		}
		return new Scan(unlogged, withoutManifest, unreadable, named);
	}

	private static boolean isLogged(java.util.Set<String> logged, String key) {
		return logged.contains(key) || logged.contains(ColdObjectKeys.segmentOf(key));
	}

	/** The newest cold segment of an interval its log knows (completed, restored or forgotten), with its key. */
	private record Newest(String objectKey, OffsetDateTime startedAt) {
	}

	private Newest newestLogged(String table, String partition) {
		return this.jdbc.query("""
				SELECT object_key, started_at FROM ops.archive_log WHERE table_name = ? AND partition_name = ?
				  AND tier = 'cold' AND object_key IS NOT NULL AND status IN ('completed', 'restored', 'forgotten')
				ORDER BY started_at DESC LIMIT 1
				""", (rs, i) -> new Newest(rs.getString(1), rs.getObject(2, OffsetDateTime.class)), table, partition)
			.stream()
			.findFirst()
			.orElse(null);
	}

	/**
	 * When the manifest says it was exported, to the microsecond as PostgreSQL keeps it (an adopted segment's
	 * log row compares equal to its manifest); null when that does not read as an instant.
	 */
	private static OffsetDateTime exportedAt(Manifest manifest) {
		try {
			return Instant.parse(manifest.exportedAt()).truncatedTo(java.time.temporal.ChronoUnit.MICROS)
				.atOffset(ZoneOffset.UTC);
		}
		catch (RuntimeException ex) {
			return null;
		}
	}

	/**
	 * Registers a sealed segment this installation wrote that its archive log does not know (see {@link #stored})
	 * as a completed cold log row, so that restore brings its rows back and seed-data's reset counts it. Its
	 * manifest must authenticate and name this table and partition and this key; the stored
	 * object must have the manifest's size and SHA-256; the row's values come from the policy (range), the
	 * key (its id) and the authenticated manifest (counts, checksum, export time, source tier), bound, never
	 * as SQL. Under the partitions lock, as restore. Refused unless overridden: while the interval's partition
	 * is attached with rows or staged (its rows are most likely there: {@code intoExisting}), and for a segment
	 * superseded by a newer one, or older than another of its interval, logged or adoptable ({@code older}),
	 * or beside objects the log does not know that may be either ({@code despite}, naming each): any would
	 * bring back rows deleted since; and one whose manifest names another archive installation, or none
	 * ({@code originMismatchOk}).
	 */
	public void adopt(String table, String partition, String objectKey, Adoption overrides) {
		PartitionPolicy policy;
		LocalDate start;
		try {
			policy = this.partitions.policies().select(SqlNames.checkedTable(table)).get(0);
			start = policy.startOf(SqlNames.checkedName(partition));
		}
		catch (IllegalArgumentException ex) {
			throw new UsageException(ex.getMessage());
		}
		// the key as export names it, its segment id in canonical form: the id of the log row to be
		String expected = ColdObjectKeys.object(this.prefix, policy.table(), partition, new UUID(0, 0));
		UUID segment = null;
		if (objectKey.startsWith(ColdObjectKeys.folder(this.prefix, policy.table(), partition)) && ColdObjectKeys.isObject(objectKey)) {
			try {
				segment = UUID.fromString(ColdObjectKeys.segmentOf(objectKey));
			}
			catch (IllegalArgumentException ex) {
				// not an id: refused below
			}
		}
		if (segment == null || !objectKey.equals(ColdObjectKeys.object(this.prefix, policy.table(), partition, segment))) {
			throw new UsageException(String.format(NOT_A_SEGMENT_KEY, objectKey, expected));
		}
		try (ExecutionLock.Held held = this.partitionLock.hold("archive adopt")) {
			if (this.jdbc.queryForObject("SELECT count(*) FROM ops.archive_log WHERE object_key = ? OR archive_id = ?",
					Long.class, objectKey, segment) > 0) {
				throw new UsageException(String.format(LOGGED, objectKey));
			}
			if (!overrides.intoExisting()) {
				PartitionedTable parted = PartitionedTable.read(this.jdbc, policy);
				String attached = parted.partitions.get(start);
				if (attached != null && Boolean.TRUE.equals(this.jdbc.queryForObject(
						"SELECT EXISTS (SELECT 1 FROM " + parted.qualified(attached) + ")", Boolean.class))) {
					throw new UsageException(String.format(ATTACHED, objectKey, parted.qualified(attached)));
				}
				if (parted.staging.containsKey(start)) {
					throw new UsageException(String.format(STAGED_ADOPT, objectKey, parted.staging.get(start)));
				}
			}
			String key = ColdObjectKeys.manifestOf(objectKey);
			Keyset keys = this.keyset.load();
			Manifest manifest = sealedManifest(key, keys);
			Manifest.Origin origin = Manifest.Origin.of(this.jdbc);
			Manifest.Whose whose = manifest.whose(origin);
			if (whose == Manifest.Whose.OTHER && !overrides.originMismatchOk()) {
				// the manifest's text as it is, authenticated but unchecked: a name must not forge a line
				throw new UsageException(String.format(NOT_OURS, key, OneLine.of(manifest.archiveId()),
						OneLine.of(manifest.database()), OneLine.of(manifest.systemIdentifier()),
						origin.archiveId()));
			}
			if (whose == Manifest.Whose.UNKNOWN && !overrides.originMismatchOk()) {
				throw new UsageException(String.format(ORIGIN_UNKNOWN, key, OneLine.of(manifest.database()),
						OneLine.of(manifest.systemIdentifier())));
			}
			LocalDate end = policy.interval().plus(start, 1);
			List<String> differences = placeDifferences(manifest, policy, partition, start, objectKey);
			OffsetDateTime exportedAt = exportedAt(manifest);
			if (exportedAt == null) {
				differences.add("export time " + manifest.exportedAt());
			}
			if (!differences.isEmpty()) {
				throw new RefusedException(String.format(MANIFEST_DIFFERS, key, String.join("; ", differences)));
			}
			Unlogged listed = scan(policy, ColdObjectKeys.folder(this.prefix, policy.table(), partition), origin,
					() -> keys)
				.unlogged()
				.stream()
				.filter(found -> found.key().equals(objectKey))
				.findFirst()
				.orElseThrow(() -> new RefusedException(String.format(MANIFEST_UNREADABLE, key, "not listed")));
			for (String accepted : overrides.despite()) {
				if (!listed.undecided().containsKey(accepted)) {
					throw new UsageException(String.format(NOT_UNDECIDED, OneLine.of(accepted), objectKey,
							listed.undecided().isEmpty() ? "none" : OneLine.of(String.join(", ", listed.undecided().keySet()))));
				}
			}
			if (!overrides.older() && listed.supersededBy() != null) {
				throw new UsageException(String.format(IS_SUPERSEDED, objectKey, listed.supersededBy()));
			}
			// each object that leaves it undecided is accepted by name, never by --older: one left over for good
			// must not teach operators to pass the flag that also lifts the superseded and newer checks
			List<String> undecided = listed.undecided().entrySet().stream()
				.filter(entry -> !overrides.despite().contains(entry.getKey()))
				.map(Map.Entry::getValue)
				.toList();
			if (!undecided.isEmpty()) {
				throw new UsageException(String.format(UNDECIDED_ADOPT, objectKey, OneLine.of(String.join("; ", undecided))));
			}
			if (!overrides.older() && listed.newer() != null) {
				throw new UsageException(String.format(NEWER, objectKey, listed.newer()));
			}
			CountingHashingOutputStream stored = new CountingHashingOutputStream(OutputStream.nullOutputStream());
			try (InputStream in = this.store.get(objectKey)) {
				in.transferTo(stored);
			}
			catch (IOException ex) {
				throw new RefusedException(objectKey + ": " + ex.getMessage());
			}
			if (stored.bytes() != manifest.objectBytes() || !stored.sha256().equals(manifest.objectSha256())) {
				throw new RefusedException(objectKey + ": " + String.format(OBJECT_MISMATCH, stored.bytes(), stored.sha256(),
						manifest.objectBytes(), manifest.objectSha256()));
			}
			if (held.lost()) {
				throw new RefusedException(String.format(LOCK_LOST_BEFORE, policy.table(), partition));
			}
			UUID id = segment;
			String[] supersedes = manifest.supersedes() == null ? new String[0] : manifest.supersedes().toArray(String[]::new);
			if (!overrides.trustsSupersedes() || !origin.wrote(manifest)) {
				// forgetting on the word of a manifest this installation's own checks did not vouch for could
				// write off the segment that holds the rows
				List<String> named = this.jdbc.queryForList("""
						SELECT object_key FROM ops.archive_log
						WHERE table_name = ? AND partition_name = ? AND tier = 'cold' AND status = 'completed'
						  AND archive_id::text = ANY (?::text[])
						""", String.class, policy.table(), partition, (Object) supersedes);
				if (!named.isEmpty()) {
					throw new UsageException(String.format(SUPERSEDES_UNVOUCHED, objectKey, String.join(", ", named)));
				}
			}
			List<String> forgotten = this.transactions.execute(status -> {
				// started and finished when it was exported: restore takes an interval's newest segment first; the
				// tier it was exported from as its manifest says (none before manifests said it: unknown)
				this.jdbc.update("""
						INSERT INTO ops.archive_log (archive_id, table_name, partition_name, range_start, range_end, source_tier,
						       tier, row_count, bytes, object_key, checksum, status, started_at, finished_at, error)
						VALUES (?, ?, ?, ?::timestamptz, ?::timestamptz, ?, 'cold', ?, ?, ?, ?, 'completed', ?, ?,
						        format('adopted by %s at %s from its sealed manifest%s', session_user, clock_timestamp(), ?::text))
						""", id, policy.table(), partition, start + " 00:00:00+00", end + " 00:00:00+00",
						PartitionArchiver.SOURCE_TIER.text().equals(manifest.sourceTier()) ? PartitionArchiver.SOURCE_TIER.text() : null, manifest.rows(),
						manifest.objectBytes(), objectKey, "sha256:" + manifest.objectSha256(), exportedAt, exportedAt,
						overrides.noted());
				// the logged segments it supersedes (a dump from before their restore): their rows, as they were
				// when restored, are in this one; restored beside it, rows deleted since would come back
				return this.jdbc.queryForList("""
						UPDATE ops.archive_log SET status = 'forgotten',
						       error = format('superseded by %s (adopted by %s at %s): no longer restored or counted', ?::text,
						                      session_user, clock_timestamp())
						WHERE table_name = ? AND partition_name = ? AND tier = 'cold' AND status = 'completed'
						  AND archive_id::text = ANY (?::text[])
						RETURNING object_key
						""", String.class, objectKey, policy.table(), partition, (Object) supersedes);
			});
			String elsewhere = origin.elsewhere(manifest);
			log.warn("{} {}: the cold segment {} ({} rows{}) is adopted into the archive log from its sealed manifest;"
					+ " bin/etl archive restore brings its rows back", policy.table(), partition, objectKey, manifest.rows(),
					elsewhere == null ? "" : ", written in " + elsewhere);
			for (String superseded : forgotten) {
				log.warn("{} {}: the cold segment {} is forgotten: superseded by {}, whose manifest names it", policy.table(),
						partition, superseded, objectKey);
			}
		}
	}

	/**
	 * What an operator accepts in adopting a segment: merging it into the interval's partition that is there
	 * (or staged), taking it though it is superseded or older than another segment of its interval, though
	 * its manifest names another archive installation, or none, and though the objects named (keys, as the
	 * refusal names them) leave it undecided.
	 */
	public record Adoption(boolean intoExisting, boolean older, boolean originMismatchOk, List<String> despite) {

		public static final Adoption CHECKED = new Adoption(false, false, false, List.of());

		/** How the log row's note says --into-existing: the archive job holds such a segment's partition back. */
		static final String INTO_EXISTING = " (--into-existing)";

		public Adoption {
			despite = List.copyOf(despite);
		}

		/** Whether the segment passed every check, so that its manifest's word on what it supersedes is taken. */
		boolean trustsSupersedes() {
			return !this.older && !this.originMismatchOk;
		}

		/** The overrides given, as the log row's note says them. */
		String noted() {
			return (this.intoExisting ? INTO_EXISTING : "") + (this.older ? " (--older)" : "")
					+ (this.originMismatchOk ? " (--origin-mismatch-ok)" : "")
					// a key is the store's, so anyone who may write there chose it: its parentheses are escaped, so
					// that none makes the note say a flag that was not given
					+ String.join("", this.despite.stream()
						.map(key -> " (--despite " + OneLine.of(key).replace("(", "%28").replace(")", "%29") + ")")
						.toList());
		}

	}

	/** The archive's prefix in the object store, as `archive list` names it. */
	public String prefix() {
		return this.prefix;
	}

	/** A cold segment archive_log records as holding rows: completed, not yet restored. */
	private record Segment(UUID id, String objectKey, String checksum, long rows, long bytes) {
	}

	/**
	 * A segment with its manifest, authenticated and matched against the segment's log row; the columns it
	 * was exported with, as the table names them now, in the order of the export; those whose type changed.
	 */
	private record Checked(Segment segment, Manifest manifest, List<String> columns, List<String> retyped) {
	}

	/** A foreign key of the table: its name and definition, and the columns of both sides, in order. */
	private record ForeignKey(String name, String definition, String referenced, List<String> columns,
			List<String> referencedColumns) {
	}

	/**
	 * Marks one completed cold segment of a partition forgotten: for a segment that can no longer be restored
	 * (its object or manifest lost or unreadable), which would otherwise hold every seed-data reset back. A
	 * segment whose manifest authenticates and whose object is the one it records is refused, unless forced:
	 * a mistyped key must not write off rows that restore would bring back. Its log row (who, when, why) and
	 * its objects stay; restore and the reset no longer count it. Under the partitions lock, as restore.
	 */
	public void forget(String table, String partition, String objectKey, boolean force) {
		String checked;
		try {
			checked = this.partitions.policies().select(SqlNames.checkedTable(table)).get(0).table();
			SqlNames.checkedName(partition);
		}
		catch (IllegalArgumentException ex) {
			throw new UsageException(ex.getMessage());
		}
		try (ExecutionLock.Held held = this.partitionLock.hold("archive forget")) {
			List<Segment> segments = this.jdbc.query("""
					SELECT archive_id, object_key, checksum, row_count, bytes FROM ops.archive_log
					WHERE table_name = ? AND partition_name = ? AND object_key = ? AND tier = 'cold' AND status = 'completed'
					""", (rs, i) -> new Segment(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
					rs.getLong(4), rs.getLong(5)), checked, partition, objectKey);
			if (segments.isEmpty()) {
				throw new UsageException(String.format(NOT_A_SEGMENT, checked, partition, objectKey));
			}
			Segment segment = segments.get(0);
			String why = force ? "forced" : unrestorable(segment);
			if (why == null) {
				throw new UsageException(String.format(RESTORABLE, objectKey));
			}
			if (held.lost()) {
				throw new RefusedException(String.format(LOCK_LOST_BEFORE, checked, partition));
			}
			int marked = this.jdbc.update("""
					UPDATE ops.archive_log SET status = 'forgotten',
					       error = format('forgotten by %s at %s (%s): no longer restored or counted', session_user,
					                      clock_timestamp(), ?::text)
					WHERE archive_id = ? AND status = 'completed'
					""", why, segment.id());
			if (marked == 0) {
				throw new RefusedException(String.format(CHANGED_MEANWHILE, checked, partition, objectKey));
			}
			log.warn("{} {}: the cold segment {} is forgotten ({}): no longer restored, nor counted by seed-data's"
					+ " reset (its objects stay in the store)", checked, partition, objectKey, why);
		}
	}

	/**
	 * Why the segment cannot be restored, or null when it can as far as its objects go: its manifest
	 * authenticates and matches the log row, and its object as stored has the manifest's size and SHA-256.
	 * Only what the store proves counts as lost: an object or manifest it says is absent, a manifest that
	 * authenticates but differs from the log, an object that differs from its manifest. A store that does
	 * not answer, or a manifest that does not authenticate (tampered, or the wrong keyset), is refused as
	 * undecided: forgetting then needs --force.
	 */
	private String unrestorable(Segment segment) {
		String manifestKey = ColdObjectKeys.manifestOf(segment.objectKey());
		for (String key : List.of(manifestKey, segment.objectKey())) {
			boolean present;
			try {
				present = this.store.exists(key);
			}
			catch (RuntimeException ex) {
				throw new RefusedException(String.format(UNDECIDED, segment.objectKey(), ex.getMessage()));
			}
			if (!present) {
				return String.format(ABSENT, key);
			}
		}
		Manifest manifest;
		try {
			manifest = sealedManifest(manifestKey, this.keyset.load());
		}
		catch (RefusedException ex) {
			throw new RefusedException(String.format(UNDECIDED, segment.objectKey(), ex.getMessage()));
		}
		if (!manifest.objectKey().equals(segment.objectKey()) || manifest.objectBytes() != segment.bytes()
				|| !("sha256:" + manifest.objectSha256()).equals(segment.checksum()) || manifest.rows() != segment.rows()) {
			return "the manifest does not match the archive log";
		}
		CountingHashingOutputStream stored = new CountingHashingOutputStream(OutputStream.nullOutputStream());
		try (InputStream in = this.store.get(segment.objectKey())) {
			in.transferTo(stored);
		}
		catch (IOException | RuntimeException ex) {
			throw new RefusedException(String.format(UNDECIDED, segment.objectKey(), ex.getMessage()));
		}
		if (stored.bytes() != manifest.objectBytes() || !stored.sha256().equals(manifest.objectSha256())) {
			return String.format(OBJECT_MISMATCH, stored.bytes(), stored.sha256(), manifest.objectBytes(),
					manifest.objectSha256());
		}
		return null;
	}

	/** A sealed manifest, authenticated with the keyset and read; refused, naming it, when it cannot be. */
	private Manifest sealedManifest(String key, Keyset keys) {
		try (InputStream in = new SealedObjects(this.store, keys).open(key)) {
			return JSON.readValue(in.readAllBytes(), Manifest.class);
		}
		catch (IOException | RuntimeException ex) {
			throw new RefusedException(String.format(MANIFEST_UNREADABLE, key, ex.getMessage()));
		}
	}

	/**
	 * Brings every cold segment of the partition's interval back, each row once, in one transaction. The
	 * downloads take no lock anyone else waits for: each segment is downloaded, authenticated and checked
	 * against its manifest while it is loaded, by column name, into a table of its own (the partition to be,
	 * not attached yet, or a temporary one when the partition is there); rows whose foreign keys find no
	 * parent are refused there. Only then, each lock wait bounded and tried again, the short steps: the
	 * interval's rows waiting in the default partition move in (a row that waits there stays as it is: the
	 * archived one with its key is not added), the table is attached (its bound and foreign keys are already
	 * checked, so the attach scans nothing), or its rows are added to the partition that is there (a row
	 * already there is not added twice), and the segments are marked restored. Any failed check restores
	 * nothing. Returns the archived rows added.
	 */
	public long restore(String table, String partition) {
		PartitionPolicy policy;
		LocalDate start;
		try {
			policy = this.partitions.policies().select(SqlNames.checkedTable(table)).get(0);
			start = policy.startOf(partition);
		}
		catch (IllegalArgumentException ex) {
			throw new UsageException(ex.getMessage());
		}
		// one at a time with the jobs that change partitions, and with another restore of the same segments
		try (ExecutionLock.Held held = this.partitionLock.hold("archive restore")) {
			// watched like a job's lock (core/StopRequests): once its session is gone another job may change the
			// partitions beside this restore, so the restore's running statement is cancelled and it rolls back
			AtomicReference<Connection> restoring = new AtomicReference<>();
			held.watch(() -> cancel(restoring));
			try {
				return restore(policy, start, partition, held, restoring);
			}
			catch (RuntimeException ex) {
				if (held.lost()) {
					throw new RefusedException(String.format(LOCK_LOST, policy.table(), partition));
				}
				throw ex;
			}
		}
	}

	/**
	 * Cancels what runs on the restore's connection, while the restore holds it (once it is back in the pool
	 * it is someone else's); the restore also checks the lock itself before it marks anything restored.
	 */
	private static void cancel(AtomicReference<Connection> restoring) {
		synchronized (restoring) {
			Connection connection = restoring.get();
			if (connection != null) {
				try {
					connection.unwrap(PGConnection.class).cancelQuery();
				}
				catch (SQLException ex) {
					log.warn("the restore's statement could not be cancelled: {}", ex.getMessage());
				}
			}
		}
	}

	private long restore(PartitionPolicy policy, LocalDate start, String partition, ExecutionLock.Held lock,
			AtomicReference<Connection> restoring) {
		List<Segment> segments = this.jdbc.query("""
				SELECT archive_id, object_key, checksum, row_count, bytes FROM ops.archive_log
				WHERE table_name = ? AND partition_name = ? AND tier = 'cold' AND status = 'completed'
				ORDER BY started_at DESC
				""", (rs, i) -> new Segment(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getLong(4),
				rs.getLong(5)), policy.table(), partition);
		if (segments.isEmpty()) {
			throw new UsageException(String.format(NOT_ARCHIVED, policy.table(), partition));
		}
		Keyset keys = this.keyset.load();
		// every manifest authenticated and checked before any statement runs
		Map<String, String> columns = columns(policy.table());
		List<Checked> checked = segments.stream()
			.map(segment -> manifest(segment, keys, policy, partition, start, columns))
			.toList();
		// never skipped silently: the older one may hold rows of a partition dropped by hand after its restore
		for (Checked newer : checked) {
			for (Checked older : checked) {
				if (newer.manifest().supersedes() != null
						&& newer.manifest().supersedes().contains(older.segment().id().toString())) {
					throw new RefusedException(String.format(SUPERSEDES_ANOTHER, policy.table(), partition,
							newer.segment().objectKey(), older.segment().objectKey(), policy.table(), partition,
							older.segment().objectKey()));
				}
			}
		}
		List<ForeignKey> foreignKeys = foreignKeys(policy.table());
		List<String> key = uniqueKey(policy.table());
		return this.transactions.execute(status -> {
			restoring.set(DataSourceUtils.getConnection(this.dataSource));
			try {
				return restore(policy, partition, start, segments, checked, foreignKeys, key, keys, lock);
			}
			finally {
				synchronized (restoring) {
					restoring.set(null);
				}
			}
		});
	}

	/** The restore's transaction: see {@link #restore(String, String)}. */
	private long restore(PartitionPolicy policy, String partition, LocalDate start, List<Segment> segments,
			List<Checked> checked, List<ForeignKey> foreignKeys, List<String> key, Keyset keys, ExecutionLock.Held lock) {
		// the segments held to the commit and still unrestored: a restore that lost the partitions lock on
		// the way (its session gone) and another of the same interval take turns, and the second loads nothing
		String[] ids = segments.stream().map(segment -> segment.id().toString()).toArray(String[]::new);
		List<UUID> held = this.jdbc.queryForList("SELECT archive_id FROM ops.archive_log WHERE archive_id = ANY (?::uuid[])"
				+ " AND status = 'completed' FOR UPDATE", UUID.class, (Object) ids);
		if (held.size() != ids.length) {
			throw new RefusedException(String.format(RESTORED_MEANWHILE, policy.table(), partition));
		}
		PartitionedTable parted = PartitionedTable.read(this.jdbc, policy);
		String existing = existing(parted, start, partition);
		// rows are told apart from those there (or from another segment's) by a unique key only: the
		// parent's, and the partition's that is there (ON CONFLICT's arbiters are the insert target's)
		if ((existing != null || checked.size() > 1)
				&& (key.isEmpty() || existing != null && uniqueKey(parted.qualified(existing)).isEmpty())) {
			throw new RefusedException(String.format(NO_UNIQUE_KEY, policy.table(), partition, checked.size(),
					policy.table()));
		}
		String qualified = parted.qualified(partition);
		String loaded = existing != null ? RESTORED : qualified;
		this.locks.execute(qualified, () -> {
			if (existing != null) {
				// dropped at the commit, and with the rollback of a failed restore: never left behind
				this.jdbc.execute("CREATE TEMPORARY TABLE " + RESTORED + " (LIKE " + parted.parent()
						+ " INCLUDING DEFAULTS INCLUDING INDEXES) ON COMMIT DROP");
			}
			else {
				// the partition to be, not attached: no one waits for it while the segments download; its bound
				// checked as each row comes in, so that the attach need not scan it
				this.jdbc.execute("CREATE TABLE " + qualified + " (LIKE " + parted.parent()
						+ " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)");
				this.jdbc.execute("ALTER TABLE " + qualified + " ADD CONSTRAINT " + BOUND + " CHECK ("
						+ SqlNames.quote(parted.key) + " IS NOT NULL AND " + parted.within(start) + ")");
			}
		});
		// newest segment first: of rows with one key (a row archived, then written again late and archived
		// again) the newest version is kept, as a row waiting in the table is kept over an archived one
		long added = 0;
		for (Checked segment : checked) {
			added += load(parted, loaded, segment, keys, key);
		}
		for (ForeignKey foreignKey : foreignKeys) {
			parentsOf(parted, loaded, foreignKey);
		}
		try {
			if (existing != null) {
				added = this.locks.run(qualified, () -> this.jdbc.update("INSERT INTO " + qualified + " ("
						+ parted.columnList() + ") SELECT " + parted.columnList() + " FROM " + RESTORED
						+ onConflict(key)));
			}
			else {
				added -= this.locks.run(qualified, () -> attach(parted, start, qualified, foreignKeys, key));
			}
		}
		catch (DataAccessException ex) {
			// a constraint of the partition there, or a row waiting in the default partition, said no
			throw new RefusedException(notLoaded(String.join(", ", segments.stream().map(Segment::objectKey).toList()),
					parted, checked.stream().flatMap(segment -> segment.retyped().stream()).toList(),
					ex.getMostSpecificCause()));
		}
		if (lock.lost()) {
			throw new RefusedException(String.format(LOCK_LOST, policy.table(), partition));
		}
		for (Checked segment : checked) {
			this.jdbc.update("UPDATE ops.archive_log SET status = 'restored', restored_at = clock_timestamp()"
					+ " WHERE archive_id = ? AND status = 'completed'", segment.segment().id());
		}
		long archived = checked.stream().mapToLong(segment -> segment.manifest().rows()).sum();
		if (archived > added) {
			log.warn(SUPERSEDED, policy.table(), partition, archived - added);
		}
		return added;
	}

	/**
	 * The partition of the interval when it is attached, null when it is to be made; refused when something
	 * else holds the interval or the name.
	 */
	private String existing(PartitionedTable parted, LocalDate start, String partition) {
		String existing = parted.partitions.get(start);
		if (existing != null) {
			if (!existing.equals(partition)) {
				throw new RefusedException(String.format(OTHER_PARTITION, parted.policy.table(), start, existing));
			}
			return existing;
		}
		if (parted.staging.containsKey(start)) {
			throw new RefusedException(String.format(STAGED, parted.policy.table(), parted.staging.get(start)));
		}
		if (this.jdbc.queryForObject("SELECT to_regclass(?)", String.class, parted.policy.schema() + "." + partition) != null) {
			throw new RefusedException(String.format(PRESENT, parted.policy.schema(), partition, parted.policy.table()));
		}
		return null;
	}

	/**
	 * The loaded table attached as the interval's partition, under the locks of the attach, taken in the
	 * order every job here takes them: the parent, then the default partition. The interval's rows waiting in
	 * the default move in first (the attach would fail on them); a row loaded from a segment with the key of
	 * one that waits there gives way to it. Returns the loaded rows that gave way.
	 */
	private long attach(PartitionedTable parted, LocalDate start, String qualified, List<ForeignKey> foreignKeys,
			List<String> key) {
		// the foreign keys the attach would add and check, added now: the attach finds them and checks nothing
		for (ForeignKey foreignKey : foreignKeys) {
			this.jdbc.execute("ALTER TABLE " + qualified + " ADD CONSTRAINT " + SqlNames.quoteCatalogName(foreignKey.name()) + " "
					+ foreignKey.definition());
		}
		this.jdbc.execute("LOCK TABLE " + parted.parent() + " IN SHARE UPDATE EXCLUSIVE MODE");
		long gaveWay = 0;
		if (parted.defaultPartition != null) {
			String defaultPartition = parted.qualified(parted.defaultPartition);
			this.jdbc.execute("LOCK TABLE " + defaultPartition + " IN ACCESS EXCLUSIVE MODE");
			if (!key.isEmpty()) {
				String keyList = String.join(", ", key.stream().map(SqlNames::quoteCatalogName).toList());
				gaveWay = this.jdbc.update("DELETE FROM " + qualified + " WHERE (" + keyList + ") IN (SELECT " + keyList
						+ " FROM " + defaultPartition + " WHERE " + parted.within(start) + ")");
			}
			this.jdbc.update("WITH moved AS (DELETE FROM " + defaultPartition + " WHERE " + parted.within(start)
					+ " RETURNING *) INSERT INTO " + qualified + " (" + parted.columnList() + ") SELECT "
					+ parted.columnList() + " FROM moved");
		}
		// bounds from the interval, typed: nothing read from the store reaches the statement
		this.jdbc.execute("ALTER TABLE " + parted.parent() + " ATTACH PARTITION " + qualified + " FOR VALUES FROM ("
				+ parted.literal(start) + ") TO (" + parted.literal(parted.policy.interval().plus(start, 1)) + ")");
		// the partition's own bound says the same now
		this.jdbc.execute("ALTER TABLE " + qualified + " DROP CONSTRAINT " + BOUND);
		return gaveWay;
	}

	/**
	 * One segment loaded into {@code into}, by column name, checked against its manifest: the object as
	 * stored (key, size, SHA-256: an older export of the interval, or another segment's object, put under
	 * this key does not pass) and the rows as read. A row already there (same key) stays as it is: none is
	 * doubled. Returns the rows added.
	 */
	private long load(PartitionedTable parted, String into, Checked checked, Keyset keys, List<String> key) {
		Segment segment = checked.segment();
		Manifest manifest = checked.manifest();
		String columns = String.join(", ", checked.columns().stream().map(SqlNames::quoteCatalogName).toList());
		// the exported columns as the table has them now, none of them NOT NULL: a column added since gets its
		// default only in the insert below
		this.jdbc.execute("CREATE TEMPORARY TABLE " + RESTORING + " ON COMMIT DROP AS SELECT " + columns + " FROM ONLY "
				+ parted.parent() + " WITH NO DATA");
		RowDigest read = new RowDigest(OutputStream.nullOutputStream());
		CountingHashingOutputStream stored = new CountingHashingOutputStream(OutputStream.nullOutputStream());
		Connection connection = DataSourceUtils.getConnection(this.dataSource);
		long added;
		try {
			try (InputStream in = new SealedObjects(this.store, keys).open(segment.objectKey(), stored);
					InputStream tee = new TeeInputStream(in, read)) {
				connection.unwrap(PGConnection.class)
					.getCopyAPI()
					.copyIn("COPY " + RESTORING + " (" + columns + ") FROM STDIN", tee);
			}
			catch (SQLException ex) {
				// the COPY reports the stream's failure as its own: say what it was
				if (ex.getCause() instanceof IOException io) {
					throw io;
				}
				throw new RefusedException(notLoaded(segment.objectKey(), parted, checked.retyped(), ex));
			}
			if (stored.bytes() != manifest.objectBytes() || !stored.sha256().equals(manifest.objectSha256())) {
				throw new IOException(String.format(OBJECT_MISMATCH, stored.bytes(), stored.sha256(), manifest.objectBytes(),
						manifest.objectSha256()));
			}
			if (read.rows() != manifest.rows() || !read.sha256().equals(manifest.rowsSha256())) {
				throw new IOException(String.format(RESTORE_MISMATCH, segment.objectKey(), read.rows(), read.sha256(),
						manifest.rows(), manifest.rowsSha256()));
			}
		}
		catch (IOException ex) {
			throw new RefusedException(segment.objectKey() + ": " + ex.getMessage());
		}
		try {
			added = this.jdbc.update("INSERT INTO " + into + " (" + columns + ") SELECT " + columns + " FROM "
					+ RESTORING + onConflict(key));
		}
		catch (DataAccessException ex) {
			throw new RefusedException(notLoaded(segment.objectKey(), parted, checked.retyped(), ex.getMostSpecificCause()));
		}
		this.jdbc.execute("DROP TABLE " + RESTORING);
		return added;
	}

	/** Why the rows of the segment(s) named (object keys) do not load, in one line: the error's first. */
	private static String notLoaded(String segments, PartitionedTable parted, List<String> retyped, Throwable failure) {
		String message = String.valueOf(failure.getMessage());
		int newline = message.indexOf('\n');
		return String.format(NOT_LOADED, segments, parted.policy.table(),
				retyped.isEmpty() ? "" : " (type changed since the export: " + String.join(", ", retyped) + ")",
				OneLine.of(newline < 0 ? message : message.substring(0, newline)));
	}

	/** Refused, naming the key and counting the rows, when loaded rows find no parent row for a foreign key. */
	private void parentsOf(PartitionedTable parted, String loaded, ForeignKey foreignKey) {
		List<String> conditions = new ArrayList<>();
		List<String> matches = new ArrayList<>();
		for (int i = 0; i < foreignKey.columns().size(); i++) {
			String column = SqlNames.quoteCatalogName(foreignKey.columns().get(i));
			conditions.add("l." + column + " IS NOT NULL");
			matches.add("p." + SqlNames.quoteCatalogName(foreignKey.referencedColumns().get(i)) + " = l." + column);
		}
		long orphans = this.jdbc.queryForObject("SELECT count(*) FROM " + loaded + " l WHERE "
				+ String.join(" AND ", conditions) + " AND NOT EXISTS (SELECT 1 FROM " + foreignKey.referenced() + " p WHERE "
				+ String.join(" AND ", matches) + ")", Long.class);
		if (orphans > 0) {
			throw new RefusedException(String.format(NO_PARENT, parted.policy.table(), orphans, foreignKey.name(),
					String.join(", ", foreignKey.columns()), foreignKey.referenced()));
		}
	}

	/** The table's columns now, by name, with their types as a manifest records them. */
	private Map<String, String> columns(String table) {
		Map<String, String> columns = new LinkedHashMap<>();
		this.jdbc.query("""
				SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
				WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
				""", row -> {
					columns.put(row.getString(1), row.getString(2));
				}, table);
		return columns;
	}

	/** The table's foreign keys, as the catalog has them. */
	private List<ForeignKey> foreignKeys(String table) {
		return this.jdbc.query("""
				SELECT c.conname, pg_get_constraintdef(c.oid), n.nspname, r.relname,
				       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
				             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
				       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
				             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
				FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace n ON n.oid = r.relnamespace
				WHERE c.conrelid = ?::regclass AND c.contype = 'f' ORDER BY c.conname
				""", (rs, i) -> new ForeignKey(rs.getString(1), rs.getString(2),
				SqlNames.quoteCatalogName(rs.getString(3)) + "." + SqlNames.quoteCatalogName(rs.getString(4)),
				List.of((String[]) rs.getArray(5).getArray()), List.of((String[]) rs.getArray(6).getArray())), table);
	}

	/**
	 * A row whose key is there already gives way: ON CONFLICT on that key only, so that a row colliding on another
	 * unique index fails the restore (nothing written) instead of being dropped as if superseded. Without a key (one
	 * segment into a partition of its own) there is nothing to give way to: a plain insert, checked by every index.
	 */
	private static String onConflict(List<String> key) {
		return key.isEmpty() ? ""
				: " ON CONFLICT (" + String.join(", ", key.stream().map(SqlNames::quote).toList()) + ") DO NOTHING";
	}

	/**
	 * The columns, in order, of the key rows of the relation are told apart by, restore's ON CONFLICT DO
	 * NOTHING and the default partition's give-way alike: its primary key, else its first unique index that
	 * inserts check at once (valid, ready, not deferrable: an index made ON ONLY a parent, or by a failed
	 * CREATE INDEX CONCURRENTLY, is not), whole (no predicate, no expression), on NOT NULL columns (the
	 * give-way's IN never matches a NULL, whatever NULLS NOT DISTINCT says); none when it has none, or when
	 * any unique index of it is deferrable (ON CONFLICT refuses one among its arbiters).
	 */
	private List<String> uniqueKey(String relation) {
		List<String[]> keys = this.jdbc.query("""
				SELECT ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
				             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
				FROM pg_index i WHERE i.indrelid = ?::regclass AND i.indisunique AND i.indisvalid AND i.indisready
				  AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL
				  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid
				       AND a.attnum = ANY (i.indkey) AND NOT a.attnotnull)
				  AND NOT EXISTS (SELECT 1 FROM pg_index d WHERE d.indrelid = i.indrelid AND d.indisunique
				       AND NOT d.indimmediate)
				ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1
				""", (rs, i) -> (String[]) rs.getArray(1).getArray(), relation);
		return keys.isEmpty() ? List.of() : List.of(keys.get(0));
	}

	/** Where the manifest says its rows belong, against the interval asked for and the key it was read beside. */
	private static List<String> placeDifferences(Manifest manifest, PartitionPolicy policy, String partition,
			LocalDate start, String objectKey) {
		LocalDate end = policy.interval().plus(start, 1);
		List<String> differences = new ArrayList<>();
		differ(differences, "table", manifest.table(), policy.table());
		differ(differences, "partition", manifest.partition(), partition);
		differ(differences, "range start", manifest.rangeStart(), start + " 00:00:00+00");
		differ(differences, "range end", manifest.rangeEnd(), end + " 00:00:00+00");
		differ(differences, "object key", manifest.objectKey(), objectKey);
		return differences;
	}

	/**
	 * The segment's manifest, authenticated with the keyset (sealed under its own key: edited, cut, or moved
	 * from another key, it does not open), then matched field by field against the segment's log row, the
	 * interval asked for and the table's columns now. Refused before anything is written otherwise.
	 */
	private Checked manifest(Segment segment, Keyset keys, PartitionPolicy policy, String partition, LocalDate start,
			Map<String, String> columns) {
		String key = ColdObjectKeys.manifestOf(segment.objectKey());
		Manifest manifest = sealedManifest(key, keys);
		List<String> differences = placeDifferences(manifest, policy, partition, start, segment.objectKey());
		differ(differences, "object sha256", "sha256:" + manifest.objectSha256(), segment.checksum());
		differ(differences, "object bytes", manifest.objectBytes(), segment.bytes());
		differ(differences, "rows", manifest.rows(), segment.rows());
		if (manifest.columns() == null || manifest.columns().isEmpty()) {
			differences.add("no columns recorded");
		}
		if (!differences.isEmpty()) {
			throw new RefusedException(String.format(MANIFEST_DIFFERS, key, String.join("; ", differences)));
		}
		// by name: a column added since gets its default, one whose type changed loads if its values still do,
		// and one dropped since would lose its values
		List<String> loaded = new ArrayList<>();
		List<String> retyped = new ArrayList<>();
		List<String> missing = new ArrayList<>();
		List<String> narrowed = new ArrayList<>();
		for (String recorded : manifest.columns()) {
			Manifest.Column column;
			try {
				column = Manifest.column(recorded);
			}
			catch (IllegalArgumentException ex) {
				throw new RefusedException(String.format(MANIFEST_UNREADABLE, key, ex.getMessage()));
			}
			String type = columns.get(column.name());
			if (type == null) {
				missing.add(column.name());
			}
			else {
				// the catalog's name (the manifest's is checked equal to it), quoted as catalog names are
				loaded.add(column.name());
				if (!type.equals(column.type())) {
					retyped.add(column.name() + " " + column.type() + ", now " + type);
					if (!widens(column.type(), type)) {
						narrowed.add(column.name() + " " + column.type() + ", now " + type);
					}
				}
			}
		}
		if (!missing.isEmpty()) {
			throw new RefusedException(String.format(MISSING_COLUMNS, segment.objectKey(), String.join(", ", missing),
					policy.table()));
		}
		if (!narrowed.isEmpty()) {
			throw new RefusedException(String.format(NARROWED_COLUMNS, segment.objectKey(), String.join("; ", narrowed),
					policy.table()));
		}
		return new Checked(segment, manifest, loaded, retyped);
	}

	/**
	 * Whether every value of the exported type reads into the current one unchanged. Any other change (a
	 * numeric scale, a time zone, a shorter text) could alter archived values without an error.
	 */
	static boolean widens(String exported, String now) {
		List<String> integers = List.of("smallint", "integer", "bigint", "numeric");
		if (integers.contains(exported) && integers.contains(now)) {
			return integers.indexOf(now) > integers.indexOf(exported);
		}
		if (exported.equals("real")) {
			return now.equals("double precision");
		}
		if (exported.startsWith("character varying")) {
			if (now.equals("text") || now.equals("character varying")) {
				return true;
			}
			return now.startsWith("character varying(") && exported.startsWith("character varying(")
					&& length(now) >= length(exported);
		}
		return false;
	}

	private static int length(String varchar) {
		return Integer.parseInt(varchar.substring("character varying(".length(), varchar.length() - 1));
	}

	private static void differ(List<String> differences, String field, Object manifest, Object expected) {
		if (!expected.equals(manifest)) {
			differences.add(field + " " + manifest + ", not " + expected);
		}
	}

}
