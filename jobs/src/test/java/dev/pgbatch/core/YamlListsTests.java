package dev.pgbatch.core;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class YamlListsTests {

	@Test
	void theEntriesUnderTheKeyAreReturnedInTheirOrder() {
		List<Object> entries = List.copyOf(YamlLists.entries(yaml("things:\n  - name: a\n  - name: b\n"), "f.yml", "things",
				UsageException::new));

		assertThat(entries).containsExactly(Map.of("name", "a"), Map.of("name", "b"));
	}

	@Test
	void aFileThatIsNotYamlOrHasNoSuchListIsRefusedNamingTheFile() {
		assertThatThrownBy(() -> YamlLists.entries(yaml("things: [a, b\n"), "f.yml", "things", UsageException::new))
			.isInstanceOf(UsageException.class)
			.hasMessageStartingWith("f.yml: not YAML (");
		assertThatThrownBy(() -> YamlLists.entries(yaml("other: []\n"), "f.yml", "things", IllegalArgumentException::new))
			.isExactlyInstanceOf(IllegalArgumentException.class)
			.hasMessage("f.yml: a list 'things' is expected");
		assertThatThrownBy(() -> YamlLists.entries(yaml("things: 3\n"), "f.yml", "things", UsageException::new))
			.hasMessage("f.yml: a list 'things' is expected");
	}

	@Test
	void anUnknownKeyIsRefusedListingTheKnownOnes() {
		YamlLists.requireKnownKeys(Map.of("name", "a"), Set.of("name", "job"));

		assertThatThrownBy(() -> YamlLists.requireKnownKeys(Map.of("nmae", "a"), Set.of("name", "job")))
			.hasMessage("unknown key 'nmae' (known: job, name)");
	}

	private static InputStream yaml(String text) {
		return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
	}

}
