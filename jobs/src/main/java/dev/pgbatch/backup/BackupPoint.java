package dev.pgbatch.backup;

import java.time.Duration;
import java.time.Instant;

import dev.pgbatch.core.OneLine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * A physical backup's own restore point, backup-LABEL, made once its set has ended. Its SHARE locks on the managed
 * tables can meet the nightly's archive moves (ALTER TABLE ... SET TABLESPACE holds ACCESS EXCLUSIVE for a whole
 * copy), and a partition the nightly's rollover or archive creates or drops meanwhile changes the tables it locks: a
 * try that waited ETL_BACKUP_POINT_LOCK_TIMEOUT, deadlocked or met such a change is given up and made again after a
 * pause (holding no lock meanwhile, so writes go on), up to ETL_PGBACKREST_LOCK_WAIT. Still not made then, or failed
 * otherwise, the run goes on without it, to its retention, and says so: a set is never left without retention for
 * want of its point.
 */
@Component
class BackupPoint {

	private static final Logger log = LoggerFactory.getLogger(BackupPoint.class);

	static final String MISSING = "none: restore point %s was not made within %d s (ETL_PGBACKREST_LOCK_WAIT): %s;"
			+ " make one with bin/etl backup point NAME";

	static final String NOT_MADE = "none: restore point %s was not made: %s; make one with bin/etl backup point NAME";

	/** Between tries: long beside a try's lock wait, so that the writes it holds up pass in between. */
	private static final Duration PAUSE = Duration.ofSeconds(30);

	private final RestorePoints points;

	private final Duration wait;

	BackupPoint(RestorePoints points, PgBackRestProperties properties) {
		this.points = points;
		this.wait = properties.lockWait();
	}

	/** Makes point {@code name} of set {@code label} (kept when made already): its summary, the name or why none. */
	String make(String name, String label) throws InterruptedException {
		Instant deadline = Instant.now().plus(this.wait);
		while (true) {
			try {
				if (!this.points.exists(name)) {
					this.points.create(name, label);
				}
				return name;
			}
			catch (RestorePoints.TryAgain ex) {
				Duration left = Duration.between(Instant.now(), deadline);
				if (left.isNegative() || left.isZero()) {
					return missing(MISSING.formatted(name, this.wait.toSeconds(), OneLine.of(ex.getMessage())));
				}
				Duration pause = left.compareTo(PAUSE) < 0 ? left : PAUSE;
				log.info("{}: tried again in {} s", OneLine.of(ex.getMessage()), pause.toSeconds());
				Thread.sleep(pause.toMillis());
			}
			catch (RuntimeException ex) {
				// retention runs after the point: the set must not be left without it for want of the point
				return missing(NOT_MADE.formatted(name, OneLine.of(ex.getMessage())));
			}
		}
	}

	private static String missing(String summary) {
		log.warn(summary);
		return summary;
	}

}
