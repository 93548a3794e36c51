package dev.pgbatch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The settings application.properties declares, each once as ${NAME:default} (a default may hold another
 * placeholder), with the meaning the comment right above its line gives ("# NAME: meaning", continued on comment
 * lines indented further). Read by SettingsTests both to check the settings and to generate docs/settings.md.
 */
public final class DeclaredSettings {

	/** One setting: its variable, its default as declared (possibly holding a placeholder) and its meaning. */
	public record Setting(String name, String defaultValue, String meaning) {

		/** The default as a reader sees it: a placeholder in it becomes $NAME. */
		String shownDefault() {
			return NESTED.matcher(this.defaultValue).replaceAll("\\$$1");
		}

		/** The default Spring takes when no variable is set: a placeholder in it becomes its own default. */
		String resolvedDefault() {
			return NESTED.matcher(this.defaultValue).replaceAll(match -> Matcher.quoteReplacement(match.group(2)));
		}

	}

	private static final Pattern PLACEHOLDER_START = Pattern.compile("\\$\\{((?:ETL|OPENAI)_[A-Z0-9_]+):");

	private static final Pattern NESTED = Pattern.compile("\\$\\{([A-Z0-9_]+):([^{}]*)}");

	private static final Pattern MEANING = Pattern.compile("# ((?:ETL|OPENAI)_[A-Z0-9_]+): (.+)");

	private static final Pattern CONTINUATION = Pattern.compile("# {2,}(\\S.*)");

	private DeclaredSettings() {
	}

	/** The settings of the application.properties on the class path, in the order they are declared. */
	public static List<Setting> read() throws IOException {
		try (InputStream in = DeclaredSettings.class.getResourceAsStream("/application.properties")) {
			return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
		}
	}

	/** Fails naming the setting when one is declared twice, has no meaning, or a meaning names no setting below it. */
	static List<Setting> parse(List<String> lines) {
		Map<String, Setting> settings = new LinkedHashMap<>();
		Map<String, StringBuilder> meanings = new LinkedHashMap<>();
		String last = null;
		for (String line : lines) {
			Matcher meaning = MEANING.matcher(line);
			Matcher continuation = CONTINUATION.matcher(line);
			if (meaning.matches()) {
				last = meaning.group(1);
				meanings.put(last, new StringBuilder(meaning.group(2).strip()));
			}
			else if (last != null && continuation.matches()) {
				meanings.get(last).append(' ').append(continuation.group(1).strip());
			}
			else if (line.startsWith("#") || line.isBlank()) {
				if (!meanings.isEmpty()) {
					throw new IllegalStateException(meanings.keySet() + ": a meaning not right above the line that declares it");
				}
				last = null;
			}
			else {
				for (Map.Entry<String, String> declared : placeholders(line).entrySet()) {
					String name = declared.getKey();
					StringBuilder text = meanings.remove(name);
					if (text == null) {
						throw new IllegalStateException(name + " has no '# " + name + ": meaning' line right above its line");
					}
					if (settings.put(name, new Setting(name, declared.getValue(), text.toString())) != null) {
						throw new IllegalStateException(name + " is declared twice");
					}
				}
				if (!meanings.isEmpty()) {
					throw new IllegalStateException(meanings.keySet() + ": a meaning above a line that does not declare it");
				}
				last = null;
			}
		}
		return new ArrayList<>(settings.values());
	}

	/** Each ${NAME:default} of a line, nested ones too, with its default up to the brace that closes it. */
	private static Map<String, String> placeholders(String line) {
		Map<String, String> found = new LinkedHashMap<>();
		Matcher start = PLACEHOLDER_START.matcher(line);
		while (start.find()) {
			int depth = 1;
			int end = start.end();
			while (depth > 0) {
				char c = line.charAt(end++);
				depth += (c == '{') ? 1 : (c == '}') ? -1 : 0;
			}
			found.put(start.group(1), line.substring(start.end(), end - 1));
		}
		return found;
	}

}
