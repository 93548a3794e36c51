package dev.pgbatch.core;

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import org.yaml.snakeyaml.Yaml;

/**
 * The configuration files in YAML (schedules, partition policies): a list of mappings under one key. The
 * shape and the keys are checked here, once for all of them, with messages that name the file.
 */
public final class YamlLists {

	private YamlLists() {
	}

	/**
	 * The entries listed under {@code key}. A file that is not YAML, or has no such list, is refused with a
	 * message naming {@code source}, as the exception {@code refusal} makes of it.
	 */
	public static List<?> entries(InputStream in, String source, String key, Function<String, RuntimeException> refusal) {
		Object root;
		try {
			root = new Yaml().load(in);
		}
		catch (RuntimeException ex) {
			throw refusal.apply(source + ": not YAML (" + ex.getMessage().lines().findFirst().orElse("") + ")");
		}
		if (!(root instanceof Map<?, ?> map) || !(map.get(key) instanceof List<?> entries)) {
			throw refusal.apply(source + ": a list '" + key + "' is expected");
		}
		return entries;
	}

	/** Refuses an entry with a key that is not one of {@code known}, listing those that are. */
	public static void requireKnownKeys(Map<?, ?> entry, Set<String> known) {
		for (Object key : entry.keySet()) {
			if (!known.contains(key)) {
				throw new IllegalArgumentException("unknown key '" + key + "' (known: "
						+ String.join(", ", known.stream().sorted().toList()) + ")");
			}
		}
	}

}
