package dev.pgbatch.archive;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A manifest's columns read back as PostgreSQL's format('%I %s') wrote them: restore matches them by name. */
class ManifestTests {

	@Test
	void aPlainOrAQuotedNameIsReadBackWithItsType() {
		assertThat(Manifest.column("status character varying(20)"))
			.isEqualTo(new Manifest.Column("status", "character varying(20)"));
		assertThat(Manifest.column("\"Odd \"\"name\" timestamp with time zone"))
			.isEqualTo(new Manifest.Column("Odd \"name", "timestamp with time zone"));
	}

	@Test
	void anEntryThatIsNotANameAndATypeIsRefused() {
		for (String recorded : new String[] { "", "status", " text", "\"unterminated text", "\"a\"text" }) {
			assertThatThrownBy(() -> Manifest.column(recorded)).as(recorded).isInstanceOf(IllegalArgumentException.class);
		}
	}

}
