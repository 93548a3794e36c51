package dev.pgbatch.schedule;

import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToDoubleFunction;

import dev.pgbatch.backup.PhysicalCatalog;
import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.OwnConnections;
import dev.pgbatch.core.BackgroundThreads;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.stereotype.Component;

/**
 * What Prometheus sees of the physical backups: the archive's lag, the newest time a point-in-time restore reaches,
 * the age of the newest full and incr set and of the last drill to a restore point, and whether that drill passed
 * with no drill of either kind failed since (a drill to a time, pg_amcheck only, that passes must not hide a failed
 * one to a point; one that fails must not be hidden by it: see {@link PhysicalCatalog#drillsPassed()}). Read from pgbackrest
 * info (through {@link PhysicalCatalog}), pg_stat_archiver and etl.restore_drill at most once a {@link #FRESH}, in the
 * background: info starts pgbackrest, which reads the repository, and a scrape must not start one each time. A value that cannot be
 * known (no set of that type, no drill yet, pgBackRest not configured) is NaN.
 */
@Component
@ConditionalOnProperty(name = "etl.scheduler.enabled", havingValue = "true")
class BackupMetrics {

	private static final Logger log = LoggerFactory.getLogger(BackupMetrics.class);

	/** How long one reading serves the scrapes. */
	static final Duration FRESH = Duration.ofMinutes(1);

	/** One reading: each value in seconds (ages and lag) or seconds since the epoch, NaN when unknown. */
	private record Reading(Instant at, double archiveLag, double restorableTo, double fullAge, double incrAge,
			double drillAge, double drillPassed) {
	}

	/** How long a scrape waits for a reading under way. */
	private static final Duration SCRAPE_WAIT = Duration.ofSeconds(5);

	private static final Reading UNKNOWN = new Reading(Instant.EPOCH, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
			Double.NaN, Double.NaN);

	private final PhysicalCatalog catalog;

	private final DataSourceProperties database;

	private final Clock clock = Clock.systemUTC();

	private Reading reading;

	private CompletableFuture<Reading> refreshing;

	/** The last problem logged, so that one that lasts is logged once, not at every reading. */
	private String problem;

	BackupMetrics(MeterRegistry registry, PhysicalCatalog catalog, DataSourceProperties database) {
		this.catalog = catalog;
		this.database = database;
		gauge(registry, "pgbatch.wal.archive.lag", "seconds",
				"How long the WAL archiver has archived nothing while a finished segment waits (0: none waits)",
				Reading::archiveLag);
		gauge(registry, "pgbatch.backup.restorable.newest", "seconds",
				"The newest time a point-in-time restore reaches (the last WAL segment archived), in seconds since the epoch",
				Reading::restorableTo);
		gauge(registry, "pgbatch.backup.last.age", "seconds", "Seconds since the newest physical backup set of the type ended",
				Reading::fullAge, "type", "full");
		gauge(registry, "pgbatch.backup.last.age", "seconds", "Seconds since the newest physical backup set of the type ended",
				Reading::incrAge, "type", "incr");
		gauge(registry, "pgbatch.drill.last.age", "seconds",
				"Seconds since the last restore drill to a point (its row counts compared) started", Reading::drillAge);
		gauge(registry, "pgbatch.drill.last.passed", null,
				"Whether the last restore drill to a point (its row counts compared) passed and no drill of either kind"
						+ " failed after it: 1, or 0",
				Reading::drillPassed);
	}

	private void gauge(MeterRegistry registry, String name, String unit, String description,
			ToDoubleFunction<Reading> value, String... tags) {
		Gauge.builder(name, this, metrics -> value.applyAsDouble(metrics.reading()))
			.description(description)
			.baseUnit(unit)
			.tags(tags)
			.register(registry);
	}

	/**
	 * The reading, taken again in the background once it is older than {@link #FRESH}, one at a time: a scrape waits
	 * for a new one at most {@link #SCRAPE_WAIT}, then answers with the last (all NaN before the first). A
	 * repository that does not answer (pgbackrest info waits on a hung object store for up to an hour) must not hold
	 * every scrape, nor the web threads that serve the health.
	 */
	Reading reading() {
		CompletableFuture<Reading> underWay;
		synchronized (this) {
			Instant now = this.clock.instant();
			if ((this.reading == null || !now.isBefore(this.reading.at().plus(FRESH)))
					&& (this.refreshing == null || this.refreshing.isDone())) {
				this.refreshing = BackgroundThreads.start("backup metrics", () -> read(this.clock.instant()));
				this.refreshing.thenAccept(this::took);
			}
			underWay = this.refreshing;
		}
		try {
			underWay.get(SCRAPE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (ExecutionException | TimeoutException ex) {
			// the last reading answers
		}
		synchronized (this) {
			return this.reading != null ? this.reading : UNKNOWN;
		}
	}

	private synchronized void took(Reading taken) {
		this.reading = taken;
	}

	private Reading read(Instant now) {
		double lag = Double.NaN;
		double restorableTo = Double.NaN;
		double fullAge = Double.NaN;
		double incrAge = Double.NaN;
		double drillAge = Double.NaN;
		double drillPassed = Double.NaN;
		String failed = null;
		try (Connection connection = OwnConnections.open(this.database, SchedulerHealth.SHORT_WAITS)) {
			ArchiverState state = ArchiverState.read(connection);
			if (state.archiving()) {
				lag = state.lag().toSeconds();
			}
		}
		catch (Exception ex) {
			failed = "pg_stat_archiver: " + ex.getMessage();
		}
		try {
			PhysicalCatalog.LastDrill drill = this.catalog.lastCountedDrill();
			if (drill != null) {
				drillAge = seconds(drill.startedAt(), now);
			}
			Boolean passed = this.catalog.drillsPassed();
			drillPassed = passed == null ? Double.NaN : passed ? 1 : 0;
			PhysicalCatalog.Listing listing = this.catalog.list();
			if (listing.restorableTo() != null) {
				restorableTo = listing.restorableTo().getEpochSecond();
			}
			fullAge = newest(listing, "full", now);
			incrAge = newest(listing, "incr", now);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			failed = ex.toString();
		}
		catch (Exception ex) {
			failed = (failed == null ? "" : failed + "; ") + ex.getMessage();
		}
		if (failed != null && !Objects.equals(failed, this.problem)) {
			log.warn("the backup metrics are partly unknown (NaN): {}", OneLine.of(failed));
		}
		this.problem = failed;
		return new Reading(now, lag, restorableTo, fullAge, incrAge, drillAge, drillPassed);
	}

	/** Seconds since the newest set of that type ended, NaN when there is none. */
	private static double newest(PhysicalCatalog.Listing listing, String type, Instant now) {
		return listing.sets()
			.stream()
			.filter(set -> set.type().equals(type))
			.map(PhysicalCatalog.PhysicalSet::stopped)
			.max(Instant::compareTo)
			.map(stopped -> seconds(stopped, now))
			.orElse(Double.NaN);
	}

	private static double seconds(Instant from, Instant to) {
		return Duration.between(from, to).toMillis() / 1000.0;
	}

}
