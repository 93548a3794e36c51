package dev.pgbatch.backup;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** The configuration file the printed switch-over names when ETL_PGBACKREST_CONFIG is empty. */
class PointInTimeRestoresTests {

	/** pgBackRest reads /etc/pgbackrest/pgbackrest.conf, or /etc/pgbackrest.conf when that does not exist (Debian's). */
	@Test
	void theDefaultConfigurationIsTheFilePgBackRestReads(@TempDir Path etc) throws Exception {
		assertThat(PointInTimeRestores.defaultConfig(etc)).isEqualTo(etc.resolve("pgbackrest.conf").toString());
		Files.createDirectory(etc.resolve("pgbackrest"));
		Files.writeString(etc.resolve("pgbackrest/pgbackrest.conf"), "");
		assertThat(PointInTimeRestores.defaultConfig(etc)).isEqualTo(etc.resolve("pgbackrest/pgbackrest.conf").toString());
	}

}
