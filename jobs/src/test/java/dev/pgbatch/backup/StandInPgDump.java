package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import dev.pgbatch.crypto.TestKeysets;

import org.springframework.test.context.DynamicPropertyRegistry;

/** A pg_dump of the test's own in ETL_PG_BIN, with a fresh keyset and the test's backup prefix. */
final class StandInPgDump {

	private StandInPgDump() {
	}

	/** Registers the settings; returns the directory that holds {@code script} as its pg_dump. */
	static Path register(DynamicPropertyRegistry registry, String prefix, String script) throws IOException {
		Path keyset = TestKeysets.fresh();
		Path bin = Files.createTempDirectory("pgbatch-pg-dump");
		Path dump = bin.resolve("pg_dump");
		Files.writeString(dump, script);
		Files.setPosixFilePermissions(dump, PosixFilePermissions.fromString("rwx------"));
		registry.add("etl.keyset.path", keyset::toString);
		registry.add("etl.backup.prefix", () -> prefix);
		registry.add("etl.backup.pg-bin", bin::toString);
		return bin;
	}

}
