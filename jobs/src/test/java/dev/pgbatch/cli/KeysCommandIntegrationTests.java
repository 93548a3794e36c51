package dev.pgbatch.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import dev.pgbatch.crypto.Keyset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** bin/etl keys, as an operator runs it: where the keyset goes, who may read it. */
class KeysCommandIntegrationTests {

	@Test
	void theDefaultKeysetIsInTheStacksDirectoryWhateverTheWorkingDirectory(@TempDir Path directory) throws Exception {
		Path stack = directory.resolve("stack");
		Path elsewhere = Files.createDirectory(directory.resolve("elsewhere"));

		EtlProcess.Result init = EtlProcess.runIn(elsewhere, Map.of("ETL_STACK_DIR", stack.toString()),
				List.of("ETL_BACKUP_KEYSET"), "keys", "init");

		assertThat(init.exitCode()).as(init.stderr()).isZero();
		Path keyset = stack.resolve("keys/backup-keyset.json");
		assertThat(init.stdout()).contains("keyset written to " + keyset);
		assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyset.getParent()))).isEqualTo("rwx------");
		assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyset))).isEqualTo("rw-------");
		assertThat(elsewhere.resolve(".stack")).doesNotExist();
	}

	@Test
	void aRotationPrintsTheNewKeysIdUnsignedAndSaysTheSafeCopyNoLongerCoversNewData(@TempDir Path directory)
			throws Exception {
		Path keyset = directory.resolve("keyset.json");
		Keyset.init(keyset);

		EtlProcess.Result rotate = EtlInProcess.run(Map.of("ETL_BACKUP_KEYSET", keyset.toString()), "keys", "rotate");

		assertThat(rotate.exitCode()).as(rotate.stderr()).isZero();
		String id = Integer.toUnsignedString(Keyset.load(keyset).primaryKeyId());
		assertThat(rotate.stdout().strip()).isEqualTo("new primary key id " + id + "; the keyset holds 2 keys; its safe"
				+ " copy reads nothing encrypted from now on: replace that copy with this file");
	}

	@Test
	void aKeysetOthersMayReadIsRefusedInOneLineWithExitCode2(@TempDir Path directory) throws Exception {
		Path keyset = directory.resolve("keyset.json");
		Keyset.init(keyset);
		Files.setPosixFilePermissions(keyset, PosixFilePermissions.fromString("rw-r--r--"));
		String before = Files.readString(keyset);

		EtlProcess.Result rotate = EtlProcess.runIn(directory, Map.of("ETL_BACKUP_KEYSET", keyset.toString()), List.of(),
				"keys", "rotate");

		assertThat(rotate.exitCode()).isEqualTo(2);
		assertThat(rotate.stderr().strip()).isEqualTo("etl: " + keyset + " is open to other users (mode rw-r--r--): a"
				+ " keyset must be readable by its owner only; run chmod 600 " + keyset);
		assertThat(Files.readString(keyset)).isEqualTo(before);
	}

}
