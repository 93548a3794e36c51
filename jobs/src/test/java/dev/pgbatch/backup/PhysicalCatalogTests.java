package dev.pgbatch.backup;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The newest restorable time (review 15 F4): the server's last archived time counts only when the repository holds
 * the segment the server says it archived last; else nothing reaches the repository, whatever pg_stat_archiver says,
 * and the newest set's end is as far as a restore is known to reach.
 */
class PhysicalCatalogTests {

	private static final Instant SET_END = Instant.parse("2026-12-03T02:10:00Z");

	private static final Instant ARCHIVED = Instant.parse("2026-12-03T09:00:00Z");

	private static final List<PhysicalCatalog.PhysicalSet> SETS = List.of(
			new PhysicalCatalog.PhysicalSet("20261203-020000F", "full", null, SET_END.minusSeconds(600), SET_END,
					"000000010000000000000003", "000000010000000000000003", 0, 0));

	@Test
	void theServersTimeCountsOnlyWhenTheRepositoryHoldsItsLastSegment() {
		assertThat(PhysicalCatalog.restorableTo(SETS, "000000010000000000000009",
				new PhysicalCatalog.LastArchived("000000010000000000000009", ARCHIVED))).isEqualTo(ARCHIVED);
		assertThat(PhysicalCatalog.restorableTo(SETS, "00000001000000000000000A",
				new PhysicalCatalog.LastArchived("000000010000000000000009", ARCHIVED))).isEqualTo(ARCHIVED);
		// archive_command '... || true' while the store is down: the server counted segment 9 archived
		assertThat(PhysicalCatalog.restorableTo(SETS, "000000010000000000000005",
				new PhysicalCatalog.LastArchived("000000010000000000000009", ARCHIVED))).isEqualTo(SET_END);
		assertThat(PhysicalCatalog.restorableTo(SETS, null,
				new PhysicalCatalog.LastArchived("000000010000000000000009", ARCHIVED))).isEqualTo(SET_END);
		// a newer timeline's segment the repository lacks
		assertThat(PhysicalCatalog.restorableTo(SETS, "000000010000000000000012",
				new PhysicalCatalog.LastArchived("000000020000000000000009", ARCHIVED))).isEqualTo(SET_END);
		// a backup's .backup file names its segment; a .history file holds no WAL
		assertThat(PhysicalCatalog.restorableTo(SETS, "000000010000000000000009",
				new PhysicalCatalog.LastArchived("000000010000000000000009.00000028.backup", ARCHIVED))).isEqualTo(ARCHIVED);
		assertThat(PhysicalCatalog.restorableTo(SETS, "000000010000000000000009",
				new PhysicalCatalog.LastArchived("00000002.history", ARCHIVED))).isEqualTo(ARCHIVED);
		// nothing archived since the statistics' reset, or no set at all
		assertThat(PhysicalCatalog.restorableTo(SETS, "000000010000000000000009", new PhysicalCatalog.LastArchived(null,
				null))).isEqualTo(SET_END);
		assertThat(PhysicalCatalog.restorableTo(List.of(), "000000010000000000000009",
				new PhysicalCatalog.LastArchived("000000010000000000000009", ARCHIVED))).isNull();
	}

}
