package dev.pgbatch.backup;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

import com.github.luben.zstd.ZstdInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.lz4.FramedLZ4CompressorInputStream;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.ParameterDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * bin/etl backup verify --physical: pgBackRest's verify of the stanza's repository (every file of every set and
 * every WAL segment read back, decrypted and checked against its checksum), and a check that each WAL archive holds
 * every segment from the WAL start of its oldest full set to its newest segment, along the timeline of that newest
 * segment (its .history file says where each parent timeline was left). Recorded in etl.physical_verify, passed or
 * not, with what was wrong.
 */
@Component
public class PhysicalVerify {

	private static final Logger log = LoggerFactory.getLogger(PhysicalVerify.class);

	static final String VERIFIED = "verified: %d sets, WAL %s..%s, no gap";

	static final String FILE_PROBLEM = "pgbackrest verify: %s %s";

	static final String IN_BUNDLE = " (stored in %s)";

	static final String VERIFY_STATUS = "pgbackrest verify: %s";

	static final String NO_SUMMARY = "pgbackrest verify printed no summary (stanza, status): what it checked cannot be"
			+ " told, so nothing counts as verified";

	static final String SET_NOT_VERIFIED = "pgbackrest verify did not check backup set %s, which pgbackrest info lists:"
			+ " its directory or its manifests are gone from the repository";

	static final String SET_NOT_VALID = "pgbackrest verify: backup set %s is %s (%s of %s files valid)";

	static final String ARCHIVE_NOT_VERIFIED = "pgbackrest verify did not check WAL archive %s, which pgbackrest info"
			+ " lists: its directory is gone from the repository";

	static final String ARCHIVE_NOT_VALID = "pgbackrest verify: WAL archive %s: %s of %s segments valid";

	static final String NO_FULL = "stanza %s has no full backup set: nothing can be restored (bin/etl run backup type=full)";

	static final String NO_CURRENT_FULL = "stanza %s has no full backup set of its current database system (database"
			+ " id %d, after a stanza-upgrade): nothing of it can be restored (bin/etl run backup type=full)";

	static final String NO_WAL = "WAL archive %s: no segment from %s, %s, on";

	static final String FULLS_START = "the WAL start of full set %s";

	static final String FIRST_SEGMENT = "its first segment";

	static final String GAP = "WAL archive %s: %d segment(s) missing, %s to %s";

	static final String MISSING_SEGMENT = "WAL archive %s: segment %s missing";

	static final String NO_HISTORY = "WAL archive %s: %s is missing: where timeline %d began cannot be told, its"
			+ " segments were not checked for gaps";

	static final String SET_WAL_MISSING = "WAL archive %s: backup set %s cannot be made consistent, WAL of its own"
			+ " (%s..%s) is missing: %s";

	static final String TAIL_MISSING = "WAL archive %s does not hold %s, which the server of ETL_DB_URL says it"
			+ " archived last (pg_stat_archiver): WAL archived since the archive's newest segment on timeline %d (%s)"
			+ " is not in the repository (dropped on the way, or the repository was rolled back or cut short)";

	static final String NOT_THE_SERVERS = "WAL archive %s is not checked against the server of ETL_DB_URL (%s): its"
			+ " WAL was followed along its highest timeline by name (%d), and what the server archived was not looked for";

	static final String OTHER_SYSTEM = "its system identifier is %d, the archive's %d";

	static final String SERVER_UNREADABLE = "its state cannot be read: %s";

	static final String BAD_HISTORY = "WAL archive %s: %s cannot be read: %s";

	static final String BACKUP_RAN = "a backup of stanza %s still ran after %d s (ETL_PGBACKREST_LOCK_WAIT): verified"
			+ " meanwhile, sets it made were not checked and sets its retention removed were left out";

	static final String SETS_CHANGED = "the backup sets changed while pgbackrest verify ran: removed %s; made %s";

	static final String SET_REMOVED = "backup set %s was removed while pgbackrest verify ran, which retention does not"
			+ " do (it removes the oldest fulls first, and diffs beyond repo1-retention-diff, each with the sets on it):"
			+ " %s; an expire --set by hand, or the repository was changed";

	static final String OLDER_FULL_LISTED = "full set %s, older, is still listed";

	static final String NO_RETENTION_RAN = "no backup job's retention step ran while it did";

	static final String MADE_GONE = "backup set %s, which a backup job of this runner made (restore point %s), is no"
			+ " longer listed, though its full set is not older than the oldest full listed (%s): retention does not"
			+ " remove it; an expire --set by hand, or the repository was changed";

	static final String ITS_FULL_LISTED = "its full set %s is still listed";

	static final String NO_FULL_LEFT = "no full set is listed any more, and retention keeps the newest";

	static final String MADE_NOT_VERIFIED = "backup set %s was made while pgbackrest verify ran, which did not check"
			+ " its files (%s): its WAL is checked here, its files by the next verify";

	static final String NOT_IN_SUMMARY = "not in its summary";

	static final String NOT_NONE = "none";

	static final String NOT_ITS_WAL = "WAL archive %s: segment %s holds other WAL than its name says (%s): a copy under"
			+ " another name? (pgBackRest checks a segment against the checksum in its name only)";

	static final String PAGE_AT = "its first page is at %X/%X";

	static final String PAGE_TIMELINE = "its first page is of timeline %d";

	static final String PAGE_SYSTEM = "its first page is of database system %d, the archive's is %d";

	static final String PAGE_SIZE = "its first page says segments of %d bytes, the server's are %d";

	static final String PAGE_AFTER_SWITCH_TIMELINE = "the page after its switch point (%s) is of timeline %d";

	static final String PAGE_AFTER_SWITCH_AT = "the page after its switch point (%s) is at %X/%X";

	static final String PAGE_AFTER_SWITCH_MISSING = "it ends before the page after its switch point (%s)";

	static final String PAGE_NOT_LONG = "it does not begin with a segment's first page header";

	static final String HEADER_UNREADABLE = "WAL archive %s: segment %s cannot be read back to check its page header: %s";

	static final String NOT_DECOMPRESSED = "WAL archive %s: some of its segments are compressed with %s, which this"
			+ " does not decompress: whether those at set boundaries and timeline switches hold the WAL their names say"
			+ " was not checked";

	/** Reading back a large repository takes hours; this bounds only one that hangs. */
	private static final Duration VERIFY_TIMEOUT = Duration.ofHours(24);

	private static final Duration LIST_TIMEOUT = Duration.ofHours(1);

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** A line of pgBackRest's console log (--log-timestamp=n): process, level, message. */
	private static final Pattern LOG_LINE = Pattern.compile("^P\\d+\\s+([A-Z]+): (.*)$");

	/**
	 * A file verify found wrong (logged at INFO: the ones it counts as errors; a WAL segment gone missing while it
	 * ran is a WARN, expire's doing): its reason, and its path under backup/STANZA/ or archive/STANZA/.
	 */
	private static final Pattern FILE = Pattern
		.compile("^(invalid checksum|invalid size|file missing|invalid result) '?([^' ]+?)'?(:.*)?$");

	/** What verify counts as an error that is not a file: archive ids not in archive.info's history. */
	private static final String NOT_IN_HISTORY = "are not in the archive.info history list";

	/** A path under archive/STANZA/ (an archive id first, 15-1), not under backup/STANZA/ (a set's label first). */
	private static final Pattern ARCHIVE_PATH = Pattern.compile("^\\d+(\\.\\d+)?-\\d+/.*");

	/** A WAL segment in an archive (TIMELINE+LOG/SEGMENT-SHA1[.COMPRESSION]); not a .partial, .backup or .history. */
	private static final Pattern SEGMENT = Pattern.compile("^[0-9A-F]{16}/([0-9A-F]{24})-[0-9a-f]{40}(\\.[a-z0-9]+)?$");

	/** verify --verbose's line of one set in its summary; "manifest missing" has no counts in some versions. */
	private static final Pattern SET_LINE = Pattern
		.compile("^backup: (\\S+), status: ([^,]+)(?:, total files checked: (\\d+), total valid files: (\\d+))?$");

	/** verify --verbose's line of one WAL archive in its summary. */
	private static final Pattern ARCHIVE_LINE = Pattern
		.compile("^archiveId: (\\S+), total WAL checked: (\\d+), total valid WAL: (\\d+)$");

	/**
	 * A segment's first page header (PostgreSQL's XLogLongPageHeaderData, little-endian): xlp_info at 2, xlp_tli at 4,
	 * xlp_pageaddr at 8, xlp_sysid at 24, xlp_seg_size at 32; 40 bytes with xlp_xlog_blcksz.
	 */
	private static final int HEADER_BYTES = 40;

	/** Any other page's header (XLogPageHeaderData): xlp_tli at 4, xlp_pageaddr at 8; 24 bytes with its padding. */
	private static final int SHORT_HEADER_BYTES = 24;

	/** xlp_info's flag of a long (a segment's first) page header. */
	private static final int XLP_LONG_HEADER = 0x0002;

	/** The extensions of pgBackRest's compress-types (none, gz, zst, lz4, bz2) whose segments are read back. */
	private static final Set<String> DECOMPRESSED = Set.of("", "gz", "zst", "lz4", "bz2");

	/** pgBackRest's error code of a file that is not there. */
	private static final String MISSING_FILE = "[055]";

	/** A manifest's line of a bundled file: its bundle id. */
	private static final Pattern BUNDLE_ID = Pattern.compile("\"bni\":(\\d+)");

	/**
	 * A verify: its id in etl.physical_verify, when, the sets listed, the WAL range checked, what was wrong, and what
	 * it could not check (notes: not problems).
	 */
	public record VerifyResult(long id, Instant verifiedAt, String stanza, int sets, String walFrom, String walTo,
			List<String> problems, List<String> notes) {

		public boolean passed() {
			return this.problems.isEmpty();
		}

		/** What a verify that passed says. */
		public String summary() {
			return VERIFIED.formatted(this.sets, this.walFrom, this.walTo)
					+ this.notes.stream().map(note -> "; " + note).collect(Collectors.joining());
		}

	}

	/**
	 * Where a timeline begins: at segment number {@code segment} (the one holding its parent's switch point), at
	 * {@code switchPoint} (that LSN, from its history file; -1 when not known).
	 */
	record TimelineStart(long timeline, long segment, long switchPoint) {

		/** A timeline's start without a history file's switch point: from the beginning, or as a line's first. */
		TimelineStart(long timeline, long segment) {
			this(timeline, segment, -1);
		}

	}

	/**
	 * The server of ETL_DB_URL: PostgreSQL's identifier of its database system, the timeline it is on, and the WAL
	 * file pg_stat_archiver says it archived last (null: none since the statistics were reset).
	 */
	record Server(long systemId, long timeline, String lastArchivedWal) {
	}

	/** The timeline a server is on: a primary's is that of the WAL it writes, a standby's its last restartpoint's. */
	private static final String SERVER = """
			SELECT (SELECT system_identifier FROM pg_control_system()),
			  CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())::bigint
			    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END,
			  (SELECT last_archived_wal FROM pg_stat_archiver)""";

	/** A WAL file name pg_stat_archiver gives whose segment is in the archive: a segment, or a backup's .backup file. */
	private static final Pattern ARCHIVED = Pattern.compile("^([0-9A-F]{24})(\\.[0-9A-F]{8}\\.backup)?$");

	private final PgBackRest pgBackRest;

	private final PhysicalBackups physical;

	private final JdbcTemplate jdbc;

	private final TransactionTemplate ownTransaction;

	private final BackupWait backupWait;

	private final JobRepository jobRepository;

	PhysicalVerify(PgBackRest pgBackRest, PhysicalBackups physical, JdbcTemplate jdbc,
			PlatformTransactionManager transactions, BackupWait backupWait, JobRepository jobRepository) {
		this.pgBackRest = pgBackRest;
		this.jobRepository = jobRepository;
		this.physical = physical;
		this.backupWait = backupWait;
		this.jdbc = jdbc;
		this.ownTransaction = new TransactionTemplate(transactions);
		this.ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
	}

	/**
	 * Verifies the stanza's repository and records the result; what was wrong is in its problems, one line each. A
	 * backup under way is waited for first ({@link BackupWait}); one that still runs then is verified alongside, and
	 * a note says so.
	 */
	public VerifyResult verify() throws InterruptedException {
		List<String> notes = new ArrayList<>();
		try {
			if (!this.backupWait.awaitNoBackup("backup verify --physical")) {
				notes.add(BACKUP_RAN.formatted(stanza(), this.backupWait.bound().toSeconds()));
			}
		}
		catch (IOException | RuntimeException ex) {
			// info failed: the verify below meets the same failure, and records it
		}
		Instant started = Instant.now();
		List<String> problems = new ArrayList<>();
		int sets = 0;
		String walFrom = null;
		String walTo = null;
		try {
			// each read in a transaction of its own: none is held while the repository is listed and read
			long segmentSize = this.ownTransaction.execute(status -> this.jdbc.queryForObject(
					"SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'", Long.class));
			// first: what the server archived by now must be in the listings that follow, however long pgBackRest's
			// verify takes meanwhile (a copy of the repository made just before is then compared with what the
			// server had archived when it was made, not minutes later)
			String serverProblem = null;
			Server server = null;
			try {
				server = this.ownTransaction.execute(status -> this.jdbc.queryForObject(SERVER,
						(row, n) -> new Server(row.getLong(1), row.getLong(2), row.getString(3))));
			}
			catch (DataAccessException ex) {
				serverProblem = SERVER_UNREADABLE.formatted(OneLine.of(String.valueOf(ex.getMostSpecificCause().getMessage())));
			}
			Instant listed = Instant.now();
			PhysicalBackups.Archive before = this.physical.archive();
			int retentionDiff = retentionDiff();
			Verify verified = pgBackRestVerify(before, retentionDiff, () -> retentionRan(listed, Instant.now()));
			problems.addAll(verified.problems());
			notes.addAll(verified.notes());
			PhysicalBackups.Archive archive = verified.after();
			problems.addAll(madeButGone(madeLabels(), archive.sets(), retentionDiff));
			sets = stillListed(before, archive).sets().size();
			Map<String, From> from = from(archive, stanza(), problems);
			for (PhysicalBackups.WalArchive wal : archive.archives()) {
				From start = from.get(wal.id());
				if (start == null) {
					continue;
				}
				List<PhysicalBackups.BackupSet> ofThis = archive.sets()
					.stream()
					.filter(set -> set.database() == wal.database())
					.toList();
				Server live = server != null && server.systemId() == wal.systemId() ? server : null;
				String notLive = live != null ? null
						: server == null ? serverProblem : OTHER_SYSTEM.formatted(server.systemId(), wal.systemId());
				String newest = gapCheck(wal, start, ofThis, live, notLive, segmentSize, problems, notes);
				walFrom = walFrom == null ? start.segment() : walFrom;
				walTo = newest == null ? walTo : newest;
			}
		}
		catch (IOException | RuntimeException ex) {
			problems.add(OneLine.of(String.valueOf(ex.getMessage())));
		}
		long id = record(started, sets, walFrom, walTo, problems);
		log.info("physical verify {} of stanza {}: {}", id, stanza(),
				(problems.isEmpty() ? "passed" : "failed: " + String.join("; ", problems))
						+ notes.stream().map(note -> "; " + note).collect(Collectors.joining()));
		return new VerifyResult(id, started, stanza(), sets, walFrom, walTo, problems, notes);
	}

	private String stanza() {
		return this.pgBackRest.stanza();
	}

	/** Where an archive's gap check starts: a segment, and what it is (for {@link #NO_WAL}). */
	record From(String segment, String what) {
	}

	/**
	 * Where each WAL archive's gap check starts, by archive id (none: not checked), and the problems of fulls missing:
	 * what is restorable of a database system starts at the WAL start of its oldest full set. The current database
	 * system (the newest database id, after a stanza-upgrade) must have a full set of its own, as the stanza must have
	 * one at all; its archive is checked without one too, from its first segment. An older system's archive without
	 * a full set is not checked: nothing of it can be restored, nor is meant to be.
	 */
	static Map<String, From> from(PhysicalBackups.Archive archive, String stanza, List<String> problems) {
		List<PhysicalBackups.BackupSet> fulls = archive.sets().stream().filter(set -> set.type().equals("full")).toList();
		if (fulls.isEmpty()) {
			problems.add(NO_FULL.formatted(stanza));
		}
		Map<String, From> from = new HashMap<>();
		for (PhysicalBackups.WalArchive wal : archive.archives()) {
			PhysicalBackups.BackupSet full = fulls.stream()
				.filter(set -> set.database() == wal.database())
				.findFirst()
				.orElse(null);
			if (full != null) {
				from.put(wal.id(), new From(full.walStart(), FULLS_START.formatted(full.label())));
			}
			else if (wal.database() == archive.database() && wal.min() != null) {
				from.put(wal.id(), new From(wal.min(), FIRST_SEGMENT));
			}
		}
		if (!fulls.isEmpty() && fulls.stream().noneMatch(full -> full.database() == archive.database())) {
			problems.add(NO_CURRENT_FULL.formatted(stanza, archive.database()));
		}
		return from;
	}

	/** What pgBackRest's verify found, what it could not check (notes), and the archive as info lists it after it. */
	record Verify(List<String> problems, List<String> notes, PhysicalBackups.Archive after) {
	}

	/**
	 * pgBackRest's verify (it exits 0 whatever it found): the files its log names as wrong, each with the bundle it
	 * is stored in; and what its summary says of the sets and archives info lists (see {@link #summaryProblems}).
	 * info is read again after it: a set that retention removed meanwhile (the backup job's expire) had its files
	 * vanish under the verify, and is left out, not a problem; one retention cannot have removed is a problem, its
	 * files' problems kept (see {@link #notByRetention}; {@code retentionDiff} is the configuration's
	 * repo1-retention-diff, {@code retentionRan} whether a backup job's retention step ran meanwhile, asked only when
	 * a set was removed). A note names the sets removed and made meanwhile.
	 */
	Verify pgBackRestVerify(PhysicalBackups.Archive before, int retentionDiff, BooleanSupplier retentionRan)
			throws IOException, InterruptedException {
		// --verbose: the summary then has a line for each set and archive verify checked, valid or not
		PgBackRest.Result result = this.pgBackRest.run(VERIFY_TIMEOUT, "verify", "--output=none", "--verbose",
				"--log-level-console=info", "--log-level-stderr=off", "--log-timestamp=n");
		if (result.timedOut()) {
			return new Verify(List.of(PhysicalBackups.TIMED_OUT.formatted("verify", VERIFY_TIMEOUT.toHours())), List.of(),
					before);
		}
		if (result.exitCode() != 0) {
			return new Verify(List.of(PhysicalBackups.FAILED.formatted("verify", result.failure())), List.of(), before);
		}
		PhysicalBackups.Archive after = this.physical.archive();
		PhysicalBackups.Archive checked = stillListed(before, after);
		Set<String> listed = checked.sets().stream().map(PhysicalBackups.BackupSet::label).collect(Collectors.toSet());
		// the job's runs are looked up only when something was removed
		boolean removedAny = !listed.containsAll(before.sets().stream().map(PhysicalBackups.BackupSet::label).toList());
		Map<String, String> notByRetention = notByRetention(before.sets(), after.sets(), retentionDiff,
				removedAny && retentionRan.getAsBoolean());
		// what retention removed is left out, files and all; what it cannot have removed is not
		Set<String> removed = before.sets().stream().map(PhysicalBackups.BackupSet::label)
			.filter(label -> !listed.contains(label) && !notByRetention.containsKey(label)).collect(Collectors.toSet());
		List<String> problems = new ArrayList<>();
		notByRetention.forEach((label, why) -> problems.add(SET_REMOVED.formatted(label, why)));
		List<String> summary = null;
		boolean inSummary = false;
		// whether verify named a file, of a set left out too: its summary's error status is then said by the files
		boolean named = false;
		Map<String, Map<String, String>> manifests = new HashMap<>();
		for (String line : result.stdout().lines().toList()) {
			Matcher logged = LOG_LINE.matcher(line);
			if (logged.matches()) {
				String message = logged.group(2);
				inSummary = message.startsWith("stanza: ");
				summary = inSummary ? new ArrayList<>() : summary;
				Matcher file = FILE.matcher(message);
				named |= logged.group(1).equals("INFO") && file.matches();
				if (logged.group(1).equals("INFO") && file.matches() && !removed.contains(setOf(file.group(2)))) {
					problems.add(FILE_PROBLEM.formatted(file.group(1), repositoryPath(file.group(2))
							+ bundle(file.group(2), manifests) + OneLine.of(file.group(3) == null ? "" : file.group(3))));
				}
				else if (message.contains(NOT_IN_HISTORY)) {
					problems.add(VERIFY_STATUS.formatted(OneLine.of(message)));
				}
			}
			else if (inSummary && !line.isBlank()) {
				// the summary's lines below its first (stanza: NAME)
				summary.add(line.strip());
			}
		}
		problems.addAll(summaryProblems(summary, checked, !named && problems.isEmpty()));
		return new Verify(problems, changeNotes(before.sets(), after.sets(), summary), after);
	}

	/**
	 * The sets of {@code before} that {@code after} (info read again after verify) no longer lists and that
	 * retention cannot have removed, each with why, oldest first. pgBackRest's expire removes the oldest fulls first,
	 * each with the sets that depend on it, and never every full: a removed set whose full is as new as the oldest full
	 * still listed, or newer (the newest full, a full with an older one kept, an incr on a full kept), or any when no
	 * full is left, was removed otherwise. Fulls made meanwhile count as listed: a new full lets retention remove the
	 * one that was newest. A repo1-retention-diff of the configuration ({@code retentionDiff}, 0: none) also removes
	 * diffs on a full still listed, each with its incrs ({@link #byDiffRetention}): those it can have removed are not
	 * named either. None of this excuses a removal when no backup job's retention step ran meanwhile
	 * ({@code retentionRan}, see {@link #retentionRan}): pgbatch's own expire is the only one that runs.
	 */
	static Map<String, String> notByRetention(List<PhysicalBackups.BackupSet> before,
			List<PhysicalBackups.BackupSet> after, int retentionDiff, boolean retentionRan) {
		Map<String, PhysicalBackups.BackupSet> byLabel = before.stream()
			.collect(Collectors.toMap(PhysicalBackups.BackupSet::label, set -> set, (first, second) -> first));
		Set<String> listed = after.stream().map(PhysicalBackups.BackupSet::label).collect(Collectors.toSet());
		// pgBackRest's labels begin with the date and time of their full: in label order is oldest first
		String oldestFull = after.stream()
			.filter(set -> set.type().equals("full"))
			.map(PhysicalBackups.BackupSet::label)
			.min(Comparator.naturalOrder())
			.orElse(null);
		Map<String, String> problems = new LinkedHashMap<>();
		for (PhysicalBackups.BackupSet set : before) {
			if (listed.contains(set.label())) {
				continue;
			}
			if (!retentionRan) {
				problems.put(set.label(), NO_RETENTION_RAN);
			}
			else if (byDiffRetention(set, byLabel, listed, retentionDiff)) {
				continue;
			}
			else if (oldestFull == null) {
				problems.put(set.label(), NO_FULL_LEFT);
			}
			else if (listed.contains(set.full())) {
				problems.put(set.label(), ITS_FULL_LISTED.formatted(set.full()));
			}
			else if (set.full().compareTo(oldestFull) >= 0) {
				problems.put(set.label(), OLDER_FULL_LISTED.formatted(oldestFull));
			}
		}
		return problems;
	}

	/**
	 * Whether repo1-retention-diff ({@code retentionDiff}, 0: not set) can have removed {@code set}: a diff, or an incr
	 * on one (its prior sets followed in {@code before}) whose diff is gone too, when every older diff of
	 * {@code before} is gone too and at least that many full and diff sets newer than that diff are still listed of
	 * those verify checked ({@code before}'s). pgBackRest's expire counts fulls as diffs there, and removes the oldest
	 * diffs beyond that number, each with the sets on it; never a full, nor an incr on a full, nor an incr alone, nor
	 * a diff while an older one stays. A set made meanwhile, not checked, does not count: a removal it would explain
	 * is named, not trusted to an unchecked set.
	 */
	static boolean byDiffRetention(PhysicalBackups.BackupSet set, Map<String, PhysicalBackups.BackupSet> before,
			Set<String> listed, int retentionDiff) {
		PhysicalBackups.BackupSet diff = set;
		while (diff != null && diff.type().equals("incr")) {
			diff = diff.prior() == null ? null : before.get(diff.prior());
		}
		if (retentionDiff <= 0 || diff == null || !diff.type().equals("diff") || listed.contains(diff.label())) {
			return false;
		}
		String label = diff.label();
		// label order is oldest first (pgBackRest's labels begin with the date and time of their full, then their own)
		boolean olderDiffListed = before.values()
			.stream()
			.anyMatch(older -> older.type().equals("diff") && older.label().compareTo(label) < 0
					&& listed.contains(older.label()));
		return !olderDiffListed && before.values()
			.stream()
			.filter(newer -> !newer.type().equals("incr") && newer.label().compareTo(label) > 0
					&& listed.contains(newer.label()))
			.count() >= retentionDiff;
	}

	/** The configuration's repo1-retention-diff (pgbackrest help expire), 0 when not set or not a number. */
	private int retentionDiff() throws IOException, InterruptedException {
		return this.pgBackRest.option("expire", "repo1-retention-diff")
			.filter(value -> value.matches("[0-9]{1,7}"))
			.map(Integer::parseInt)
			.orElse(0);
	}

	/**
	 * Whether a physical backup's retention step ran pgBackRest's expire at some time from {@code from} to
	 * {@code to}, as Spring Batch recorded it (its times are local times without a zone: every runner records and
	 * reads them in UTC, PgBatchApplication.main). One that ended counts if its context says its expire ran
	 * ({@link BackupJobConfiguration#EXPIRE_RAN}; not one that skipped it for a restore or failed before it); one
	 * without an end (running now, or its runner killed: its context is not saved yet) counts, its expire, bounded by
	 * its timeouts, within a day of its start. The context is read through Spring Batch (its serializer is not SQL's).
	 */
	private boolean retentionRan(Instant from, Instant to) {
		Map<Long, Boolean> steps = new LinkedHashMap<>();
		this.ownTransaction.executeWithoutResult(status -> this.jdbc.query("""
				SELECT s.STEP_EXECUTION_ID, s.END_TIME IS NOT NULL FROM etl.BATCH_STEP_EXECUTION s
				  JOIN etl.BATCH_JOB_EXECUTION e ON e.JOB_EXECUTION_ID = s.JOB_EXECUTION_ID
				  JOIN etl.BATCH_JOB_INSTANCE i ON i.JOB_INSTANCE_ID = e.JOB_INSTANCE_ID
				  WHERE i.JOB_NAME = ? AND s.STEP_NAME = 'retention'
				    AND EXISTS (SELECT FROM etl.BATCH_JOB_EXECUTION_PARAMS p WHERE p.JOB_EXECUTION_ID = e.JOB_EXECUTION_ID
				      AND p.PARAMETER_NAME = ? AND p.PARAMETER_VALUE <> ?)
				    AND NOT EXISTS (SELECT FROM etl.BATCH_JOB_EXECUTION_PARAMS p WHERE p.JOB_EXECUTION_ID = e.JOB_EXECUTION_ID
				      AND p.PARAMETER_NAME = ? AND p.PARAMETER_VALUE = 'true')
				    AND s.START_TIME <= ? AND coalesce(s.END_TIME, s.START_TIME + interval '1 day') >= ?""",
				(RowCallbackHandler) row -> steps.put(row.getLong(1), row.getBoolean(2)), BackupJob.NAME,
				BackupJob.TYPE, BackupJob.LOGICAL, ParameterDefinition.DRY_RUN,
				LocalDateTime.ofInstant(to, ZoneId.systemDefault()), LocalDateTime.ofInstant(from, ZoneId.systemDefault())));
		return steps.entrySet().stream().anyMatch(step -> !step.getValue() || expireRan(step.getKey()));
	}

	private boolean expireRan(long stepExecutionId) {
		StepExecution step = this.jobRepository.getStepExecution(stepExecutionId);
		return step != null && step.getExecutionContext().containsKey(BackupJobConfiguration.EXPIRE_RAN);
	}

	/** The sets the backup jobs of this runner made, by their own restore points (etl.restore_point), label to point. */
	private Map<String, String> madeLabels() {
		Map<String, String> made = new HashMap<>();
		this.ownTransaction.executeWithoutResult(status -> this.jdbc.query(
				"SELECT backup_label, name FROM etl.restore_point WHERE backup_label IS NOT NULL",
				(RowCallbackHandler) row -> made.put(row.getString(1), row.getString(2))));
		return made;
	}

	/**
	 * The sets a backup job made ({@code made}: label to its restore point) that {@code listed} (info, after
	 * verify) no longer lists though their full is not older than the oldest full listed: retention removes the
	 * oldest fulls first, each with the sets on it, so such a set went otherwise, between verifies too (a set removed
	 * so is not listed at the next verify, which would pass). With a repo1-retention-diff ({@code retentionDiff}),
	 * diffs and incrs are not named: which of them it removed cannot be told from the labels alone. None when no
	 * full is listed (said already).
	 */
	static List<String> madeButGone(Map<String, String> made, List<PhysicalBackups.BackupSet> listed,
			int retentionDiff) {
		Set<String> labels = listed.stream().map(PhysicalBackups.BackupSet::label).collect(Collectors.toSet());
		String oldestFull = listed.stream()
			.filter(set -> set.type().equals("full"))
			.map(PhysicalBackups.BackupSet::label)
			.min(Comparator.naturalOrder())
			.orElse(null);
		if (oldestFull == null) {
			return List.of();
		}
		return made.keySet()
			.stream()
			.filter(label -> !labels.contains(label) && label.split("_", 2)[0].compareTo(oldestFull) >= 0)
			.filter(label -> retentionDiff <= 0 || label.endsWith("F"))
			.sorted()
			.map(label -> MADE_GONE.formatted(OneLine.of(label), made.get(label), oldestFull))
			.toList();
	}

	/**
	 * What changed while verify ran, as notes: the labels of the sets removed (by retention or not) and made, and
	 * each set made whose files verify did not check, valid ({@code summary}: its summary's lines, null when none).
	 */
	static List<String> changeNotes(List<PhysicalBackups.BackupSet> before, List<PhysicalBackups.BackupSet> after,
			List<String> summary) {
		Set<String> was = before.stream().map(PhysicalBackups.BackupSet::label).collect(Collectors.toSet());
		Set<String> is = after.stream().map(PhysicalBackups.BackupSet::label).collect(Collectors.toSet());
		List<String> removed = before.stream().map(PhysicalBackups.BackupSet::label).filter(label -> !is.contains(label))
			.toList();
		List<String> made = after.stream().map(PhysicalBackups.BackupSet::label).filter(label -> !was.contains(label))
			.toList();
		if (removed.isEmpty() && made.isEmpty()) {
			return List.of();
		}
		List<String> notes = new ArrayList<>();
		notes.add(SETS_CHANGED.formatted(removed.isEmpty() ? NOT_NONE : String.join(", ", removed),
				made.isEmpty() ? NOT_NONE : String.join(", ", made)));
		Map<String, Matcher> checked = setLines(summary == null ? List.of() : summary);
		for (String label : made) {
			Matcher line = checked.get(label);
			if (line == null) {
				notes.add(MADE_NOT_VERIFIED.formatted(label, NOT_IN_SUMMARY));
			}
			else if (!valid(line)) {
				notes.add(MADE_NOT_VERIFIED.formatted(label, OneLine.of(line.group())));
			}
		}
		return notes;
	}

	/** verify's summary lines of sets, by label. */
	private static Map<String, Matcher> setLines(List<String> summary) {
		Map<String, Matcher> sets = new HashMap<>();
		for (String line : summary) {
			Matcher set = SET_LINE.matcher(line);
			if (set.matches()) {
				sets.put(set.group(1), set);
			}
		}
		return sets;
	}

	/** Whether a set's summary line says it is valid, every file of it. */
	private static boolean valid(Matcher set) {
		return set.group(2).equals("valid") && set.group(3) != null && set.group(3).equals(set.group(4));
	}

	/** {@code before} without the sets and archives {@code after} (info read again) no longer lists. */
	static PhysicalBackups.Archive stillListed(PhysicalBackups.Archive before, PhysicalBackups.Archive after) {
		Set<String> sets = after.sets().stream().map(PhysicalBackups.BackupSet::label).collect(Collectors.toSet());
		Set<String> archives = after.archives().stream().map(PhysicalBackups.WalArchive::id).collect(Collectors.toSet());
		return new PhysicalBackups.Archive(before.sets().stream().filter(set -> sets.contains(set.label())).toList(),
				before.walMin(), before.walMax(),
				before.archives().stream().filter(wal -> archives.contains(wal.id())).toList(), before.database());
	}

	/** The set a path verify names is in (its first part), null for a WAL archive's. */
	private static String setOf(String verified) {
		int slash = verified.indexOf('/');
		return ARCHIVE_PATH.matcher(verified).matches() || slash < 0 ? null : verified.substring(0, slash);
	}

	/**
	 * What verify's summary (its lines below "stanza: NAME"; null when it printed none) says is wrong. verify finds
	 * sets by the repository's directories, not by backup.info, and counts a set without manifests as no error: so
	 * every set and every archive holding WAL that info lists must be in the summary, valid with every file valid. A
	 * set verify saw that info does not list (a backup still running) is not looked at. No summary at all is a
	 * failure: nothing says what was checked. When verify said error but named no file ({@code noneNamed}), the
	 * summary's lines are the problem.
	 */
	static List<String> summaryProblems(List<String> summary, PhysicalBackups.Archive archive, boolean noneNamed) {
		if (summary == null || summary.stream().noneMatch(line -> line.startsWith("status: "))) {
			return List.of(NO_SUMMARY);
		}
		List<String> problems = new ArrayList<>();
		Map<String, Matcher> sets = setLines(summary);
		Map<String, Matcher> archives = new HashMap<>();
		for (String line : summary) {
			Matcher wal = ARCHIVE_LINE.matcher(line);
			if (wal.matches()) {
				archives.put(wal.group(1), wal);
			}
		}
		for (PhysicalBackups.WalArchive wal : archive.archives()) {
			Matcher checked = archives.get(wal.id());
			if (wal.max() == null) {
				continue;
			}
			if (checked == null) {
				problems.add(ARCHIVE_NOT_VERIFIED.formatted(wal.id()));
			}
			else if (!checked.group(2).equals(checked.group(3))) {
				problems.add(ARCHIVE_NOT_VALID.formatted(wal.id(), checked.group(3), checked.group(2)));
			}
		}
		for (PhysicalBackups.BackupSet listed : archive.sets()) {
			Matcher checked = sets.get(listed.label());
			if (checked == null) {
				problems.add(SET_NOT_VERIFIED.formatted(listed.label()));
			}
			else if (!valid(checked)) {
				problems.add(SET_NOT_VALID.formatted(listed.label(), checked.group(2),
						checked.group(4) == null ? "?" : checked.group(4), checked.group(3) == null ? "?" : checked.group(3)));
			}
		}
		if (summary.contains("status: error") && noneNamed && problems.isEmpty()) {
			problems.add(VERIFY_STATUS.formatted(OneLine.of(String.join("; ", summary))));
		}
		return problems;
	}

	/** A path verify names, as it is in the repository (repo-ls and repo-get take it so). */
	private String repositoryPath(String verified) {
		return (ARCHIVE_PATH.matcher(verified).matches() ? "archive/" : "backup/") + stanza() + "/" + verified;
	}

	/**
	 * Where a set's file named by verify is stored when the set bundles its files (repo1-bundle): its bundle, which
	 * is the repository's object to look at; nothing for a file of its own or a WAL segment.
	 */
	private String bundle(String verified, Map<String, Map<String, String>> manifests)
			throws IOException, InterruptedException {
		int slash = verified.indexOf('/');
		if (ARCHIVE_PATH.matcher(verified).matches() || slash < 0) {
			return "";
		}
		String label = verified.substring(0, slash);
		if (!PhysicalBackups.LABEL.matcher(label).matches()) {
			// not a set's directory (../ would reach out of the stanza's): its path alone is said
			return "";
		}
		// the manifest's key: the file's path in the set, without the compression's extension
		String file = verified.substring(slash + 1).replaceFirst("\\.(gz|zst|lz4|bz2)$", "");
		Map<String, String> bundles = manifests.get(label);
		if (bundles == null) {
			bundles = new HashMap<>();
			PgBackRest.Result manifest = this.pgBackRest.run(LIST_TIMEOUT, "repo-get",
					List.of("backup/" + stanza() + "/" + label + "/backup.manifest"), "--log-level-console=error",
					"--log-level-stderr=off");
			if (manifest.exitCode() == 0) {
				for (String line : manifest.stdout().lines().toList()) {
					int equals = line.indexOf('=');
					Matcher id = BUNDLE_ID.matcher(line);
					if (equals > 0 && id.find()) {
						bundles.put(line.substring(0, equals), id.group(1));
					}
				}
			}
			manifests.put(label, bundles);
		}
		String id = bundles.get(file);
		return id == null ? "" : IN_BUNDLE.formatted("backup/" + stanza() + "/" + label + "/bundle/" + id);
	}

	/**
	 * The archive's WAL checked (see {@link #check}) along the live server's timeline when the archive is of the
	 * server's database system ({@code live}), else along its highest timeline by name, and a note says so and why
	 * ({@code notLive}). Returns the newest segment checked to, null when none.
	 */
	private String gapCheck(PhysicalBackups.WalArchive wal, From from, List<PhysicalBackups.BackupSet> sets, Server live, String notLive, long segmentSize, List<String> problems,
			List<String> notes)
			throws IOException, InterruptedException {
		String path = "archive/" + stanza() + "/" + wal.id();
		// each segment's name, and its file in the archive (NAME-SHA1.EXTENSION under its log id's directory)
		Map<String, String> files = new HashMap<>();
		for (String name : list(path)) {
			Matcher segment = SEGMENT.matcher(name);
			if (segment.matches()) {
				files.put(segment.group(1), name);
			}
		}
		TreeSet<String> segments = new TreeSet<>(files.keySet());
		long timeline;
		if (live != null) {
			timeline = live.timeline();
		}
		else if (segments.isEmpty()) {
			problems.add(NO_WAL.formatted(wal.id(), from.segment(), from.what()));
			return null;
		}
		else {
			// by name: the highest timeline (a stray one hides the others; the note says the check went so)
			timeline = Long.parseLong(segments.last().substring(0, 8), 16);
			notes.add(NOT_THE_SERVERS.formatted(wal.id(), notLive, timeline));
		}
		List<TimelineStart> starts = List.of(new TimelineStart(timeline, 0));
		if (timeline > 1) {
			String history = "%08X.history".formatted(timeline);
			PgBackRest.Result read = history(this.pgBackRest, path, timeline);
			if (read.exitCode() != 0) {
				problems.add(read.errors().stream().anyMatch(error -> error.startsWith(MISSING_FILE))
						? NO_HISTORY.formatted(wal.id(), history, timeline)
						: BAD_HISTORY.formatted(wal.id(), history, read.failure()));
				return null;
			}
			starts = timelines(read.stdout(), timeline, segmentSize);
		}
		Checked checked = check(wal.id(), segments, starts, from, sets, live == null ? null : live.lastArchivedWal(),
				segmentSize);
		problems.addAll(checked.problems());
		headers(this.pgBackRest, wal, path, files, bound(from.segment(), sets, starts, checked.newest(), segmentSize), starts,
				segmentSize, problems, notes);
		return checked.newest();
	}

	/** An archive's .history file of {@code timeline}, read back (pgbackrest repo-get). */
	private static PgBackRest.Result history(PgBackRest pgBackRest, String path, long timeline)
			throws IOException, InterruptedException {
		return pgBackRest.run(LIST_TIMEOUT, "repo-get", List.of(path + "/" + "%08X.history".formatted(timeline)),
				"--log-level-console=error", "--log-level-stderr=off");
	}

	/**
	 * The line of timelines a segment of {@code timeline} off the checked line ({@code starts}) is on: that
	 * timeline's own history (a set taken on a standby of another timeline begins there), else the timeline alone
	 * (no history to read: what its segments begin with is then checked as before, against the timeline itself).
	 */
	private static List<TimelineStart> ownLine(PgBackRest pgBackRest, String path, long timeline, long segmentSize)
			throws InterruptedException {
		if (timeline > 1) {
			try {
				PgBackRest.Result read = history(pgBackRest, path, timeline);
				if (read.exitCode() == 0) {
					return timelines(read.stdout(), timeline, segmentSize);
				}
			}
			catch (IOException | RuntimeException ex) {
				// not read: the timeline alone
			}
		}
		return List.of(new TimelineStart(timeline, 0));
	}

	/**
	 * The segments whose first page header is checked: those at the ends of what is restored (the full set's WAL
	 * start, every set's WAL start and stop, the newest segment) and at each timeline switch on the line. Reading
	 * every segment back costs a pgbackrest repo-get each (about 0.25 s for a 2 MB segment on loopback S3, a
	 * segment's whole size over the network), as much again as verify's own reading: a copy into the middle of a run
	 * of segments is not looked for.
	 */
	static Set<String> bound(String from, List<PhysicalBackups.BackupSet> sets, List<TimelineStart> starts,
			String newest, long segmentSize) {
		long perLog = 0x1_0000_0000L / segmentSize;
		Set<String> bound = new TreeSet<>();
		bound.add(from);
		for (PhysicalBackups.BackupSet set : sets) {
			bound.add(set.walStart());
			bound.add(set.walStop());
		}
		if (newest != null) {
			bound.add(newest);
			long first = number(from, perLog);
			long to = number(newest, perLog);
			for (TimelineStart start : starts.subList(1, starts.size())) {
				if (start.segment() >= first && start.segment() <= to) {
					bound.add(name(start.timeline(), start.segment(), perLog));
				}
			}
		}
		return bound;
	}

	/**
	 * The first page header of each segment of {@code bound} that is in the archive ({@code files}: a missing one is
	 * a gap, said already), read back decrypted through pgbackrest repo-get and decompressed: it must be that of the
	 * segment its name says (see {@link #headerProblem}). Each segment by its own compression: the archive holds
	 * segments of every compress-type it was pushed with. A segment of a timeline off the checked line is checked
	 * along its own timeline's history.
	 */
	static void headers(PgBackRest pgBackRest, PhysicalBackups.WalArchive wal, String path, Map<String, String> files,
			Set<String> bound, List<TimelineStart> starts, long segmentSize, List<String> problems, List<String> notes)
			throws InterruptedException {
		Set<String> unknown = new TreeSet<>();
		// the lines of timelines off the checked one, by timeline: a set's segments may be on one
		Map<Long, List<TimelineStart>> ownLines = new HashMap<>();
		for (String name : bound) {
			String file = files.get(name);
			if (file == null) {
				continue;
			}
			String extension = file.contains(".") ? file.substring(file.lastIndexOf('.') + 1) : "";
			if (!DECOMPRESSED.contains(extension)) {
				// a note, not a problem: a compression this does not know is a newer pgBackRest's, whose verify
				// still checks the segment against its checksum; failing every verify after such an upgrade would
				// hide the failures that matter
				unknown.add(extension);
				continue;
			}
			long timeline = Long.parseLong(name.substring(0, 8), 16);
			long segment = number(name, 0x1_0000_0000L / segmentSize);
			List<TimelineStart> line = starts;
			if (starts.stream().noneMatch(start -> start.timeline() == timeline)) {
				if (!ownLines.containsKey(timeline)) {
					ownLines.put(timeline, ownLine(pgBackRest, path, timeline, segmentSize));
				}
				line = ownLines.get(timeline);
			}
			// the switch point in it when a timeline on the line begins in it
			long switchAt = line.stream()
				.skip(1)
				.filter(start -> start.timeline() == timeline && start.segment() == segment && start.switchPoint() >= 0)
				.mapToLong(start -> start.switchPoint() - segment * segmentSize)
				.findFirst()
				.orElse(-1);
			// its first bytes only (and the page after a switch point), as they come: a segment may be of up to 1 GB
			PgBackRest.Read<Pages> got;
			try {
				got = pgBackRest.runReading(LIST_TIMEOUT, "repo-get", List.of(path + "/" + file), stdout -> {
					try (InputStream in = decompressed(extension, stdout)) {
						return pages(in, switchAt, segmentSize);
					}
				}, "--log-level-console=off", "--log-level-stderr=error");
			}
			catch (IOException ex) {
				problems.add(HEADER_UNREADABLE.formatted(wal.id(), name, OneLine.of(String.valueOf(ex.getMessage()))));
				continue;
			}
			if (got.result().exitCode() != 0) {
				problems.add(HEADER_UNREADABLE.formatted(wal.id(), name, got.result().timedOut()
						? PhysicalBackups.TIMED_OUT.formatted("repo-get", LIST_TIMEOUT.toHours()) : got.result().failure()));
				continue;
			}
			String wrong = headerProblem(name, got.read().first(), line, segmentSize, wal.systemId());
			if (wrong == null && got.read().afterSwitch() != null) {
				wrong = afterSwitchProblem(got.read().afterSwitch(), segment * segmentSize + got.read().afterSwitchAt(),
						timeline);
			}
			if (wrong != null) {
				problems.add(NOT_ITS_WAL.formatted(wal.id(), name, wrong));
			}
		}
		if (!unknown.isEmpty()) {
			notes.add(NOT_DECOMPRESSED.formatted(wal.id(), String.join(", ", unknown)));
		}
	}

	/** A segment's bytes, decompressed by its extension: lz4 is LZ4's frame format, as pgBackRest writes it. */
	static InputStream decompressed(String extension, InputStream in) throws IOException {
		return switch (extension) {
			case "gz" -> new GZIPInputStream(in);
			case "zst" -> new ZstdInputStream(in);
			case "lz4" -> new FramedLZ4CompressorInputStream(in);
			case "bz2" -> new BZip2CompressorInputStream(in);
			default -> in;
		};
	}

	/**
	 * What is read of a segment: its first page header, and, in a segment a timeline begins in, the header of the
	 * first page after the switch point ({@code afterSwitch}, at {@code afterSwitchAt} in the segment; null when not
	 * read).
	 */
	record Pages(byte[] first, byte[] afterSwitch, long afterSwitchAt) {
	}

	/**
	 * A segment's first page header, and when {@code switchAt} is the offset of a switch point in it (else -1), the
	 * header of the first page that begins at or after it: PostgreSQL keeps the page that holds the switch point as
	 * the parent timeline wrote it, and writes each page after with the new timeline. Pages in the next segment are
	 * not looked for. Reads up to that page's header only.
	 */
	static Pages pages(InputStream in, long switchAt, long segmentSize) throws IOException {
		byte[] first = in.readNBytes(HEADER_BYTES);
		if (switchAt < 0 || first.length < HEADER_BYTES) {
			return new Pages(first, null, -1);
		}
		long pageSize = Integer.toUnsignedLong(ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getInt(36));
		if (pageSize < 1024 || pageSize > 65536 || Long.bitCount(pageSize) != 1) {
			// not a page size PostgreSQL builds with: the first page's own check says what is wrong
			return new Pages(first, null, -1);
		}
		long at = (switchAt + pageSize - 1) / pageSize * pageSize;
		if (at == 0) {
			return new Pages(first, first, 0);
		}
		if (at >= segmentSize) {
			return new Pages(first, null, -1);
		}
		try {
			in.skipNBytes(at - HEADER_BYTES);
		}
		catch (EOFException ex) {
			return new Pages(first, new byte[0], at);
		}
		return new Pages(first, in.readNBytes(SHORT_HEADER_BYTES), at);
	}

	/**
	 * What is wrong with the header ({@code after}) of the first page after a timeline's switch point, at
	 * {@code pageAddress}, null when nothing: it must be at that address and of that timeline. A complete segment
	 * of the parent timeline renamed to the new one's (its first page, of the parent, allowed) has the parent's
	 * there. A page zeroed, header and all, is what PostgreSQL leaves after a segment switch: nothing to tell.
	 */
	static String afterSwitchProblem(byte[] after, long pageAddress, long timeline) {
		String page = "%X/%X".formatted(pageAddress >>> 32, pageAddress & 0xFFFF_FFFFL);
		if (after.length < SHORT_HEADER_BYTES) {
			return PAGE_AFTER_SWITCH_MISSING.formatted(page);
		}
		ByteBuffer header = ByteBuffer.wrap(after).order(ByteOrder.LITTLE_ENDIAN);
		if (header.getLong(0) == 0 && header.getLong(8) == 0 && header.getLong(16) == 0) {
			return null;
		}
		long address = header.getLong(8);
		if (address != pageAddress) {
			return PAGE_AFTER_SWITCH_AT.formatted(page, address >>> 32, address & 0xFFFF_FFFFL);
		}
		long pageTimeline = Integer.toUnsignedLong(header.getInt(4));
		if (pageTimeline != timeline) {
			return PAGE_AFTER_SWITCH_TIMELINE.formatted(page, pageTimeline);
		}
		return null;
	}

	/**
	 * What is wrong with a segment's first page header ({@code first}, its first bytes) for the segment its name
	 * says, null when nothing: it must be a long header whose page address is the segment's start, of the archive's
	 * database system ({@code systemId}; 0: not known, not checked) and segment size, and of the name's timeline; the
	 * first segment of a timeline on the line ({@code starts}) may also begin with its ancestors' WAL, which
	 * PostgreSQL copies into it up to the switch point.
	 */
	static String headerProblem(String name, byte[] first, List<TimelineStart> starts, long segmentSize,
			long systemId) {
		if (first.length < HEADER_BYTES) {
			return PAGE_NOT_LONG;
		}
		ByteBuffer header = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN);
		if ((header.getShort(2) & XLP_LONG_HEADER) == 0) {
			return PAGE_NOT_LONG;
		}
		long perLog = 0x1_0000_0000L / segmentSize;
		long segment = number(name, perLog);
		long pageAddress = header.getLong(8);
		if (pageAddress != segment * segmentSize) {
			return PAGE_AT.formatted(pageAddress >>> 32, pageAddress & 0xFFFF_FFFFL);
		}
		long timeline = Long.parseLong(name.substring(0, 8), 16);
		long pageTimeline = Integer.toUnsignedLong(header.getInt(4));
		boolean switchSegment = starts.stream()
			.skip(1)
			.anyMatch(start -> start.timeline() == timeline && start.segment() == segment);
		boolean ancestor = switchSegment
				&& starts.stream().anyMatch(start -> start.timeline() == pageTimeline && pageTimeline < timeline);
		if (pageTimeline != timeline && !ancestor) {
			return PAGE_TIMELINE.formatted(pageTimeline);
		}
		long pageSystem = header.getLong(24);
		if (systemId != 0 && pageSystem != systemId) {
			return PAGE_SYSTEM.formatted(pageSystem, systemId);
		}
		long pageSegmentSize = Integer.toUnsignedLong(header.getInt(32));
		if (pageSegmentSize != segmentSize) {
			return PAGE_SIZE.formatted(pageSegmentSize, segmentSize);
		}
		return null;
	}

	/** What {@link #check} found: its problems, and the newest segment it checked to (null: none). */
	record Checked(List<String> problems, String newest) {
	}

	/**
	 * The WAL of one archive ({@code segments}, the names present) along a timeline's line ({@code starts}, from its
	 * history): every segment from the full set's WAL start to the newest segment on that line (segments of other
	 * timelines, such as a stray one's, neither end nor hide it); every set's own WAL, start to stop on its timeline,
	 * without which it cannot be made consistent; and, when {@code lastArchived} is given (the live server's
	 * pg_stat_archiver, read before the listing), the segment the server says it archived last: a repository that
	 * lacks it lost WAL past its newest segment, which no gap check between present segments sees.
	 */
	static Checked check(String archiveId, Set<String> segments, List<TimelineStart> starts, From from,
			List<PhysicalBackups.BackupSet> sets, String lastArchived, long segmentSize) {
		long perLog = 0x1_0000_0000L / segmentSize;
		List<String> problems = new ArrayList<>();
		String newest = segments.stream()
			.filter(name -> Long.parseLong(name.substring(0, 8), 16) == timelineOf(number(name, perLog), starts))
			.max(Comparator.comparingLong(name -> number(name, perLog)))
			.orElse(null);
		long timeline = starts.get(starts.size() - 1).timeline();
		if (newest == null || number(newest, perLog) < number(from.segment(), perLog)) {
			problems.add(NO_WAL.formatted(archiveId, from.segment(), from.what()));
		}
		else {
			problems.addAll(gaps(archiveId, segments, from.segment(), newest, starts, segmentSize));
		}
		for (PhysicalBackups.BackupSet set : sets) {
			List<String> missing = gaps(archiveId, segments, set.walStart(), set.walStop(),
					List.of(new TimelineStart(Long.parseLong(set.walStart().substring(0, 8), 16), 0)), segmentSize);
			if (!missing.isEmpty()) {
				problems.add(SET_WAL_MISSING.formatted(archiveId, set.label(), set.walStart(), set.walStop(),
						missing.stream().map(problem -> problem.substring(problem.indexOf(": ") + 2))
							.collect(Collectors.joining(", "))));
			}
		}
		Matcher archived = lastArchived == null ? null : ARCHIVED.matcher(lastArchived);
		if (archived != null && archived.matches() && !segments.contains(archived.group(1))) {
			problems.add(TAIL_MISSING.formatted(archiveId, lastArchived, timeline, newest == null ? "none" : newest));
		}
		return new Checked(problems, newest);
	}

	/** The timeline that holds segment number {@code segment} along a line of timelines ({@code starts}, oldest first). */
	private static long timelineOf(long segment, List<TimelineStart> starts) {
		long timeline = starts.get(0).timeline();
		for (TimelineStart start : starts) {
			if (start.segment() <= segment) {
				timeline = start.timeline();
			}
		}
		return timeline;
	}

	/** The names under a repository path, relative to it (pgbackrest repo-ls --recurse). */
	private Set<String> list(String path) throws IOException, InterruptedException {
		PgBackRest.Result listed = this.pgBackRest.run(LIST_TIMEOUT, "repo-ls", List.of(path), "--recurse",
				"--output=json", "--log-level-console=error", "--log-level-stderr=off");
		if (listed.exitCode() != 0) {
			throw new PgBackRest.Failure(PhysicalBackups.FAILED.formatted("repo-ls " + path, listed.failure()));
		}
		try {
			Set<String> names = new TreeSet<>();
			JSON.readTree(listed.stdout()).propertyNames().forEach(names::add);
			return names;
		}
		catch (JacksonException ex) {
			throw new PgBackRest.Failure(PhysicalBackups.FAILED.formatted("repo-ls " + path, "its output is not JSON"));
		}
	}

	/**
	 * Where each timeline of {@code timeline}'s history begins, oldest first: timeline 1 at 0, each next one at the
	 * segment of its parent's switch point (PostgreSQL names that segment, and those after, with the new timeline).
	 * A history file's lines: parent timeline, switch point (an LSN, hex/hex), reason.
	 */
	static List<TimelineStart> timelines(String history, long timeline, long segmentSize) {
		List<TimelineStart> starts = new ArrayList<>();
		long begins = -1;
		for (String line : history.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList()) {
			String[] fields = line.split("\\s+");
			long parent = Long.parseLong(fields[0]);
			String[] lsn = fields[1].split("/");
			starts.add(begins < 0 ? new TimelineStart(parent, 0) : new TimelineStart(parent, begins / segmentSize, begins));
			begins = (Long.parseLong(lsn[0], 16) << 32) | Long.parseLong(lsn[1], 16);
		}
		starts.add(begins < 0 ? new TimelineStart(timeline, 0)
				: new TimelineStart(timeline, begins / segmentSize, begins));
		return starts;
	}

	/**
	 * The runs of segments missing from {@code from} to {@code to} (segment names), each segment expected on the
	 * timeline that holds it ({@code starts}, oldest first): one problem for each run, naming its first and last.
	 * Found between the segments present, in their order, not by counting through the range: a planted name far
	 * ahead (00000001FFFFFFFF000000FF) or a set's far WAL stop must not make this count to it.
	 */
	static List<String> gaps(String archiveId, Set<String> segments, String from, String to, List<TimelineStart> starts,
			long segmentSize) {
		long perLog = 0x1_0000_0000L / segmentSize;
		long first = number(from, perLog);
		long last = number(to, perLog);
		// the numbers in range whose segment is present on the timeline that holds it
		TreeSet<Long> present = new TreeSet<>();
		for (String name : segments) {
			long segment = number(name, perLog);
			if (segment >= first && segment <= last && name.equals(name(timelineOf(segment, starts), segment, perLog))) {
				present.add(segment);
			}
		}
		List<String> problems = new ArrayList<>();
		long next = first;
		for (long segment : present) {
			if (segment > next) {
				problems.add(run(archiveId, next, segment - 1, starts, perLog));
			}
			next = segment + 1;
		}
		if (next <= last) {
			problems.add(run(archiveId, next, last, starts, perLog));
		}
		return problems;
	}

	/** The problem of the segments numbered {@code first} to {@code last} missing. */
	private static String run(String archiveId, long first, long last, List<TimelineStart> starts, long perLog) {
		String runFirst = name(timelineOf(first, starts), first, perLog);
		return first == last ? MISSING_SEGMENT.formatted(archiveId, runFirst)
				: GAP.formatted(archiveId, last - first + 1, runFirst, name(timelineOf(last, starts), last, perLog));
	}

	/** The name of segment number {@code segment} on {@code timeline}. */
	private static String name(long timeline, long segment, long perLog) {
		return "%08X%08X%08X".formatted(timeline, segment / perLog, segment % perLog);
	}

	/** A segment name's number: its log id times the segments per log id, plus its segment id. */
	private static long number(String name, long perLog) {
		return Long.parseLong(name.substring(8, 16), 16) * perLog + Long.parseLong(name.substring(16, 24), 16);
	}

	private long record(Instant verifiedAt, int sets, String walFrom, String walTo, List<String> problems) {
		// in a transaction of its own: backup-verify's step rolls its transaction back when the verify failed, and
		// a failed verify must stay recorded
		return this.ownTransaction.execute(status -> this.jdbc.queryForObject("""
				INSERT INTO etl.physical_verify (verified_at, stanza, sets, wal_from, wal_to, passed, problems)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""", Long.class, Timestamp.from(verifiedAt), stanza(), sets,
				walFrom, walTo, problems.isEmpty(), String.join("\n", problems)));
	}

}
