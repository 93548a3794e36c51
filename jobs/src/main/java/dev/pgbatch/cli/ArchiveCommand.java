package dev.pgbatch.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;

import dev.pgbatch.archive.ArchivedPartitions;
import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.partition.PartitionProperties;
import dev.pgbatch.store.ObjectStoreException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "archive", mixinStandardHelpOptions = true,
		description = "What the archive job moved, and bringing a cold partition back.",
		subcommands = { ArchiveCommand.ListArchived.class, ArchiveCommand.Restore.class, ArchiveCommand.Forget.class,
				ArchiveCommand.Adopt.class })
class ArchiveCommand {

	@Command(name = "list", mixinStandardHelpOptions = true,
			description = "Every partition archive moved, with its tier, rows, bytes and object.")
	static class ListArchived implements Callable<Integer> {

		static final String NOT_LOGGED = "the %d segment(s) marked %s above are in the store, sealed by this installation, but not in its archive log"
				+ " (a dump older than their export restored?): bin/etl archive adopt TABLE PARTITION OBJECT registers one, then archive restore";

		static final String NOT_ADOPTED = "the %d segment(s) marked %s or %s above are not in the archive log either, but their interval has"
				+ " a newer segment, logged or adoptable (adopting an older one would bring back rows deleted since): adopt refuses them"
				+ " without --older";

		static final String UNDECIDED = "the %d segment(s) marked %s above share their partition's folder with an unlogged object whose"
				+ " manifest is absent or does not authenticate (counted below): it may be a newer segment that supersedes them, so"
				+ " adopt refuses them, naming it, without --despite KEY";

		static final String UNLISTED = "and %d cold object(s) under %s/ not shown: no sealed manifest beside them and no log row"
				+ " (an older layout, or an export that did not finish); restore does not read them (docs/jobs/archive.md:"
				+ " Exports written before sealed manifests)";

		static final String OTHER_ORIGINS = "the %d segment(s) marked %s or %s above name another archive installation (a copy of this"
				+ " database sharing the prefix?), or none (written before manifests named it): adopt refuses them without"
				+ " --origin-mismatch-ok (docs/jobs/archive.md: whose segments)";

		static final String ORIGIN_UNKNOWN_HERE = "ops.archive_installation has no row, so this installation's archive id is unknown and no segment can"
				+ " be told its own (marked %s above; adopt and the cold export are refused): the sealed manifests under %s/ name"
				+ " archive id(s) %s, the newest's first; put this database's back (most likely the newest, unless a copy shares"
				+ " the prefix): INSERT INTO ops.archive_installation (archive_id) VALUES ('ID') (docs/jobs/archive.md: whose segments)";

		static final String UNREADABLE = "and %d sealed manifest(s) under %s/ not shown: they do not authenticate with this keyset"
				+ " or do not match their key";

		@Mixin
		JsonOption json;

		@Override
		public Integer call() {
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				ArchivedPartitions archived = context.getBean(ArchivedPartitions.class);
				List<ArchivedPartitions.ListedPartition> entries = new java.util.ArrayList<>(archived.list());
				ArchivedPartitions.Stored stored = null;
				String unlistable = null;
				try {
					stored = archived.stored();
					entries.addAll(stored.notLogged());
				}
				catch (ObjectStoreException | RefusedException ex) {
					// the list comes from the database: the store being away, or a keyset missing to authenticate
					// what it holds, does not keep it from being shown
					unlistable = "(objects not listed under " + archived.prefix() + "/: " + ex.getMessage() + ")";
				}
				if (this.json.on) {
					Output.json(entries);
					return Cli.OK;
				}
				System.out.printf(Locale.ROOT, "%-20s %-28s %-5s %-10s %10s %12s  %s%n", "table", "partition", "tier",
						"status", "rows", "bytes", "object");
				for (ArchivedPartitions.ListedPartition entry : entries) {
					System.out.printf(Locale.ROOT, "%-20s %-28s %-5s %-10s %10s %12s  %s%n", entry.table(), entry.partition(),
							entry.tier().text(), entry.status(), entry.rows() == null ? "-" : entry.rows(),
							entry.bytes() == null ? "-" : entry.bytes(), entry.objectKey() == null ? "" : entry.objectKey()
									+ (List.of(ArchivedPartitions.ORIGIN_UNKNOWN_HERE, ArchivedPartitions.OTHER_ORIGIN).contains(entry.status())
											? "  (archive id " + entry.archiveId() + ")" : "")
									+ (entry.writtenIn() == null ? "" : "  (written in " + entry.writtenIn() + ")"));
				}
				if (unlistable != null) {
					System.out.println(unlistable);
					return Cli.OK;
				}
				long adoptable = stored.notLogged().stream().filter(e -> ArchivedPartitions.NOT_LOGGED.equals(e.status())).count();
				if (adoptable > 0) {
					System.out.printf(Locale.ROOT, NOT_LOGGED + "%n", adoptable, ArchivedPartitions.NOT_LOGGED);
				}
				notAdopted(NOT_ADOPTED, stored, ArchivedPartitions.SUPERSEDED_SEGMENT, ArchivedPartitions.OLDER);
				notAdopted(UNDECIDED, stored, ArchivedPartitions.UNDECIDED_SEGMENT);
				notAdopted(OTHER_ORIGINS, stored, ArchivedPartitions.OTHER_ORIGIN, ArchivedPartitions.NO_ORIGIN);
				notShown(UNLISTED, stored.withoutManifest(), archived.prefix());
				notShown(UNREADABLE, stored.unreadable(), archived.prefix());
				if (!stored.archiveIds().isEmpty()) {
					System.out.printf(Locale.ROOT, ORIGIN_UNKNOWN_HERE + "%n", ArchivedPartitions.ORIGIN_UNKNOWN_HERE,
							archived.prefix(), String.join(", ", stored.archiveIds()));
				}
				return Cli.OK;
			}
		}

		/** One line counting the segments listed with any of the statuses, when there are any. */
		private static void notAdopted(String format, ArchivedPartitions.Stored stored, String... statuses) {
			long count = stored.notLogged().stream().filter(e -> List.of(statuses).contains(e.status())).count();
			if (count > 0) {
				Object[] values = new Object[statuses.length + 1];
				values[0] = count;
				System.arraycopy(statuses, 0, values, 1, statuses.length);
				System.out.printf(Locale.ROOT, format + "%n", values);
			}
		}

		private static void notShown(String format, long count, String prefix) {
			if (count > 0) {
				System.out.printf(Locale.ROOT, format + "%n", count, prefix);
			}
		}

	}

	@Command(name = "adopt", mixinStandardHelpOptions = true,
			description = "Register a sealed cold segment this installation wrote but its archive log does not know (archive list marks it not-logged), from its authenticated manifest, so that archive restore brings its rows back.")
	static class Adopt implements Callable<Integer> {

		@Mixin
		Segment segment;

		@Option(names = "--into-existing", description = "Adopt it though the interval's partition is attached with rows or staged (restore then merges the segment's rows into it: rows deleted since come back).")
		boolean intoExisting;

		@Option(names = "--older", description = "Adopt it though it is superseded, or older than another segment of its interval (logged or adoptable): rows deleted since come back.")
		boolean older;

		@Option(names = "--despite", paramLabel = "KEY", description = "Adopt it though this object (its key as adopt's refusal names it: one without a readable manifest, or a manifest whose object is missing) leaves it undecided; once per such object.")
		List<String> despite = new java.util.ArrayList<>();

		@Option(names = "--origin-mismatch-ok", description = "Adopt it though its manifest names another archive installation, or none (written before manifests named one).")
		boolean originMismatchOk;

		@Override
		public Integer call() {
			Segment s = this.segment;
			return s.run(archived -> {
				archived.adopt(s.table, s.partition, s.objectKey,
						new ArchivedPartitions.Adoption(this.intoExisting, this.older, this.originMismatchOk, this.despite));
				return "adopted " + s.objectKey + " of " + s.partition + " into the archive log: restore it"
						+ " with bin/etl archive restore " + s.table + " " + s.partition;
			});
		}

	}

	@Command(name = "forget", mixinStandardHelpOptions = true,
			description = "Mark a cold segment that can no longer be restored (its object or manifest lost or unreadable) forgotten, so that it no longer holds seed-data's reset back; its log row and objects stay. A restorable segment is refused without --force.")
	static class Forget implements Callable<Integer> {

		@Mixin
		Segment segment;

		@Option(names = "--force", description = "Forget it even though its manifest and object are there and authenticate (its rows are then lost).")
		boolean force;

		@Override
		public Integer call() {
			Segment s = this.segment;
			return s.run(archived -> {
				archived.forget(s.table, s.partition, s.objectKey, this.force);
				return "forgot " + s.objectKey + " of " + s.partition + ": no longer restored, nor"
						+ " counted by seed-data's reset; its objects stay in the store";
			});
		}

	}

	@StreamsThroughEncryption
	@Command(name = "restore", mixinStandardHelpOptions = true,
			description = "Download a cold partition, authenticate and verify it, and attach it again.")
	static class Restore implements Callable<Integer> {

		@Mixin
		Interval interval;

		@Override
		public Integer call() {
			Interval i = this.interval;
			return i.run(archived -> "restored " + i.partition + " of " + i.table + ": "
					+ archived.restore(i.table, i.partition) + " rows added, every segment matching its manifest");
		}

	}

	/** The TABLE PARTITION arguments of a command on one archived interval. */
	static class Interval {

		@Parameters(index = "0", paramLabel = "TABLE", description = "The managed table (schema.table).")
		String table;

		@Parameters(index = "1", paramLabel = "PARTITION", description = "The partition, e.g. task_executions_p2025_01.")
		String partition;

		/**
		 * Checks the names' shape before anything starts, then that the policies manage the table (bad usage,
		 * named after the argument), then does the action and prints what it says.
		 */
		int run(Function<ArchivedPartitions, String> action) {
			usage("TABLE", () -> SqlNames.checkedTable(this.table));
			usage("PARTITION", () -> SqlNames.checkedName(this.partition));
			try (ConfigurableApplicationContext context = SpringRuntime.start()) {
				usage("TABLE", () -> context.getBean(PartitionProperties.class).policies().select(this.table));
				System.out.println(action.apply(context.getBean(ArchivedPartitions.class)));
				return Cli.OK;
			}
		}

		private static void usage(String argument, Runnable check) {
			try {
				check.run();
			}
			catch (IllegalArgumentException ex) {
				throw new UsageException(argument + ": " + ex.getMessage());
			}
		}

	}

	/** TABLE PARTITION OBJECT: one cold segment of an archived interval. */
	static class Segment extends Interval {

		@Parameters(index = "2", paramLabel = "OBJECT", description = "The segment's object key, as archive list shows it.")
		String objectKey;

	}

}
