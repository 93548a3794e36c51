package dev.pgbatch.backup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** What a restored data directory's configuration files get before its first start. */
class ClusterRestoreTests {

	/**
	 * A cluster whose configuration lives outside its data directory (Debian's /etc/postgresql) has no
	 * postgresql.conf or pg_hba.conf restored: an empty one and one letting the owner in through the socket only are
	 * written, and said so; the isolation and the given settings go last into postgresql.auto.conf.
	 */
	@Test
	void aDataDirectoryWithoutItsConfigurationGetsAnEmptyOneAndAnOwnerOnlyHbaAndTheIsolationLast(@TempDir Path data)
			throws Exception {
		Files.writeString(data.resolve("postgresql.auto.conf"), "archive_mode = 'on'\nport = '5432'\n");

		List<String> wrote = ClusterRestore.configure(data, Map.of("port", "56999"), "postgres", null);

		assertThat(wrote).hasSize(2);
		assertThat(wrote.get(1)).contains("pg_hba.conf: none was restored").contains("postgres in through the socket only");
		assertThat(Files.readString(data.resolve("pg_hba.conf")).lines().filter(line -> !line.startsWith("#")))
			.containsExactly("local all postgres peer");
		assertThat(Files.readString(data.resolve("postgresql.conf")).strip())
			.endsWith("data_directory = '" + data + "'");
		List<String> auto = Files.readAllLines(data.resolve("postgresql.auto.conf"));
		// the last of a name counts
		assertThat(auto.subList(auto.lastIndexOf("archive_mode = 'on'") + 1, auto.size())).contains("archive_mode = 'off'",
				"archive_command = ''", "max_logical_replication_workers = '0'", "primary_conninfo = ''",
				"synchronous_standby_names = ''", "recovery_end_command = ''", "shared_preload_libraries = ''", "port = '56999'",
				"external_pid_file = '" + data.resolve("external.pid") + "'");
	}

	/**
	 * The live cluster's memory settings (restored with its data directory) give way to PostgreSQL's defaults in every
	 * restored cluster, drill or point in time: it runs beside the live one.
	 */
	@Test
	void aRestoredClusterTakesTheDefaultMemoryNotTheLiveClusters(@TempDir Path data) throws Exception {
		Files.writeString(data.resolve("postgresql.conf"), "shared_buffers = '16GB'\nhuge_pages = 'on'\n");
		Files.writeString(data.resolve("postgresql.auto.conf"), "work_mem = '1GB'\nmaintenance_work_mem = '8GB'\n");

		ClusterRestore.configure(data, Map.of("port", "56999"), "postgres", null);

		List<String> auto = Files.readAllLines(data.resolve("postgresql.auto.conf"));
		assertThat(auto.subList(auto.indexOf("maintenance_work_mem = '8GB'") + 1, auto.size())).contains(
				"shared_buffers = '128MB'", "huge_pages = 'off'", "wal_buffers = '-1'", "work_mem = '4MB'",
				"maintenance_work_mem = '64MB'", "autovacuum_work_mem = '-1'");
	}

	/** A drill's scratch cluster lets the runner in from 127.0.0.1 too: its counts are taken as the runner. */
	@Test
	void aDrillsWrittenHbaLetsTheRunnerInOverLoopbackToo(@TempDir Path data) throws Exception {
		Files.writeString(data.resolve("postgresql.conf"), "");

		assertThat(ClusterRestore.configure(data, Map.of(), "postgres", "pgbatch")).singleElement()
			.asString()
			.endsWith("and pgbatch from 127.0.0.1");
		assertThat(Files.readString(data.resolve("pg_hba.conf")).lines().filter(line -> !line.startsWith("#")))
			.containsExactly("local all postgres peer", "host all \"pgbatch\" 127.0.0.1/32 scram-sha-256");
	}

	/**
	 * An automatically chosen port is outside the kernel's ephemeral range (pgBackRest's connections to the
	 * repository during the restore take theirs from it), free, and from 1024 on, never the live cluster's.
	 */
	@Test
	void aChosenPortIsOutsideTheEphemeralRange(@TempDir Path proc) throws Exception {
		Path range = proc.resolve("ip_local_port_range");
		Files.writeString(range, "1024\t65000\n");
		for (int i = 0; i < 20; i++) {
			assertThat(ClusterRestore.freePort(range, Set.of())).isBetween(65001, 65535);
		}
		Files.writeString(range, "2000 65535\n");
		assertThat(ClusterRestore.freePort(range, Set.of())).isBetween(1024, 1999);
		int port = ClusterRestore.freePort(ClusterRestore.EPHEMERAL_PORTS, Set.of());
		String[] kernel = Files.readAllLines(ClusterRestore.EPHEMERAL_PORTS).get(0).strip().split("\\s+");
		assertThat(port < Integer.parseInt(kernel[0]) || port > Integer.parseInt(kernel[1])).as("port " + port).isTrue();
		assertThat(ClusterRestore.portFree(port)).isTrue();
		// the live cluster's ports are passed over: only 1029 is left below 1030
		Files.writeString(range, "1030 65535\n");
		assertThat(ClusterRestore.freePort(range, Set.of(1024, 1025, 1026, 1027, 1028))).isEqualTo(1029);
	}

	/**
	 * An ephemeral range widened to 1024-65535 (a common tuning) leaves no port outside it: one the system gives is
	 * taken, as before the range was minded (else every drill fails), never the live cluster's nor PostgreSQL's usual
	 * 5432-5439 (a cluster of the host that restarts, or listens on another address, takes them).
	 */
	@Test
	void aRangeLeavingNoPortOutsideItOrOnlyPostgresUsualOnesFallsBackToOneTheSystemGives(@TempDir Path proc)
			throws Exception {
		Path range = proc.resolve("ip_local_port_range");
		Files.writeString(range, "1024 65535\n");
		for (int i = 0; i < 10; i++) {
			int port = ClusterRestore.freePort(range, Set.of());
			assertThat(port).isBetween(1024, 65535);
			assertThat(port < 5432 || port > 5439).as("port " + port).isTrue();
		}
		// below 5440 only PostgreSQL's usual ports are outside the range, and everything else is the live cluster's
		Files.writeString(range, "5440 65535\n");
		Set<Integer> live = IntStream.range(1024, 5432).boxed().collect(Collectors.toSet());
		for (int i = 0; i < 10; i++) {
			assertThat(ClusterRestore.freePort(range, live)).isGreaterThan(5439);
		}
	}

	@Test
	void aRestoredPgHbaIsKeptAndAValueWithAQuoteIsNeverWritten(@TempDir Path data) throws Exception {
		Files.writeString(data.resolve("pg_hba.conf"), "local all all trust\n");
		Files.writeString(data.resolve("postgresql.conf"), "include = 'pgbatch.conf'\n");

		assertThat(ClusterRestore.configure(data, Map.of(), "postgres", "pgbatch")).isEmpty();
		assertThat(Files.readString(data.resolve("pg_hba.conf"))).isEqualTo("local all all trust\n");
		assertThat(Files.readString(data.resolve("postgresql.conf"))).startsWith("include = 'pgbatch.conf'\n");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> ClusterRestore.configure(data, Map.of("unix_socket_directories", "/tmp/it's"), "postgres", null));
		assertThat(Files.readString(data.resolve("postgresql.auto.conf"))).doesNotContain("it's");
	}

	/**
	 * A restored data directory swapped for a link during the restore (to the live cluster's, whose postmaster runs
	 * there): the clean-up neither stops that process nor removes anything, and says why.
	 */
	@Test
	void theCleanUpRefusesADirectorySwappedForALink(@TempDir Path base) throws Exception {
		Path live = Files.createDirectory(base.resolve("live")).toRealPath();
		Path restored = base.toRealPath().resolve("restored");
		Files.createSymbolicLink(restored, live);
		Process postmaster = new ProcessBuilder("sleep", "60").directory(live.toFile()).start();
		try {
			Files.writeString(live.resolve("postmaster.pid"), postmaster.pid() + "\n" + live + "\n");
			ClusterRestore cluster = new ClusterRestore(null, null, null, null);

			assertThat(cluster.stop(restored)).contains(restored + " is now a link");
			assertThat(cluster.remove(restored, restored)).contains(restored + " is now a link");
			assertThat(cluster.remove(restored.resolve("pg_wal"), restored)).contains("is now a link");

			assertThat(postmaster.isAlive()).isTrue();
			assertThat(Files.isSymbolicLink(restored)).isTrue();
			assertThat(live.resolve("postmaster.pid")).exists();
		}
		finally {
			postmaster.destroyForcibly();
		}
	}

}
