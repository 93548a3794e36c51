package dev.pgbatch.crypto;

import java.nio.file.Path;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where the keyset is.
 *
 * @param path ETL_BACKUP_KEYSET, the Tink keyset that backups and cold archives are encrypted with
 */
@ConfigurationProperties("etl.keyset")
public record KeysetProperties(Path path) {

	public Keyset load() {
		return Keyset.load(this.path);
	}

}
