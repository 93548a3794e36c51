package dev.pgbatch.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.cli.EtlInProcess;
import dev.pgbatch.cli.EtlProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * bin/etl backup verify --physical, and the faults of issue 15 point 10 that concern the repository: a tampered file,
 * a segment gone from the WAL archive, a wrong cipher passphrase, a drill whose restore fails. The stack's repository
 * is shared by every test class: what is tampered with is a copy of it (taken while the stanza's backup lock is held,
 * so that no backup or expire is half done in it) under another path of the same bucket, which a copy of the stack's
 * pgBackRest configuration names (ETL_PGBACKREST_CONFIG); the copy is removed after.
 */
class PhysicalVerifyIntegrationTests {

	private static final Path STACK = Path.of(System.getenv("ETL_STACK_DIR"));

	private static final Path CONFIG = STACK.resolve("pgbackrest/pgbackrest.conf");

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** A WAL segment file in an archive id's directory. */
	private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}-[0-9a-f]{40}(\\.[a-z0-9]+)?");

	/** A copy of the stack's repository: its repo1-path, and where S3Proxy keeps it. */
	private record Copy(String repoPath, Path directory) {

		Path stanza(String kind) {
			return this.directory.resolve(kind).resolve("pgbatch");
		}

	}

	/**
	 * A sound copy passes, with the range it checked; then a byte flipped in a bundle of a full set and a segment
	 * removed from the middle of the archive: verify exits 1 and names the file (with the bundle that holds it) and
	 * the segment, and both results are recorded, the last one shown by backup list --physical.
	 */
	@Test
	void verifyPassesOnASoundRepositoryAndNamesATamperedFileAndAMissingSegment(@TempDir Path dir) throws Exception {
		// a set, and WAL after it: each backup check makes the server switch to a new segment and waits for it
		assertThat(EtlInProcess.run("run", "backup", "type=incr").exitCode()).isZero();
		for (int i = 0; i < 3; i++) {
			EtlProcess.Result check = EtlInProcess.run("backup", "check");
			assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
		}
		Copy copy = copy();
		try {
			Map<String, String> settings = Map.of("ETL_PGBACKREST_CONFIG", config(dir, copy, Map.of(), "").toString());

			EtlProcess.Result passed = EtlInProcess.run(settings, "backup", "verify", "--physical");

			assertThat(passed.exitCode()).as(passed.stdout() + passed.stderr()).isZero();
			assertThat(passed.stdout()).matches("verified: [1-9][0-9]* sets, WAL [0-9A-F]{24}\\.\\.[0-9A-F]{24}, no gap\n");
			assertThat(lastVerify()).isEqualTo("true ");

			String full;
			try (Stream<Path> sets = Files.list(copy.stanza("backup"))) {
				full = sets.map(path -> path.getFileName().toString())
					.filter(name -> name.matches("[0-9]{8}-[0-9]{6}F"))
					.sorted()
					.findFirst()
					.orElseThrow();
			}
			Path bundle = copy.stanza("backup").resolve(full).resolve("bundle/1");
			flip(bundle, Files.size(bundle) / 2);
			String archiveId;
			List<Path> segments = new ArrayList<>();
			try (Stream<Path> ids = Files.list(copy.stanza("archive"))) {
				archiveId = ids.filter(Files::isDirectory).map(path -> path.getFileName().toString()).sorted()
					.reduce((older, newer) -> newer).orElseThrow();
			}
			try (Stream<Path> files = Files.walk(copy.stanza("archive").resolve(archiveId))) {
				files.filter(path -> SEGMENT.matcher(path.getFileName().toString()).matches()).forEach(segments::add);
			}
			segments.sort(Comparator.comparing(path -> path.getFileName().toString()));
			// the one before the newest: the checks above put three after the newest set's
			Path removed = segments.get(segments.size() - 2);
			Files.delete(removed);

			EtlProcess.Result failed = EtlInProcess.run(settings, "backup", "verify", "--physical", "--json");

			assertThat(failed.exitCode()).as(failed.stdout() + failed.stderr()).isEqualTo(1);
			JsonNode report = JSON.readTree(failed.stdout());
			List<String> problems = report.path("problems").valueStream().map(JsonNode::asString).toList();
			String tampered = "backup/pgbatch/" + full + "/";
			assertThat(problems).anyMatch(problem -> problem.matches("pgbackrest verify: invalid (checksum|size|result) "
					+ Pattern.quote(tampered) + "\\S+ \\(stored in " + Pattern.quote(tampered + "bundle/1") + "\\).*"))
				.contains("WAL archive " + archiveId + ": segment " + removed.getFileName().toString().substring(0, 24)
						+ " missing");
			assertThat(lastVerify()).isEqualTo("false " + String.join("\n", problems));
			EtlProcess.Result listed = EtlInProcess.run(settings, "backup", "list", "--physical", "--json");
			assertThat(listed.exitCode()).as(listed.stderr()).isZero();
			JsonNode last = JSON.readTree(listed.stdout()).path("lastVerify");
			assertThat(last.path("id").asLong()).isEqualTo(report.path("id").asLong());
			assertThat(last.path("passed").asBoolean(true)).isFalse();
		}
		finally {
			remove(copy);
		}
	}

	/**
	 * A configuration whose repo1-cipher-pass is not the repository's: a physical backup, verify and a drill each
	 * exit 1 saying so on one line, with no stack trace, and neither that passphrase nor the right one is printed.
	 */
	@Test
	void aWrongCipherPassphraseFailsBackupVerifyAndDrillWithOneLineEach(@TempDir Path dir) throws Exception {
		String point = "verify-wrong-pass-" + System.nanoTime();
		assertThat(EtlInProcess.run("backup", "point", point).exitCode()).isZero();
		String right = Files.readString(STACK.resolve("secrets/pgbackrest-cipher-pass")).strip();
		String wrong = UUID.randomUUID().toString().replace("-", "");
		Copy copy = copy();
		try {
			Map<String, String> settings = Map.of("ETL_PGBACKREST_CONFIG",
					config(dir, copy, Map.of("repo1-cipher-pass", wrong), "").toString());
			for (String[] command : List.of(new String[] { "run", "backup", "type=incr" },
					new String[] { "backup", "verify", "--physical" }, new String[] { "backup", "drill", "--to", point })) {

				EtlProcess.Result result = EtlInProcess.run(settings, command);

				String output = result.stdout() + result.stderr();
				assertThat(result.exitCode()).as(String.join(" ", command) + ": " + output).isEqualTo(1);
				assertThat(output).doesNotContain(wrong).doesNotContain(right);
				assertThat(output.lines()).as(output).noneMatch(line -> line.startsWith("\tat "));
				assertThat(result.stdout().lines().filter(line -> line.endsWith(PgBackRest.UNREADABLE)))
					.as(String.join(" ", command) + ": " + result.stdout())
					.singleElement();
			}
		}
		finally {
			remove(copy);
		}
	}

	/**
	 * A drill whose restore fails part way (the set's bundles are missing from the repository it restores from, a
	 * copy that only restore is pointed at): the drill exits 1 naming pgBackRest's failure, and leaves no directory
	 * under the drills' directory and no process running from one.
	 */
	@Test
	void aDrillWhoseRestoreFailsLeavesNoProcessAndNoDirectoryBehind(@TempDir Path dir) throws Exception {
		assertThat(EtlInProcess.run("run", "backup", "type=incr").exitCode()).isZero();
		String point = "verify-restore-fails-" + System.nanoTime();
		assertThat(EtlInProcess.run("backup", "point", point).exitCode()).isZero();
		Copy copy = copy();
		try {
			try (Stream<Path> sets = Files.list(copy.stanza("backup"))) {
				for (Path set : sets.filter(path -> Files.isDirectory(path.resolve("bundle"))).toList()) {
					deleteTree(set.resolve("bundle"));
				}
			}
			// the stack's repository for all but the restore
			Path config = config(dir, null, Map.of(), "\n[global:restore]\nrepo1-path=" + copy.repoPath() + "\n");
			String scratch;
			try (Connection connection = TestDatabase.connect();
					ResultSet oid = connection.createStatement()
						.executeQuery("SELECT (SELECT system_identifier FROM pg_control_system()), oid FROM pg_database"
								+ " WHERE datname = current_database()")) {
				oid.next();
				scratch = "drill-pgbatch-" + oid.getLong(1) + "-" + oid.getLong(2) + "-";
			}

			EtlProcess.Result drill = EtlInProcess.run(Map.of("ETL_PGBACKREST_CONFIG", config.toString()), "backup",
					"drill", "--to", point, "--json");

			assertThat(drill.exitCode()).as(drill.stdout() + drill.stderr()).isEqualTo(1);
			JsonNode report = JSON.readTree(drill.stdout());
			assertThat(report.path("set").asString()).isNotEmpty();
			assertThat(report.path("problems").valueStream().map(JsonNode::asString).toList()).singleElement()
				.satisfies(problem -> assertThat(problem).startsWith("pgbackrest restore failed: ").contains("/bundle/"));
			Path drills = Path.of(System.getenv().getOrDefault("ETL_PGBACKREST_DRILL_DIR", "/var/tmp/pgbatch-drills"));
			try (Stream<Path> left = Files.exists(drills) ? Files.list(drills) : Stream.empty()) {
				assertThat(left.map(path -> path.getFileName().toString())).noneMatch(name -> name.startsWith(scratch));
			}
			assertThat(ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse("")))
				.noneMatch(line -> line.contains(drills.resolve(scratch).toString()));
		}
		finally {
			remove(copy);
		}
	}

	/**
	 * A copy of the stack's repository beside it in the bucket, taken while the stanza's backup lock is held (as
	 * pgBackRest's own lock file, by flock(1) as the configuration's owner, who makes the file when it is missing):
	 * no set half made or half expired in it. WAL is pushed meanwhile; S3Proxy writes each object under a name of
	 * its own (NAME-UUID) and renames it whole, so such names are left out.
	 */
	private static Copy copy() throws Exception {
		Path repository = s3Data().resolve(setting("repo1-s3-bucket")).resolve(setting("repo1-path").substring(1));
		String repoPath = setting("repo1-path") + "-verify-" + System.nanoTime();
		Path target = repository.resolveSibling(repoPath.substring(1));
		String lock = STACK.resolve("pgbackrest/lock/pgbatch-backup.lock").toString();
		String owner = Files.getOwner(CONFIG).getName();
		List<String> holding = new ArrayList<>(List.of("flock", lock, "sleep", "600"));
		if (!owner.equals(System.getProperty("user.name"))) {
			holding.addAll(0, List.of("runuser", "-u", owner, "--"));
		}
		Process holder = new ProcessBuilder(holding).redirectOutput(ProcessBuilder.Redirect.DISCARD)
			.redirectError(ProcessBuilder.Redirect.DISCARD)
			.start();
		try {
			// flock runs sleep once it holds the lock (a backup of another test class may hold it for a while)
			boolean held = false;
			for (int i = 0; i < 3_000 && !held; i++) {
				held = holder.descendants().anyMatch(process -> process.info().command().orElse("").endsWith("/sleep"));
				Thread.sleep(held ? 0 : 100);
			}
			assertThat(held).as("the backup lock within 5 minutes").isTrue();
			Pattern inFlight = Pattern.compile(".*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
			try (Stream<Path> files = Files.walk(repository)) {
				for (Path file : files.toList()) {
					Path copied = target.resolve(repository.relativize(file).toString());
					if (Files.isDirectory(file)) {
						Files.createDirectories(copied);
					}
					else if (!inFlight.matcher(file.getFileName().toString()).matches()) {
						Files.copy(file, copied, StandardCopyOption.COPY_ATTRIBUTES);
					}
				}
			}
		}
		finally {
			holder.descendants().forEach(ProcessHandle::destroy);
			holder.destroy();
			holder.waitFor();
		}
		return new Copy(repoPath, target);
	}

	/**
	 * The stack's pgBackRest configuration with the copy's repo1-path (none: the stack's), these settings replaced,
	 * {@code more} appended, and a lock directory of its own; the owner's, mode 0600, like the stack's.
	 */
	private static Path config(Path dir, Copy copy, Map<String, String> replaced, String more) throws IOException {
		Path locks = Files.createDirectories(dir.resolve("lock"));
		StringBuilder text = new StringBuilder();
		for (String line : Files.readAllLines(CONFIG)) {
			String name = line.contains("=") ? line.substring(0, line.indexOf('=')) : "";
			if (name.equals("repo1-path") && copy != null) {
				line = name + "=" + copy.repoPath();
			}
			else if (name.equals("lock-path")) {
				line = name + "=" + locks;
			}
			else if (replaced.containsKey(name)) {
				line = name + "=" + replaced.get(name);
			}
			text.append(line).append('\n');
		}
		Path config = dir.resolve("pgbackrest.conf");
		Files.writeString(config, text.append(more).toString());
		Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
		Files.setOwner(config, Files.getOwner(CONFIG));
		return config;
	}

	/** A setting of the stack's pgBackRest configuration. */
	private static String setting(String name) throws IOException {
		return Files.readAllLines(CONFIG).stream()
			.filter(line -> line.startsWith(name + "="))
			.map(line -> line.substring(name.length() + 1))
			.findFirst()
			.orElseThrow();
	}

	/** Where S3Proxy keeps the stack's buckets (bin/stack's filesystem backend). */
	private static Path s3Data() {
		return STACK.resolve("s3/data");
	}

	/** The newest etl.physical_verify row of this database: passed, a space, its problems. */
	private static String lastVerify() throws Exception {
		try (Connection connection = TestDatabase.connect();
				ResultSet row = connection.createStatement()
					.executeQuery("SELECT passed, problems FROM etl.physical_verify ORDER BY id DESC LIMIT 1")) {
			assertThat(row.next()).isTrue();
			return row.getBoolean(1) + " " + row.getString(2);
		}
	}

	/** Inverts 16 bytes of the file at {@code offset}. */
	private static void flip(Path file, long offset) throws IOException {
		try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
			ByteBuffer bytes = ByteBuffer.allocate(16);
			channel.read(bytes, offset);
			for (int i = 0; i < bytes.limit(); i++) {
				bytes.put(i, (byte) ~bytes.get(i));
			}
			bytes.rewind();
			channel.write(bytes, offset);
		}
	}

	private static void remove(Copy copy) throws IOException {
		deleteTree(copy.directory());
	}

	private static void deleteTree(Path top) throws IOException {
		if (!Files.exists(top)) {
			return;
		}
		try (Stream<Path> files = Files.walk(top)) {
			for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
				Files.delete(file);
			}
		}
	}

}
