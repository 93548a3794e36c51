package dev.pgbatch.archive;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

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

	/** A manifest written before manifests named their database reads, and names none. */
	@Test
	void aManifestWithoutItsDatabaseReadsAndIsNoDatabasesOwn() {
		String older = """
				{"table":"ops.task_executions","partition":"task_executions_p2025_01","rangeStart":"2025-01-01 00:00:00+00",
				 "rangeEnd":"2025-02-01 00:00:00+00","rows":3,"rowsSha256":"ab","objectKey":"archive/k.copy.zst.tink",
				 "objectBytes":10,"objectSha256":"cd","keyId":7,"columns":["status text"],"format":"f",
				 "exportedAt":"2026-01-01T00:00:00Z"}
				""";
		Manifest manifest = JsonMapper.builder().build().readValue(older, Manifest.class);
		assertThat(manifest.rows()).isEqualTo(3);
		assertThat(manifest.database()).isNull();
		assertThat(manifest.writtenBy(new Manifest.Origin("7012345678901234567", "pgbatch"))).isFalse();
		Manifest named = JsonMapper.builder().build().readValue(older.replace("\"exportedAt\"",
				"\"systemIdentifier\":\"7012345678901234567\",\"database\":\"pgbatch\",\"exportedAt\""), Manifest.class);
		assertThat(named.writtenBy(new Manifest.Origin("7012345678901234567", "pgbatch"))).isTrue();
		assertThat(named.writtenBy(new Manifest.Origin("7012345678901234567", "other"))).isFalse();
	}

	@Test
	void anEntryThatIsNotANameAndATypeIsRefused() {
		for (String recorded : new String[] { "", "status", " text", "\"unterminated text", "\"a\"text" }) {
			assertThatThrownBy(() -> Manifest.column(recorded)).as(recorded).isInstanceOf(IllegalArgumentException.class);
		}
	}

	@Test
	void aColumnRestoresIntoAChangedTypeOnlyWhenEveryValueReadsUnchanged() {
		assertThat(ArchivedPartitions.widens("integer", "bigint")).isTrue();
		assertThat(ArchivedPartitions.widens("smallint", "numeric")).isTrue();
		assertThat(ArchivedPartitions.widens("real", "double precision")).isTrue();
		assertThat(ArchivedPartitions.widens("character varying(20)", "character varying(40)")).isTrue();
		assertThat(ArchivedPartitions.widens("character varying(20)", "text")).isTrue();
		assertThat(ArchivedPartitions.widens("bigint", "integer")).isFalse();
		assertThat(ArchivedPartitions.widens("integer", "numeric(4,1)")).isFalse();
		assertThat(ArchivedPartitions.widens("numeric(10,3)", "numeric(10,1)")).isFalse();
		assertThat(ArchivedPartitions.widens("timestamp with time zone", "timestamp without time zone")).isFalse();
		assertThat(ArchivedPartitions.widens("character varying(40)", "character varying(20)")).isFalse();
		assertThat(ArchivedPartitions.widens("text", "character varying(20)")).isFalse();
	}

}
