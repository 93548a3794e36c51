package dev.pgbatch.schedule;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import dev.pgbatch.core.OneLine;
import dev.pgbatch.core.OwnConnections;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The database server's WAL archiving, beside the scheduler's own health (the node's health is DOWN when either is):
 * DOWN while archive_command fails (a failure since the last success) or while finished segments have waited more
 * than twice archive_timeout with nothing archived (an archive_command that hangs fails nothing). The physical
 * backups' point-in-time restores reach only as far as the archive: a failing archiver is data at risk, and pg_wal
 * grows until the disk is full. With archive_timeout 0 the wait allowed is
 * {@link ArchiverState#BEHIND_WITHOUT_TIMEOUT_SECONDS}. When physical backups are configured (ETL_PGBACKREST_STANZA
 * set), archiving that cannot work is DOWN: archive_mode off, or archiving that does not go through pgBackRest's
 * archive-push into that stanza (see {@link ArchiverState#disabled}); UNKNOWN would count as UP in the node's health. UNKNOWN, never DOWN, when the
 * server does not archive and no stanza is configured, on a standby, or when the runner's role may not read
 * pg_stat_archiver (the reason names the GRANT). On a connection of its own with short timeouts, as the scheduler's
 * check.
 */
@Component("walArchiving")
@ConditionalOnProperty(name = "etl.scheduler.enabled", havingValue = "true")
class WalArchivingHealth implements HealthIndicator {

	static final String NOT_ARCHIVING = "archive_mode is %s%s: this server does not archive WAL, nothing to check";

	static final String UNREADABLE = "the WAL archiver's state cannot be read: %s";

	/** The setting that says physical backups are in use: set (not defaulted), in the environment or as -D. */
	static final String STANZA_SETTING = "ETL_PGBACKREST_STANZA";

	private final DataSourceProperties database;

	/** The configured stanza, null when ETL_PGBACKREST_STANZA is not set. */
	private final String stanza;

	WalArchivingHealth(DataSourceProperties database, Environment environment) {
		this.database = database;
		// the property etl.pgbackrest.stanza always has a value (its default): only the setting itself says
		this.stanza = environment.containsProperty(STANZA_SETTING) ? environment.getProperty("etl.pgbackrest.stanza")
				: null;
	}

	@Override
	public Health health() {
		ArchiverState state;
		try (Connection connection = OwnConnections.open(this.database, SchedulerHealth.SHORT_WAITS)) {
			state = ArchiverState.read(connection);
		}
		catch (ArchiverState.CannotRead ex) {
			return Health.unknown().withDetail("reason", ex.getMessage()).build();
		}
		catch (SQLException ex) {
			return Health.unknown().withDetail("reason", UNREADABLE.formatted(OneLine.of(ex.getMessage()))).build();
		}
		String disabled = state.disabled(this.stanza);
		if (disabled != null) {
			return Health.down()
				.withDetail("reason", disabled)
				.withDetail("archiveMode", state.archiveMode())
				.build();
		}
		if (!state.archiving()) {
			return Health.unknown()
				.withDetail("reason", NOT_ARCHIVING.formatted(state.archiveMode(), state.inRecovery() ? " on a standby" : ""))
				.build();
		}
		List<String> problems = state.problems();
		Health.Builder health = problems.isEmpty() ? Health.up() : Health.down().withDetail("reason", String.join("; ", problems));
		return health.withDetail("lastArchivedWal", String.valueOf(state.lastArchivedWal()))
			.withDetail("lastArchivedTime", String.valueOf(state.lastArchivedTime()))
			.withDetail("failedCount", state.failedCount())
			.withDetail("lastFailedTime", String.valueOf(state.lastFailedTime()))
			.withDetail("finishedSegmentsWaiting", state.pending() == null ? "unknown" : state.pending())
			.withDetail("lagSeconds", state.lag().toSeconds())
			.withDetail("archiveTimeoutSeconds", state.archiveTimeoutSeconds())
			.withDetail("behindAfterSeconds", state.behindAfterSeconds())
			.build();
	}

}
