package dev.pgbatch.backup;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.UsageException;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The holds of kept point-in-time restores (etl.kept_restore): a restore into DIR whose replay was stopped resumes
 * from the repository, so the set it came from, and the WAL from it on, must outlive retention until the operator
 * is done with it. Recorded in the runner's schema, where every runner's retention reads them.
 */
@Component
public class KeptRestores {

	static final String NOT_HELD = "backup restore --release %s: no kept restore into that directory is recorded on host"
			+ " %s (bin/etl backup list --physical lists the holds)";

	/** What retention says of each hold it keeps a full backup for. */
	static final String HOLDS = "full backup %s (and the WAL from it on) held for the kept restore of set %s into %s on"
			+ " %s, to %s, since %s: released once it is promoted, by bin/etl backup restore --release %3$s there";

	static final String NOT_A_LABEL = "etl.kept_restore holds set '%s' for the restore into %s on %s, which is not a"
			+ " pgBackRest set's label: no retention runs on it; release it (bin/etl backup restore --release %2$s there)";

	/** What is said of a hold whose set's full is no longer listed: the WAL its replay needs went with it. */
	static final String GONE = "set %s is no longer in the repository: the kept restore into %s on %s cannot resume;"
			+ " release it (bin/etl backup restore --release %2$s there)";

	/** One hold: the set restored into {@code dataDir} on {@code host}, replaying to {@code target}. */
	public record Hold(String host, String dataDir, String stanza, String set, String target, Instant recordedAt) {

		/** The full backup the set depends on: itself for a full (pgBackRest's labels start with it). */
		String full() {
			int underscore = this.set.indexOf('_');
			return underscore < 0 ? this.set : this.set.substring(0, underscore);
		}

		/** What retention says of it. */
		String said() {
			// stored text, printed one a line: a directory's name may hold a line break
			return HOLDS.formatted(full(), this.set, OneLine.of(this.dataDir), OneLine.of(this.host),
					OneLine.of(this.target), this.recordedAt);
		}

		/** Fails naming it when its set is not a label of pgBackRest's shape (a row written by hand). */
		void checked() {
			if (!PhysicalBackups.LABEL.matcher(this.set).matches()) {
				throw new IllegalStateException(NOT_A_LABEL.formatted(OneLine.of(this.set), OneLine.of(this.dataDir),
						OneLine.of(this.host)));
			}
		}

		/**
		 * What retention and backup list say of it, {@code listed} the sets pgbackrest info lists: a hold whose full
		 * is gone holds nothing, and its restore cannot resume.
		 */
		public String said(Collection<String> listed) {
			return listed.contains(full()) ? said() : GONE.formatted(this.set, OneLine.of(this.dataDir),
					OneLine.of(this.host));
		}

	}

	private final JdbcTemplate jdbc;

	KeptRestores(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	/** Holds {@code set} for a restore into {@code data} (a real path) on this host; one left there before is replaced. */
	void hold(Path data, String stanza, String set, String target) {
		this.jdbc.update("""
				INSERT INTO etl.kept_restore (host, data_dir, stanza, backup_label, target) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (host, data_dir) DO UPDATE SET stanza = EXCLUDED.stanza, backup_label = EXCLUDED.backup_label,
				  target = EXCLUDED.target, recorded_at = now()""", host(), data.toString(), stanza, set, target);
	}

	/** Releases the hold of a restore into {@code data} on this host: whether there was one. */
	boolean released(Path data) {
		return this.jdbc.update("DELETE FROM etl.kept_restore WHERE host = ? AND data_dir = ?", host(),
				data.toString()) > 0;
	}

	/** bin/etl backup restore --release DIR: DIR as given, or its real path; none recorded is a UsageException. */
	public Hold release(Path dir) {
		for (Path data : List.of(dir.toAbsolutePath().normalize(), ClusterRestore.real(dir))) {
			List<Hold> holds = this.jdbc.query("""
					DELETE FROM etl.kept_restore WHERE host = ? AND data_dir = ?
					RETURNING host, data_dir, stanza, backup_label, target, recorded_at""", (rs, row) -> hold(rs),
					host(), data.toString());
			if (!holds.isEmpty()) {
				return holds.get(0);
			}
		}
		throw new UsageException(NOT_HELD.formatted(OneLine.of(dir.toString()), host()));
	}

	/**
	 * The holds of {@code stanza}, oldest first; a label not of pgBackRest's shape fails naming it: what the count of
	 * fulls to keep is taken from is not guessed at.
	 */
	public List<Hold> held(String stanza) {
		List<Hold> holds = this.jdbc.query("""
				SELECT host, data_dir, stanza, backup_label, target, recorded_at FROM etl.kept_restore WHERE stanza = ?
				ORDER BY recorded_at, id""", (rs, row) -> hold(rs), stanza);
		holds.forEach(Hold::checked);
		return holds;
	}

	private static Hold hold(java.sql.ResultSet rs) throws java.sql.SQLException {
		Timestamp at = rs.getTimestamp(6);
		return new Hold(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
				at.toInstant());
	}

	/** This host's name, as the holds record it: a restore's directory is one of its host's. */
	static String host() {
		try {
			return InetAddress.getLocalHost().getHostName();
		}
		catch (UnknownHostException ex) {
			return "localhost";
		}
	}

}
