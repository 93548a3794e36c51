package dev.pgbatch.backup;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether the server's WAL archiving goes through pgBackRest's archive-push into a stanza: archive_command must be
 * pgbackrest's archive-push naming that stanza, with nothing the shell would run beside it or instead of its exit
 * code ({@code pgbackrest ... archive-push %p || true} counts every segment archived whether it was pushed or not),
 * and no archive_library. The command itself is never quoted back: it may hold a secret given inline.
 */
public final class ArchivePush {

	static final String LIBRARY = "archive_library is set: the server archives through that module, not pgBackRest's"
			+ " archive-push";

	static final String CONTROL = "it holds the shell's %s: its exit code may not be pgBackRest's, and the server"
			+ " then counts segments archived that never reached the repository";

	static final String NOT_PGBACKREST = "it does not run pgbackrest archive-push: the server may count each segment"
			+ " archived while none reaches the repository";

	static final String OTHER_STANZA = "it does not push to stanza %s: it names %s";

	static final String NO_STANZA = "no --stanza";

	static final String EMPTY = "it is empty: the server archives nothing and keeps every segment in pg_wal";

	/** The shell's control operators and substitutions, as named in {@link #CONTROL}; a redirection N>&M is none. */
	private static final List<String> CONTROL_OPERATORS = List.of("||", "&&", ";", "|", "&", "`", "$(", "\n");

	/** A redirection that duplicates a descriptor (2>&1): its & is no control operator. */
	private static final Pattern DUPLICATION = Pattern.compile("\\d*[<>]&\\d+");

	/** The first word, optionally quoted: the program run. */
	private static final Pattern PROGRAM = Pattern.compile("^['\"]?([^'\"\\s]+)['\"]?(\\s|$)");

	/** A --stanza option, = or a space, its value optionally quoted. */
	private static final Pattern STANZA = Pattern.compile("(?:^|\\s)--stanza[= ]['\"]?([^'\"\\s]*)['\"]?(?=\\s|$)");

	private ArchivePush() {
	}

	/**
	 * Why archiving does not go through pgBackRest into {@code stanza}, null when it does: {@code command} is
	 * archive_command, {@code library} archive_library (null or blank: none).
	 */
	public static String problem(String command, String library, String stanza) {
		if (library != null && !library.isBlank()) {
			return LIBRARY;
		}
		String stripped = command.strip();
		if (stripped.isEmpty()) {
			return EMPTY;
		}
		String unduplicated = DUPLICATION.matcher(stripped).replaceAll(" ");
		for (String operator : CONTROL_OPERATORS) {
			if (unduplicated.contains(operator)) {
				return CONTROL.formatted(operator.equals("\n") ? "line break" : "'" + operator + "'");
			}
		}
		Matcher program = PROGRAM.matcher(stripped);
		String name = program.find() ? program.group(1).substring(program.group(1).lastIndexOf('/') + 1) : "";
		if (!name.equals("pgbackrest") || !stripped.matches("(?s).*\\sarchive-push(\\s.*|$)")) {
			return NOT_PGBACKREST;
		}
		Matcher named = STANZA.matcher(stripped);
		boolean ours = false;
		while (named.find()) {
			if (!named.group(1).equals(stanza)) {
				return OTHER_STANZA.formatted(stanza, "--stanza=" + named.group(1));
			}
			ours = true;
		}
		return ours ? null : OTHER_STANZA.formatted(stanza, NO_STANZA);
	}

}
