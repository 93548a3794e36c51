package dev.pgbatch.partition;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Partition policy files for tests (ETL_PARTITION_POLICY). */
public final class TestPolicies {

	private TestPolicies() {
	}

	/**
	 * Only ops.task_executions, with the shipped cold boundary (15 months back) but one warm month: a seed's
	 * reset builds the warm partitions' indexes again in the default tablespace, and moving twelve back after
	 * every reset would take most of a test's time.
	 */
	public static Path oneWarmMonth() {
		return file("""
				tables:
				  - table: ops.task_executions
				    interval: monthly
				    premake: 4
				    hot: 14
				    warm: 1
				    cold: true
				""");
	}

	/** A policy file holding {@code yaml}. */
	public static Path file(String yaml) {
		try {
			Path file = Files.createTempFile("policy", ".yml");
			Files.writeString(file, yaml);
			return file;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
