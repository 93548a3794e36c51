package dev.pgbatch.backup;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Review 15 F9: names pgbackrest info lists go into repository paths, --set= and problems stored one a line; one not
 * of pgBackRest's shape (a label with ../ or a line break, a WAL name or archive id that is not one) fails the
 * reading, naming it on one line.
 */
class PhysicalBackupsTests {

	private static final String INFO = """
			[{"name": "pgbatch", "status": {"code": 0},
			  "db": [{"id": 1, "system-id": 7715095926240503924, "version": "15"}],
			  "archive": [{"database": {"id": 1}, "id": "%s", "min": "000000010000000000000001", "max": "%s"}],
			  "backup": [{"label": "20261203-020000F", "type": "full", "prior": null, "database": {"id": 1},
			    "archive": {"start": "000000010000000000000002", "stop": "000000010000000000000002"}},
			   {"label": "%s", "type": "incr", "prior": "20261203-020000F", "database": {"id": 1},
			    "archive": {"start": "000000010000000000000004", "stop": "%s"}}]}]""";

	private static final String INCR = "20261203-020000F_20261204-020000I";

	private static final String WAL = "000000010000000000000004";

	@Test
	void namesOfPgBackRestsShapeAreRead() {
		PhysicalBackups.Archive archive = PhysicalBackups.archive(INFO.formatted("15-1", WAL, INCR, WAL));

		assertThat(archive.sets()).extracting(PhysicalBackups.BackupSet::label).containsExactly("20261203-020000F", INCR);
		assertThat(PhysicalBackups.archive(INFO.formatted("9.6-2", WAL, INCR, WAL)).archives().get(0).id())
			.isEqualTo("9.6-2");
	}

	@Test
	void aNameNotOfPgBackRestsShapeFailsTheReadingNamingItOnOneLine() {
		assertThatThrownBy(() -> PhysicalBackups.archive(INFO.formatted("15-1", WAL, "20261203-020000F/../../other", WAL)))
			.isInstanceOf(PgBackRest.Failure.class)
			.hasMessage("pgbackrest info lists a backup set label '20261203-020000F/../../other', which is not of"
					+ " pgBackRest's shape (" + PhysicalBackups.LABEL.pattern() + "): not used, as a repository path, an"
					+ " option or a line of a report");
		assertThatThrownBy(() -> PhysicalBackups.archive(INFO.formatted("15-1", WAL, INCR + "\\nfake problem", WAL)))
			.hasMessageStartingWith("pgbackrest info lists a backup set label '" + INCR + "\\nfake problem', which")
			.hasMessageNotContaining("\n");
		assertThatThrownBy(() -> PhysicalBackups.archive(INFO.formatted("../15-1", WAL, INCR, WAL)))
			.hasMessageStartingWith("pgbackrest info lists a WAL archive id '../15-1', which");
		assertThatThrownBy(() -> PhysicalBackups.archive(INFO.formatted("15-1", "00000001000000000000000x", INCR, WAL)))
			.hasMessageStartingWith("pgbackrest info lists a WAL segment '00000001000000000000000x', which");
		assertThatThrownBy(() -> PhysicalBackups.archive(INFO.formatted("15-1", WAL, INCR, "../x")))
			.hasMessageStartingWith("pgbackrest info lists a WAL segment '../x', which");
	}

}
