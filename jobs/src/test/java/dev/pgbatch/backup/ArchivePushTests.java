package dev.pgbatch.backup;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Review 15 F4: archiving counts as going through pgBackRest only when archive_command is pgbackrest's archive-push
 * for the stanza with nothing the shell runs beside it; a deny list of no-op commands let '... || true', '/bin/true
 * %p', another stanza's push and any archive_library pass while nothing reached the repository.
 */
class ArchivePushTests {

	/** bin/stack's own command, as the server reads it. */
	private static final String STACK = "/usr/bin/pgbackrest --config='/work/.stack/pgbackrest/pgbackrest.conf'"
			+ " --stanza=pgbatch archive-push %p";

	@Test
	void pgBackRestsArchivePushForTheStanzaPasses() {
		assertThat(ArchivePush.problem(STACK, "", "pgbatch")).isNull();
		assertThat(ArchivePush.problem(STACK, null, "pgbatch")).isNull();
		assertThat(ArchivePush.problem("pgbackrest --stanza 'pgbatch' archive-push %p 2>&1", "", "pgbatch")).isNull();
		assertThat(ArchivePush.problem("\"/opt/pg backrest/pgbackrest\" --stanza=pgbatch archive-push %p", "", "pgbatch"))
			.isEqualTo(ArchivePush.NOT_PGBACKREST);
	}

	@Test
	void aShellOperatorAnotherProgramAnotherStanzaOrALibraryIsNamed() {
		assertThat(ArchivePush.problem("pgbackrest --stanza=pgbatch archive-push %p || true", "", "pgbatch"))
			.isEqualTo("it holds the shell's '||': its exit code may not be pgBackRest's, and the server then counts"
					+ " segments archived that never reached the repository");
		assertThat(ArchivePush.problem("pgbackrest --stanza=pgbatch archive-push %p; exit 0", "", "pgbatch"))
			.isEqualTo(ArchivePush.CONTROL.formatted("';'"));
		assertThat(ArchivePush.problem("test \"$(date +%s)\" -gt 1 && " + STACK, "", "pgbatch"))
			.isEqualTo(ArchivePush.CONTROL.formatted("'&&'"));
		assertThat(ArchivePush.problem(STACK + " | cat", "", "pgbatch")).isEqualTo(ArchivePush.CONTROL.formatted("'|'"));
		assertThat(ArchivePush.problem(STACK + " &", "", "pgbatch")).isEqualTo(ArchivePush.CONTROL.formatted("'&'"));
		assertThat(ArchivePush.problem("`echo pgbackrest` --stanza=pgbatch archive-push %p", "", "pgbatch"))
			.isEqualTo(ArchivePush.CONTROL.formatted("'`'"));
		assertThat(ArchivePush.problem("pgbackrest --stanza=$(cat /s) archive-push %p", "", "pgbatch"))
			.isEqualTo(ArchivePush.CONTROL.formatted("'$('"));
		assertThat(ArchivePush.problem(STACK + "\nexit 0", "", "pgbatch"))
			.isEqualTo(ArchivePush.CONTROL.formatted("line break"));
		assertThat(ArchivePush.problem("/bin/true %p", "", "pgbatch")).isEqualTo(ArchivePush.NOT_PGBACKREST);
		assertThat(ArchivePush.problem("true", "", "pgbatch")).isEqualTo(ArchivePush.NOT_PGBACKREST);
		assertThat(ArchivePush.problem("pgbackrest --stanza=pgbatch archive-get %f %p", "", "pgbatch"))
			.isEqualTo(ArchivePush.NOT_PGBACKREST);
		assertThat(ArchivePush.problem("pgbackrest --stanza=other archive-push %p", "", "pgbatch"))
			.isEqualTo("it does not push to stanza pgbatch: it names --stanza=other");
		assertThat(ArchivePush.problem("pgbackrest --stanza=pgbatch --stanza=other archive-push %p", "", "pgbatch"))
			.isEqualTo("it does not push to stanza pgbatch: it names --stanza=other");
		assertThat(ArchivePush.problem("pgbackrest archive-push %p", "", "pgbatch"))
			.isEqualTo("it does not push to stanza pgbatch: it names no --stanza");
		assertThat(ArchivePush.problem("", "basic_archive", "pgbatch")).isEqualTo(ArchivePush.LIBRARY);
		assertThat(ArchivePush.problem(STACK, "basic_archive", "pgbatch")).isEqualTo(ArchivePush.LIBRARY);
		assertThat(ArchivePush.problem(" ", "", "pgbatch")).isEqualTo(ArchivePush.EMPTY);
	}

}
