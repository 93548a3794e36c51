package dev.pgbatch.backup;

import java.io.IOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * bin/etl backup list --physical: the stanza's pgBackRest sets, its WAL archive, the span a point-in-time restore can
 * reach (from the oldest set's end to the newest WAL segment the server archived that the repository holds), the last restore drill and the
 * last verify of the repository (backup verify --physical), and the kept restores that hold sets from retention.
 */
@Component
public class PhysicalCatalog {

	/** One set: label, type, the set it builds on (null for a full), start and stop, WAL range and sizes in bytes. */
	public record PhysicalSet(String label, String type, String prior, Instant started, Instant stopped, String walStart,
			String walStop, long databaseBytes, long repositoryBytes) {
	}

	/** The last drill, as etl.restore_drill holds it ({@code counted}: to a point, its row counts compared). */
	public record LastDrill(long id, Instant startedAt, String point, String set, boolean passed, String problems,
			boolean counted) {
	}

	/** The last verify, as etl.physical_verify holds it. */
	public record LastVerify(long id, Instant verifiedAt, boolean passed, String problems) {
	}

	/**
	 * What is there: {@code restorableFrom} and {@code restorableTo} null when there is no set (see
	 * {@link #restorableTo}), {@code lastDrill} and {@code lastVerify} null before the
	 * first.
	 */
	public record Listing(String stanza, List<PhysicalSet> sets, String walMin, String walMax, Instant restorableFrom,
			Instant restorableTo, LastDrill lastDrill, LastVerify lastVerify, List<KeptRestores.Hold> held) {
	}

	/** A WAL file name's segment (a .partial or .backup file's too); a timeline's .history has none. */
	private static final Pattern SEGMENT = Pattern.compile("^[0-9A-F]{24}");

	private final PhysicalBackups physical;

	private final PgBackRest pgBackRest;

	private final JdbcTemplate jdbc;

	private final KeptRestores kept;

	PhysicalCatalog(PhysicalBackups physical, PgBackRest pgBackRest, JdbcTemplate jdbc, KeptRestores kept) {
		this.physical = physical;
		this.pgBackRest = pgBackRest;
		this.jdbc = jdbc;
		this.kept = kept;
	}

	/** What pg_stat_archiver says the server archived last, and when (both null: nothing since its statistics' reset). */
	record LastArchived(String wal, Instant at) {
	}

	public Listing list() throws IOException, InterruptedException {
		// the server's first, then the repository: a segment archived in between is then in the repository's listing
		LastArchived archived = this.jdbc.queryForObject("SELECT last_archived_wal, last_archived_time FROM pg_stat_archiver",
				(rs, row) -> new LastArchived(rs.getString(1),
						rs.getTimestamp(2) == null ? null : rs.getTimestamp(2).toInstant()));
		PhysicalBackups.Archive archive = this.physical.archive();
		List<PhysicalSet> sets = archive.sets()
			.stream()
			.map(set -> new PhysicalSet(set.label(), set.type(), set.prior(), set.started(), set.stopped(), set.walStart(),
					set.walStop(), set.databaseBytes(), set.repositoryBytes()))
			.toList();
		return new Listing(this.pgBackRest.stanza(), sets, archive.walMin(), archive.walMax(),
				sets.isEmpty() ? null : sets.get(0).stopped(), restorableTo(sets, archive.walMax(), archived), lastDrill(),
				lastVerify(), held());
	}

	/**
	 * The newest time a point-in-time restore reaches (null: no set): when the server archived it, if the repository
	 * holds the segment the server says it archived last (its newest segment, pgbackrest info's archive max, is that
	 * one or later), else the newest set's end. The server counts a segment archived by archive_command's exit code
	 * alone: one that pushed it elsewhere, or whose failure was hidden, must not move this on while nothing reaches
	 * the repository. A .history file archived last is a timeline's, holding no WAL: the server's time stands.
	 */
	static Instant restorableTo(List<PhysicalSet> sets, String walMax, LastArchived archived) {
		if (sets.isEmpty()) {
			return null;
		}
		Instant newestSet = sets.stream().map(PhysicalSet::stopped).max(Comparator.naturalOrder()).orElseThrow();
		if (archived.wal() == null || archived.at() == null) {
			return newestSet;
		}
		Matcher segment = SEGMENT.matcher(archived.wal());
		boolean held = !segment.find() || (walMax != null && walMax.compareTo(segment.group()) >= 0);
		return held && archived.at().isAfter(newestSet) ? archived.at() : newestSet;
	}

	/** The last drill, null before the first: from etl.restore_drill alone, without pgBackRest. */
	public LastDrill lastDrill() {
		return lastDrill(false);
	}

	/**
	 * The last drill to a restore point (its row counts compared), null before the first: what the drill gauges
	 * read, as a drill to a time (pg_amcheck only) that passes shows less than a point's.
	 */
	public LastDrill lastCountedDrill() {
		return lastDrill(true);
	}

	/**
	 * Whether the drills pass, as pgbatch_drill_last_passed says: the last drill to a restore point passed, and no
	 * drill of either kind failed after it; a failed drill to a time (WAL missing up to it, a restore that broke) is
	 * one an operator must see too, while one that passes does not hide a failed drill to a point, which shows less.
	 * Null when not known: no drill to a point yet and none failed.
	 */
	public Boolean drillsPassed() {
		LastDrill counted = lastCountedDrill();
		Boolean failedSince = this.jdbc.queryForObject("""
				SELECT EXISTS (SELECT FROM etl.restore_drill
				  WHERE NOT passed AND (started_at, id) > (coalesce(?::timestamptz, '-infinity'), coalesce(?::bigint, 0)))""",
				Boolean.class, counted == null ? null : Timestamp.from(counted.startedAt()),
				counted == null ? null : counted.id());
		if (Boolean.TRUE.equals(failedSince)) {
			return false;
		}
		return counted == null ? null : counted.passed();
	}

	private LastDrill lastDrill(boolean countedOnly) {
		List<LastDrill> drills = this.jdbc.query("""
				SELECT id, started_at, target, backup_label, passed, problems, counted FROM etl.restore_drill
				WHERE counted OR NOT ? ORDER BY started_at DESC, id DESC LIMIT 1""",
				(rs, row) -> new LastDrill(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4),
						rs.getBoolean(5), rs.getString(6), rs.getBoolean(7)),
				countedOnly);
		return drills.isEmpty() ? null : drills.get(0);
	}

	/**
	 * What passed checks covered, for retention (see {@link PhysicalBackups.Covered}): the stanza's newest passed
	 * verify, and the full sets of passed drills (etl.restore_drill does not say the stanza: a label of another
	 * stanza's matches no set of this one).
	 */
	PhysicalBackups.Covered covered() {
		Timestamp verified = this.jdbc.queryForObject(
				"SELECT max(verified_at) FROM etl.physical_verify WHERE passed AND stanza = ?", Timestamp.class,
				this.pgBackRest.stanza());
		List<String> drilled = this.jdbc.queryForList("""
				SELECT DISTINCT split_part(backup_label, '_', 1) FROM etl.restore_drill
				WHERE passed AND backup_label IS NOT NULL""", String.class);
		return new PhysicalBackups.Covered(verified == null ? null : verified.toInstant(), Set.copyOf(drilled));
	}

	/** The stanza's kept restores, oldest first: retention keeps their sets (see {@link KeptRestores}). */
	List<KeptRestores.Hold> held() {
		return this.kept.held(this.pgBackRest.stanza());
	}

	/** The stanza's last backup verify --physical, null before the first. */
	private LastVerify lastVerify() {
		List<LastVerify> verifies = this.jdbc.query("""
				SELECT id, verified_at, passed, problems FROM etl.physical_verify WHERE stanza = ?
				ORDER BY verified_at DESC, id DESC LIMIT 1""",
				(rs, row) -> new LastVerify(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getBoolean(3),
						rs.getString(4)),
				this.pgBackRest.stanza());
		return verifies.isEmpty() ? null : verifies.get(0);
	}

}
