package dev.pgbatch.backup;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.pgbatch.core.OneLine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.stereotype.Component;

/**
 * Physical backups of the cluster of ETL_DB_URL through pgBackRest (backup type=full|diff|incr): compression,
 * encryption and process-max are pgBackRest's own, from its configuration. What a backup made is read back from
 * `pgbackrest info --output=json`, the one account of the repository; retention is pgBackRest's expire, run by the
 * job with its own count of full backups (so after-backup auto-expiry is off: the job's count and dry-run decide).
 */
@Component
class PhysicalBackups {

	private static final Logger log = LoggerFactory.getLogger(PhysicalBackups.class);

	static final String FAILED = "pgbackrest %s failed: %s";

	static final String TIMED_OUT = "pgbackrest %s did not end within %d h";

	static final String NOT_USABLE = "pgbackrest info: stanza %s is not usable: %s";

	static final String NO_NEW_SET = "pgbackrest backup ended, but pgbackrest info lists no backup set it made";

	static final String KEPT_FOR_VERIFIED = "kept %d full backups, more than ETL_PGBACKREST_RETENTION_FULL (%d): full"
			+ " backup %s is the newest a passed backup verify --physical or restore drill covered, and retention never"
			+ " removes it";

	static final String COVERED_EXPIRED = "pgbackrest expire removed full backup %s, the newest a passed backup verify"
			+ " --physical or restore drill covered: no set left is known to restore; run backup verify --physical";

	static final String HELD_EXPIRED = "pgbackrest expire removed backup set %s, which the kept restore into %s on %s"
			+ " holds: that restore cannot resume; restore again, or release it";

	static final String NOT_PGBACKRESTS = "pgbackrest info lists %s '%s', which is not of pgBackRest's shape (%s): not"
			+ " used, as a repository path, an option or a line of a report";

	/** A set's label: its full's date and time, then, for a diff or incr, its own. */
	static final Pattern LABEL = Pattern.compile("\\d{8}-\\d{6}F(_\\d{8}-\\d{6}[DI])?");

	/** A WAL segment's name: timeline, log id, segment. */
	static final Pattern WAL_NAME = Pattern.compile("[0-9A-F]{24}");

	/** A WAL archive's id: PostgreSQL's major version, then pgBackRest's id of the database system. */
	static final Pattern ARCHIVE_ID = Pattern.compile("\\d+(\\.\\d+)?-\\d+");

	static final String STILL_RUNNING = "a pgBackRest backup of stanza %s still runs after %d s (pgbackrest info: its"
			+ " backup lock is held; ETL_PGBACKREST_LOCK_WAIT): let it end, then run or restart this again";

	/** The annotation each backup set gets: the run that asked for it, so that its restart finds it. */
	static final String RUN_ANNOTATION = "pgbatch-run";

	/** pgBackRest's exit code when a lock it needs is held by another of its processes. */
	static final int LOCK_ACQUIRE_ERROR = 50;

	/** How often the lock of a running backup is looked at while it is waited for. */
	private static final Duration LOCK_POLL = Duration.ofSeconds(1);

	/** A backup of a large cluster takes hours; this bounds only one that hangs. */
	private static final Duration BACKUP_TIMEOUT = Duration.ofHours(24);

	/** info and expire read and delete in the repository only. */
	private static final Duration REPOSITORY_TIMEOUT = Duration.ofHours(1);

	/** info's messages may hold control characters raw: what a file decrypted with a wrong passphrase reads as. */
	private static final JsonMapper JSON = JsonMapper.builder()
		.enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
		.build();

	/**
	 * One backup set as pgbackrest info lists it: {@code prior} is the set it builds on (null for a full), sizes in
	 * bytes (the database's, what this set copied, and both as stored in the repository), its WAL range, the run
	 * that made it (its annotation), when it started and ended, pgBackRest's id of the database system it is of
	 * (its WAL is in the archive of that id) and that system's PostgreSQL major version (0: not listed).
	 */
	record BackupSet(String label, String type, String prior, long databaseBytes, long deltaBytes,
			long repositoryBytes, long repositoryDeltaBytes, String walStart, String walStop, String run,
			Instant started, Instant stopped, int database, int major) {

		/** The full backup this set depends on (itself for a full): pgBackRest's labels start with it. */
		String full() {
			int underscore = this.label.indexOf('_');
			return underscore < 0 ? this.label : this.label.substring(0, underscore);
		}

	}

	/**
	 * The stanza's sets, oldest first, whether a backup of it runs now (pgBackRest's backup lock is held), its WAL
	 * archives, and the database id of its current database system (the newest: one more after each stanza-upgrade;
	 * 0 when info lists none).
	 */
	private record Repository(List<BackupSet> sets, boolean backupRunning, String walMin, String walMax,
			List<WalArchive> archives, int database) {
	}

	/**
	 * One WAL archive of the stanza: its id (archive/STANZA/ID in the repository: the major version and pgBackRest's
	 * id of the database system, one more after each upgrade), that database id, its first and last segment, and
	 * PostgreSQL's system identifier of that database system (0 when info does not say).
	 */
	record WalArchive(String id, int database, String min, String max, long systemId) {
	}

	/**
	 * What retention removed (or, dry, would remove), how many sets are kept, how many full backups it kept, the
	 * newest full a passed check covered when the configured count alone would not keep it (null: none, or kept by
	 * that count), which it keeps whatever ETL_PGBACKREST_RETENTION_FULL says, and what it says of each kept restore
	 * (its full kept, or gone, so that it cannot resume).
	 */
	record Expired(List<String> labels, int kept, long keptFulls, String verifiedFull, List<String> held,
			boolean everyDiff) {
	}

	/**
	 * pgBackRest's largest repo1-retention-diff: given while a kept restore holds a diff or incr set, so that the
	 * configuration's diff retention (which counts fulls and diffs) expires no diff that set is, or builds on.
	 */
	static final long EVERY_DIFF = 9_999_999;

	/** What the summary says when diff retention was pinned for a held diff or incr. */
	static final String EVERY_DIFF_KEPT = "every diff set of a kept full kept (--repo1-retention-diff=" + EVERY_DIFF
			+ "): a kept restore holds a diff or incr set";

	/**
	 * What passed checks covered, as the runner recorded them: the start of the stanza's newest backup verify
	 * --physical that passed (null: none), which read back every set that had ended before it, and the full sets of
	 * the restore drills that passed (a drill of a diff or incr restores its full too).
	 */
	record Covered(Instant lastPassedVerify, Set<String> drilledFulls) {
	}

	private final PgBackRest pgBackRest;

	private final long keepFull;

	private final Duration lockWait;

	PhysicalBackups(PgBackRest pgBackRest, PgBackRestProperties properties) {
		this.pgBackRest = pgBackRest;
		this.keepFull = properties.retentionFull();
		this.lockWait = properties.lockWait();
	}

	/** What to warn of before a backup ({@link PgBackRest#warnings()}). */
	List<String> warnings() {
		return this.pgBackRest.warnings();
	}

	long keepFull() {
		return this.keepFull;
	}

	/**
	 * The set of {@code run} (a job run, the same across its restarts): the one an earlier execution of it made
	 * (killed after pgBackRest started, which finishes the set on its own), else a new backup of {@code type}
	 * (full, diff or incr). A backup of the stanza that runs now (that killed execution's pgbackrest, or another
	 * runner's) is waited for first, at most ETL_PGBACKREST_LOCK_WAIT: it would fail on pgBackRest's lock, and a
	 * diff or incr should build on what it makes.
	 */
	BackupSet backup(String type, String run) throws IOException, InterruptedException {
		LockWait wait = new LockWait();
		while (true) {
			List<BackupSet> before = awaitNoBackupRunning(wait.deadline);
			Optional<BackupSet> earlier = before.stream()
				.filter(set -> run.equals(set.run()))
				.reduce((older, newer) -> newer);
			if (earlier.isPresent()) {
				log.info("backup set {} was made for this run by an earlier execution of it: reported, no new backup",
						earlier.get().label());
				return earlier.get();
			}
			PgBackRest.Result result = attempt(BACKUP_TIMEOUT, "backup", "--type=" + type, "--no-expire-auto",
					"--repo1-retention-full=" + this.keepFull, "--annotation=" + RUN_ANNOTATION + "=" + run);
			// info can miss a lock just taken (pgBackRest writes the lock file's content after it takes the lock):
			// the backup then fails on the lock, and is waited for like one info saw
			if (wait.heldFor("backup", result)) {
				continue;
			}
			checked("backup", BACKUP_TIMEOUT, result);
			// this run's, by its annotation: not one another runner made meanwhile
			Set<String> labels = labels(before);
			List<BackupSet> made = info().stream()
				.filter(set -> !labels.contains(set.label()) && run.equals(set.run()))
				.toList();
			if (made.isEmpty()) {
				throw new IllegalStateException(NO_NEW_SET);
			}
			return made.get(made.size() - 1);
		}
	}

	/** The stanza's sets once no backup of it runs, waiting for one that does until {@code deadline}. */
	private List<BackupSet> awaitNoBackupRunning(Instant deadline) throws IOException, InterruptedException {
		Repository repository = repository();
		if (repository.backupRunning()) {
			log.info("a pgBackRest backup of stanza {} is running: waiting up to {} s for it to end",
					this.pgBackRest.stanza(), this.lockWait.toSeconds());
		}
		while (repository.backupRunning()) {
			if (!Instant.now().isBefore(deadline)) {
				throw new IllegalStateException(STILL_RUNNING.formatted(this.pgBackRest.stanza(), this.lockWait.toSeconds()));
			}
			Thread.sleep(LOCK_POLL.toMillis());
			repository = repository();
		}
		return repository.sets();
	}

	/**
	 * Keeps the newest {@link #keepFull()} full backups and the sets that depend on them, and more when the newest
	 * full a passed check covered ({@code covered}) is older: a full that pgbackrest made without an error may still
	 * be unrestorable, and the only one known to restore must outlive it (DESIGN.md: retention never removes the
	 * newest verified backup). pgBackRest's expire removes the older ones and the WAL only they needed, with its
	 * retention options given in full (not left to its configuration). One that meets the stanza's lock is counted
	 * and run again once it is free, within ETL_PGBACKREST_LOCK_WAIT; one after which the covered full is no longer
	 * listed fails naming it. A dry run lists them and removes nothing. Each expire run is held apart from drills and
	 * restores by {@code apart}, only while it runs: a drill waiting for it waits seconds, not for the stanza's lock.
	 * Null when {@code apart} found one running: nothing was expired, and the next retention does it. The full of
	 * each kept restore's set ({@code holds}) is kept the same way, by a count that reaches it: pgBackRest's expire
	 * then keeps it, the sets after it and the WAL from it on, which that restore's replay fetches when it is started
	 * again.
	 */
	Expired expire(boolean dryRun, Covered covered, Supplier<List<KeptRestores.Hold>> holds, Apart apart)
			throws IOException, InterruptedException {
		LockWait wait = new LockWait();
		while (true) {
			if (dryRun) {
				List<BackupSet> sets = info();
				return kept(planned(sets, newestCovered(sets, covered), holds.get()));
			}
			Repository repository;
			List<KeptRestores.Hold> held = null;
			String verified = null;
			Expired planned = null;
			PgBackRest.Result result = null;
			try (Apart.Release apartNow = apart.hold()) {
				if (apartNow == null) {
					return null;
				}
				// the sets and the holds both read here, just before the expire: a restore records its hold under the
				// same lock, and a full that ended since an earlier read would shift every rank the count is of
				repository = repository();
				if (!repository.backupRunning()) {
					verified = newestCovered(repository.sets(), covered);
					held = holds.get();
					planned = planned(repository.sets(), verified, held);
					// the count and kind pinned, whatever the operator's pgBackRest configuration says: fulls by
					// count, and the WAL of each kept full with it
					List<String> options = new ArrayList<>(List.of("--repo1-retention-full-type=count",
							"--repo1-retention-full=" + planned.keptFulls(), "--repo1-retention-archive-type=full",
							"--repo1-retention-archive=" + planned.keptFulls()));
					if (planned.everyDiff()) {
						options.add("--repo1-retention-diff=" + EVERY_DIFF);
					}
					result = attempt(REPOSITORY_TIMEOUT, "expire", options.toArray(String[]::new));
				}
			}
			// released before any wait for a backup, which may last ETL_PGBACKREST_LOCK_WAIT
			if (result == null ? wait.waited("expire") : wait.heldFor("expire", result)) {
				continue;
			}
			checked("expire", REPOSITORY_TIMEOUT, result);
			List<BackupSet> sets = repository.sets();
			List<BackupSet> after = info();
			Set<String> left = labels(after);
			if (verified != null && !left.contains(verified)) {
				throw new IllegalStateException(COVERED_EXPIRED.formatted(verified));
			}
			Set<String> listed = labels(sets);
			for (KeptRestores.Hold hold : held) {
				if (listed.contains(hold.set()) && !left.contains(hold.set())) {
					throw new IllegalStateException(HELD_EXPIRED.formatted(hold.set(), OneLine.of(hold.dataDir()),
							OneLine.of(hold.host())));
				}
			}
			return kept(new Expired(sets.stream().map(BackupSet::label).filter(label -> !left.contains(label)).toList(),
					after.size(), planned.keptFulls(), planned.verifiedFull(), planned.held(), planned.everyDiff()));
		}
	}

	/**
	 * What an expire of {@code sets} with this count would remove and keep: the full count reaches the newest covered
	 * full ({@code verified}) and the full of each hold's set that is still listed; diff retention is pinned to keep
	 * every diff while one of those sets is a diff or incr (else the configuration's repo1-retention-diff applies,
	 * which this does not know).
	 */
	private Expired planned(List<BackupSet> sets, String verified, List<KeptRestores.Hold> holds) {
		List<String> fulls = sets.stream().filter(set -> set.type().equals("full")).map(BackupSet::label).toList();
		long keep = verified == null ? this.keepFull : Math.max(this.keepFull, fulls.size() - fulls.indexOf(verified));
		List<KeptRestores.Hold> holding = holds.stream().filter(hold -> fulls.contains(hold.full())).toList();
		for (KeptRestores.Hold hold : holding) {
			keep = Math.max(keep, fulls.size() - fulls.indexOf(hold.full()));
		}
		// named only when it raised the count: a hold may raise it alone
		String keptForVerified = verified != null && fulls.size() - fulls.indexOf(verified) > this.keepFull ? verified
				: null;
		Set<String> keptFulls = new LinkedHashSet<>(fulls.subList((int) Math.max(0, fulls.size() - keep), fulls.size()));
		List<String> expiring = sets.stream()
			.filter(set -> !keptFulls.contains(set.full()))
			.map(BackupSet::label)
			.toList();
		return new Expired(expiring, sets.size() - expiring.size(), keep, keptForVerified,
				holds.stream().map(hold -> hold.said(fulls)).toList(),
				holding.stream().anyMatch(hold -> !hold.set().equals(hold.full())));
	}

	/** What keeps drills and restores off the sets while one expire runs ({@link RestoreLock}). */
	@FunctionalInterface
	interface Apart {

		/** Its release, or null when a drill or restore runs now. */
		Release hold();

		@FunctionalInterface
		interface Release extends AutoCloseable {

			@Override
			void close();

		}

	}

	private Expired kept(Expired expired) {
		if (expired.verifiedFull() != null) {
			log.info(KEPT_FOR_VERIFIED.formatted(expired.keptFulls(), this.keepFull, expired.verifiedFull()));
		}
		expired.held().forEach(log::warn);
		if (expired.everyDiff()) {
			log.info(EVERY_DIFF_KEPT);
		}
		return expired;
	}

	/**
	 * The newest full of {@code sets} that {@code covered} covers: one a passed drill restored, or one that ended
	 * before the newest passed verify began (info's stop time is in whole seconds: one ended in the second that verify
	 * began in does not count). Null when none.
	 */
	static String newestCovered(List<BackupSet> sets, Covered covered) {
		Instant verify = covered.lastPassedVerify() == null ? null
				: covered.lastPassedVerify().truncatedTo(ChronoUnit.SECONDS);
		return sets.stream()
			.filter(set -> set.type().equals("full"))
			.filter(set -> covered.drilledFulls().contains(set.label())
					|| (verify != null && set.stopped().isBefore(verify)))
			.map(BackupSet::label)
			.reduce((older, newer) -> newer)
			.orElse(null);
	}

	/** Whether a pgBackRest backup of the stanza runs now (its backup lock is held, as info shows it). */
	boolean backupRunning() throws IOException, InterruptedException {
		return repository().backupRunning();
	}

	String stanza() {
		return this.pgBackRest.stanza();
	}

	/** The stanza's backup sets, oldest first. */
	List<BackupSet> info() throws IOException, InterruptedException {
		return repository().sets();
	}

	/**
	 * The stanza's sets, oldest first, the first and last WAL segment of its archive (null: none), its archives one
	 * by one, and the database id of its current database system (see {@link Repository}).
	 */
	record Archive(List<BackupSet> sets, String walMin, String walMax, List<WalArchive> archives, int database) {
	}

	Archive archive() throws IOException, InterruptedException {
		return archive(run(REPOSITORY_TIMEOUT, "info", "--output=json").stdout());
	}

	/** The archive as {@code pgbackrest info --output=json} gives it. */
	static Archive archive(String info) {
		Repository repository = repository(info);
		return new Archive(repository.sets(), repository.walMin(), repository.walMax(), repository.archives(),
				repository.database());
	}

	private Repository repository() throws IOException, InterruptedException {
		return repository(run(REPOSITORY_TIMEOUT, "info", "--output=json").stdout());
	}

	private static Repository repository(String json) {
		List<BackupSet> sets = new ArrayList<>();
		boolean backupRunning = false;
		String walMin = null;
		String walMax = null;
		List<WalArchive> archives = new ArrayList<>();
		int current = 0;
		try {
			for (JsonNode stanza : JSON.readTree(json)) {
				usable(stanza);
				backupRunning |= stanza.path("status").path("lock").path("backup").path("held").asBoolean(false);
				Map<Integer, Long> systemIds = new HashMap<>();
				Map<Integer, Integer> majors = new HashMap<>();
				for (JsonNode db : stanza.path("db")) {
					systemIds.put(db.path("id").asInt(), db.path("system-id").asLong());
					String version = db.path("version").asString("");
					majors.put(db.path("id").asInt(), version.matches("[0-9]{1,3}") ? Integer.parseInt(version) : 0);
					current = Math.max(current, db.path("id").asInt());
				}
				// one entry per database system the stanza has archived (a new one after a major upgrade)
				for (JsonNode archive : stanza.path("archive")) {
					String min = shaped("a WAL segment", WAL_NAME, archive.path("min").asString(null));
					String max = shaped("a WAL segment", WAL_NAME, archive.path("max").asString(null));
					walMin = walMin == null || (min != null && min.compareTo(walMin) < 0) ? min : walMin;
					walMax = walMax == null || (max != null && max.compareTo(walMax) > 0) ? max : walMax;
					int database = archive.path("database").path("id").asInt();
					archives.add(new WalArchive(shaped("a WAL archive id", ARCHIVE_ID, archive.path("id").asString()),
							database, min, max, systemIds.getOrDefault(database, 0L)));
				}
				for (JsonNode set : stanza.path("backup")) {
					JsonNode info = set.path("info");
					JsonNode run = set.path("annotation").path(RUN_ANNOTATION);
					sets.add(new BackupSet(shaped("a backup set label", LABEL, set.path("label").asString()),
							set.path("type").asString(),
							set.path("prior").isString()
									? shaped("a backup set label", LABEL, set.path("prior").asString()) : null,
							info.path("size").asLong(), info.path("delta").asLong(), info.path("repository").path("size").asLong(),
							info.path("repository").path("delta").asLong(), walBound(set.path("archive").path("start").asString()),
							walBound(set.path("archive").path("stop").asString()), run.isString() ? run.asString() : null,
							Instant.ofEpochSecond(set.path("timestamp").path("start").asLong()),
							Instant.ofEpochSecond(set.path("timestamp").path("stop").asLong()),
							set.path("database").path("id").asInt(),
							majors.getOrDefault(set.path("database").path("id").asInt(), 0)));
				}
			}
		}
		catch (JacksonException ex) {
			throw new IllegalStateException(FAILED.formatted("info", "its output is not JSON"), ex);
		}
		return new Repository(sets, backupRunning, walMin, walMax, archives, current);
	}

	/**
	 * {@code value} when it has pgBackRest's {@code shape} (or is null: not listed), else a failure naming it: names
	 * from the repository go into repository paths (a label of ../ reaches another stanza's), into --set= and into
	 * problems stored one a line; one that is not pgBackRest's is not trusted anywhere.
	 */
	private static String shaped(String what, Pattern shape, String value) {
		if (value == null || shape.matcher(value).matches()) {
			return value;
		}
		throw new PgBackRest.Failure(NOT_PGBACKRESTS.formatted(what, OneLine.of(value), shape.pattern()));
	}

	/** A set's WAL start or stop: a segment's name, or empty when info does not say (a stand-in's listing). */
	private static String walBound(String value) {
		return value.isEmpty() ? value : shaped("a WAL segment", WAL_NAME, value);
	}

	/**
	 * pgbackrest info exits 0 whatever it found: a stanza it could not read (its info files missing, or unreadable:
	 * a wrong cipher passphrase) would look empty. Only "ok" and "no valid backups" are a repository to go on with;
	 * else the first line of its repository's message, which names the file.
	 */
	private static void usable(JsonNode stanza) {
		int code = stanza.path("status").path("code").asInt(0);
		if (code == 0 || code == 2) {
			return;
		}
		String message = stanza.path("status").path("message").asString("");
		for (JsonNode repo : stanza.path("repo")) {
			if (repo.path("status").path("code").asInt(0) != 0) {
				message = repo.path("status").path("message").asString(message);
			}
		}
		String first = message.lines().findFirst().orElse("").strip();
		throw new PgBackRest.Failure(NOT_USABLE.formatted(stanza.path("name").asString(),
				OneLine.of(first.endsWith(":") ? first.substring(0, first.length() - 1) : first)
						+ PgBackRest.hint(message)));
	}

	private PgBackRest.Result run(Duration timeout, String command, String... options)
			throws IOException, InterruptedException {
		return checked(command, timeout, attempt(timeout, command, options));
	}

	/**
	 * The wait, up to ETL_PGBACKREST_LOCK_WAIT, of a command that takes the stanza's lock (backup, expire) for a
	 * backup that holds it (a killed runner's, still ending, or another runner's).
	 */
	private final class LockWait {

		private final Instant deadline = Instant.now().plus(PhysicalBackups.this.lockWait);

		private boolean said;

		/**
		 * Whether {@code result} failed on the lock: then it has waited a poll interval, and the command is to be run
		 * again; past the deadline it fails saying a backup still runs.
		 */
		boolean heldFor(String command, PgBackRest.Result result) throws InterruptedException {
			return result.exitCode() == LOCK_ACQUIRE_ERROR && waited(command);
		}

		/** Waits a poll interval for a backup that holds the stanza's lock (true), past the deadline fails. */
		boolean waited(String command) throws InterruptedException {
			String stanza = PhysicalBackups.this.pgBackRest.stanza();
			if (!Instant.now().isBefore(this.deadline)) {
				throw new IllegalStateException(
						STILL_RUNNING.formatted(stanza, PhysicalBackups.this.lockWait.toSeconds()));
			}
			if (!this.said) {
				log.info("pgbackrest {}: a backup of stanza {} holds its lock: waiting for it to end", command,
						stanza);
				this.said = true;
			}
			Thread.sleep(LOCK_POLL.toMillis());
			return true;
		}

	}

	/** A run of pgbackrest {@code command}, whatever its exit code. */
	private PgBackRest.Result attempt(Duration timeout, String command, String... options)
			throws IOException, InterruptedException {
		List<String> all = new ArrayList<>(List.of(options));
		// its errors only, on the console; its log file as its configuration says
		all.addAll(List.of("--log-level-console=error", "--log-level-stderr=off"));
		return this.pgBackRest.run(timeout, command, all.toArray(String[]::new));
	}

	private static PgBackRest.Result checked(String command, Duration timeout, PgBackRest.Result result) {
		if (result.timedOut()) {
			throw new PgBackRest.Failure(TIMED_OUT.formatted(command, timeout.toHours()));
		}
		if (result.exitCode() != 0) {
			throw new PgBackRest.Failure(FAILED.formatted(command, result.failure()));
		}
		return result;
	}

	private static Set<String> labels(List<BackupSet> sets) {
		return sets.stream().map(BackupSet::label).collect(Collectors.toSet());
	}

}
