package dev.pgbatch.partition;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import dev.pgbatch.core.BoundedLocks;
import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.SqlNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.step.StepContribution;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * partition-rollover, one change per transaction: the tasklet is called again and again, each call in a
 * transaction of its own that commits with the step's counts, and each call reads the catalog afresh and
 * makes the next change. So a run killed anywhere resumes from what was committed, and a run with
 * nothing to do changes nothing.
 *
 * <p>Rows of the default partition leave it for a staging table of their interval in batches (each its own
 * transaction: no long lock on a large default, unlike pg_partman's one statement per interval), which is
 * attached as the interval's partition once they are all out; meanwhile those rows are in the staging
 * table, not visible through the parent. A batch is the next rows of the interval after the last one moved, in
 * the default's physical order (a TID range scan from there): a pass reads the default once, where a batch that
 * looked for its rows from the start again read the rows moved before it too, as dead tuples, and the whole move
 * grew with the square of the rows. Rows written behind the pass (or moved there by a VACUUM FULL) are counted at
 * its end: more than a tenth of a batch start another pass (three at most), fewer go with the attach's last move,
 * which reads the whole default under its lock. Missing intervals from as-of's to as-of + premake are created as
 * partitions (indexes follow the parent); past ones only for rows that wait in the default partition.
 */
final class Rollover implements Tasklet {

	private static final Logger log = LoggerFactory.getLogger(Rollover.class);

	static final String CREATED = ExecutionReport.SUMMARY + "partitions-created";

	static final String MOVED = ExecutionReport.SUMMARY + "rows-moved";

	static final String ATTACHED = ExecutionReport.SUMMARY + "staging-attached";

	private final JdbcTemplate jdbc;

	private final List<PartitionPolicy> tables;

	private final LocalDate asOf;

	private final boolean dryRun;

	private final int batchRows;

	private final BoundedLocks locks;

	Rollover(JdbcTemplate jdbc, BoundedLocks locks, List<PartitionPolicy> tables, LocalDate asOf, boolean dryRun,
			int batchRows) {
		this.jdbc = jdbc;
		this.locks = locks;
		this.tables = tables;
		this.asOf = asOf;
		this.dryRun = dryRun;
		this.batchRows = batchRows;
	}

	@Override
	public RepeatStatus execute(StepContribution contribution, ChunkContext chunk) {
		ExecutionContext counts = chunk.getStepContext().getStepExecution().getExecutionContext();
		if (this.dryRun) {
			report(counts);
			return RepeatStatus.FINISHED;
		}
		for (String key : List.of(CREATED, MOVED, ATTACHED)) {
			counts.putLong(key, counts.getLong(key, 0));
		}
		for (PartitionPolicy policy : this.tables) {
			if (this.locks.run(policy.table(), () -> nextChange(PartitionedTable.read(this.jdbc, policy), counts))) {
				return RepeatStatus.CONTINUABLE;
			}
		}
		if (counts.getLong(CREATED, 0) + counts.getLong(MOVED, 0) + counts.getLong(ATTACHED, 0) == 0) {
			log.info("nothing to do: every partition up to as-of + premake exists and no default partition holds rows");
		}
		return RepeatStatus.FINISHED;
	}

	/** Makes the next change the table needs; false when it needs none. */
	private boolean nextChange(PartitionedTable table, ExecutionContext counts) {
		for (Map.Entry<LocalDate, String> staging : table.staging.entrySet()) {
			LocalDate start = staging.getKey();
			Pass pass = pass(table, staging.getValue(), counts);
			if (!pass.ended()) {
				Moved moved = moveBatch(table, staging.getValue(), start, pass.after());
				add(counts, MOVED, moved.rows());
				counts.putString(Pass.KEY, pass.next(moved, this.batchRows).stored());
			}
			else if (pass.passes() < Pass.MOST && left(table, start) > this.batchRows / 10) {
				counts.putString(Pass.KEY, pass.again().stored());
			}
			else {
				add(counts, MOVED, attach(table, staging.getValue(), start));
				add(counts, ATTACHED, 1);
				counts.remove(Pass.KEY);
			}
			return true;
		}
		Map<LocalDate, Long> inDefault = table.defaultRows(this.jdbc);
		for (LocalDate start : inDefault.keySet()) {
			if (!table.partitions.containsKey(start)) {
				createStaging(table, start);
				return true;
			}
		}
		for (LocalDate start : missing(table, inDefault)) {
			String name = table.policy.interval().partitionName(table.policy.name(), start);
			this.jdbc.execute("CREATE TABLE " + table.qualified(name) + " PARTITION OF " + table.parent()
					+ " FOR VALUES FROM (" + table.literal(start) + ") TO ("
					+ table.literal(table.policy.interval().plus(start, 1)) + ")");
			log.info("created {}.{}", table.policy.schema(), name);
			add(counts, CREATED, 1);
			return true;
		}
		return false;
	}

	/** What a run would do, written to the summary, changing nothing. */
	private void report(ExecutionContext counts) {
		long create = 0;
		long move = 0;
		for (PartitionPolicy policy : this.tables) {
			PartitionedTable table = PartitionedTable.read(this.jdbc, policy);
			Map<LocalDate, Long> inDefault = table.defaultRows(this.jdbc);
			List<LocalDate> creates = new ArrayList<>(missing(table, inDefault));
			inDefault.keySet().stream().filter(start -> !table.partitions.containsKey(start)
					&& !table.staging.containsKey(start)).forEach(creates::add);
			long rows = inDefault.values().stream().mapToLong(Long::longValue).sum();
			log.info("dry run: {} would get {} partitions {} and {} rows moved out of its default partition",
					policy.table(), creates.size(), creates.stream().map(start -> policy.interval().partitionName(policy.name(), start)).toList(), rows);
			create += creates.size();
			move += rows;
		}
		counts.putLong(ExecutionReport.SUMMARY + "would-create", create);
		counts.putLong(ExecutionReport.SUMMARY + "would-move", move);
	}

	/**
	 * The intervals from as-of's to as-of + premake that have neither a partition nor rows in the default,
	 * less those archive exported (a cold segment holds them): forward only. Past intervals are made only
	 * for rows waiting in the default partition; an empty partition made for an archived interval would be
	 * exported again by the next archive run, as a segment of nothing.
	 */
	private List<LocalDate> missing(PartitionedTable table, Map<LocalDate, Long> inDefault) {
		Interval interval = table.policy.interval();
		LocalDate first = interval.start(this.asOf);
		LocalDate last = interval.plus(first, table.policy.premake());
		TreeSet<LocalDate> missing = new TreeSet<>(PartitionedTable.intervals(interval, first, last));
		missing.removeAll(table.partitions.keySet());
		missing.removeAll(table.staging.keySet());
		missing.removeAll(inDefault.keySet());
		missing.removeAll(this.jdbc.queryForList("""
				SELECT DISTINCT (range_start AT TIME ZONE 'UTC')::date FROM ops.archive_log
				WHERE table_name = ? AND tier = 'cold' AND status = 'completed' AND range_start >= ?::timestamptz
				""", LocalDate.class, table.policy.table(), first + " 00:00:00+00"));
		return List.copyOf(missing);
	}

	/**
	 * The pass moving rows into this staging table: the one the step's context holds (kept across a restart: a row
	 * it skips is found at the pass's end), else a first one from the default's start.
	 */
	private Pass pass(PartitionedTable table, String staging, ExecutionContext context) {
		long oid = this.jdbc.queryForObject("SELECT to_regclass(?)::oid::bigint", Long.class, table.qualified(staging));
		Pass stored = Pass.of(context.getString(Pass.KEY, ""));
		return stored != null && stored.staging() == oid ? stored : Pass.first(oid);
	}

	/** The rows of the interval still in the default partition. */
	private long left(PartitionedTable table, LocalDate start) {
		return this.jdbc.queryForObject("SELECT count(*) FROM " + table.qualified(table.defaultPartition) + " WHERE "
				+ table.within(start), Long.class);
	}

	private void createStaging(PartitionedTable table, LocalDate start) {
		String name = table.policy.interval().partitionName(table.policy.name(), start);
		String staging = table.qualified(name);
		// the bounds as a constraint: ATTACH then needs no scan of the staging table to prove them
		this.jdbc.execute("CREATE TABLE " + staging + " (LIKE " + table.parent()
				+ " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES, CONSTRAINT " + boundsConstraint(name)
				+ " CHECK (" + table.within(start) + "))");
		this.jdbc.execute("COMMENT ON TABLE " + staging + " IS '" + PartitionedTable.STAGING_COMMENT + " of "
				+ table.policy.table() + "'");
		log.info("{}: rows of {} found in its default partition; moving them to {} in batches of {}",
				table.policy.table(), start, name, this.batchRows);
	}

	/** How many rows a batch moved, and the place in the default of the last one. */
	record Moved(long rows, String last) {
	}

	private Moved moveBatch(PartitionedTable table, String staging, LocalDate start, String after) {
		String from = table.qualified(table.defaultPartition);
		// the next rows in the default's physical order, from a TID range scan: an index on the key (the planner's
		// choice for a LIMIT) would give them in the key's order, and the pass would skip the rows between
		this.jdbc.execute("SET LOCAL enable_indexscan = off");
		this.jdbc.execute("SET LOCAL enable_bitmapscan = off");
		return this.jdbc.queryForObject("WITH moved AS (DELETE FROM " + from + " WHERE ctid = ANY (ARRAY(SELECT ctid FROM "
				+ from + " WHERE ctid > ?::tid AND " + table.within(start) + " LIMIT " + this.batchRows
				+ ")) RETURNING ctid AS pgbatch_moved_from, *), kept AS (INSERT INTO " + table.qualified(staging) + " ("
				+ table.columnList() + ") SELECT " + table.columnList() + " FROM moved) SELECT count(*),"
				+ " max(pgbatch_moved_from)::text FROM moved", (row, n) -> new Moved(row.getLong(1), row.getString(2)),
				after);
	}

	/**
	 * The last rows, then the attach, in one short transaction: writers of the default wait for it (EXCLUSIVE
	 * still lets readers read), so no row of the interval can slip in between. The parent is locked before
	 * the default, as the attach and archive's detach lock them: taken the other way round, the default
	 * first, they deadlocked with archive.
	 */
	private long attach(PartitionedTable table, String staging, LocalDate start) {
		String from = table.qualified(table.defaultPartition);
		this.jdbc.execute("LOCK TABLE " + table.parent() + " IN SHARE UPDATE EXCLUSIVE MODE");
		this.jdbc.execute("LOCK TABLE " + from + " IN EXCLUSIVE MODE");
		int moved = this.jdbc.update("WITH moved AS (DELETE FROM " + from + " WHERE " + table.within(start)
				+ " RETURNING *) INSERT INTO " + table.qualified(staging) + " (" + table.columnList() + ") SELECT "
				+ table.columnList() + " FROM moved");
		this.jdbc.execute("COMMENT ON TABLE " + table.qualified(staging) + " IS NULL");
		this.jdbc.execute("ALTER TABLE " + table.parent() + " ATTACH PARTITION " + table.qualified(staging)
				+ " FOR VALUES FROM (" + table.literal(start) + ") TO ("
				+ table.literal(table.policy.interval().plus(start, 1)) + ")");
		this.jdbc.execute("ALTER TABLE " + table.qualified(staging) + " DROP CONSTRAINT " + boundsConstraint(staging));
		log.info("attached {}.{}", table.policy.schema(), staging);
		return moved;
	}

	/**
	 * After a run that failed: the rows of every staging table go back to the default partition and the
	 * staging table is dropped, so that no row stays out of sight of the parent until the next run.
	 */
	static void undoStaging(JdbcTemplate jdbc, BoundedLocks locks, List<PartitionPolicy> tables) {
		for (PartitionPolicy policy : tables) {
			locks.execute(policy.table(), () -> {
				PartitionedTable table = PartitionedTable.read(jdbc, policy);
				for (String staging : table.staging.values()) {
					jdbc.execute("LOCK TABLE " + table.parent() + " IN SHARE UPDATE EXCLUSIVE MODE");
					long rows = jdbc.update("WITH moved AS (DELETE FROM " + table.qualified(staging) + " RETURNING *) INSERT INTO "
							+ table.qualified(table.defaultPartition) + " (" + table.columnList() + ") SELECT "
							+ table.columnList() + " FROM moved");
					jdbc.execute("DROP TABLE " + table.qualified(staging));
					log.info("{}: the run failed; {} rows of {} went back to the default partition", policy.table(), rows,
							staging);
				}
			});
		}
	}

	private static String boundsConstraint(String partition) {
		return SqlNames.quote(partition + "_bounds");
	}

	private static void add(ExecutionContext counts, String key, long amount) {
		counts.putLong(key, counts.getLong(key, 0) + amount);
	}

	/**
	 * A pass moving rows into a staging table: the staging table's oid (one made again after an undo starts afresh),
	 * the place in the default of the last row moved, whether the pass has reached the default's end (a batch moved
	 * fewer rows than asked), and how many passes there were.
	 */
	record Pass(long staging, String after, boolean ended, int passes) {

		static final String KEY = "rollover.pass";

		/** Passes before the attach takes whatever is left, so that writers that keep up cannot hold the move forever. */
		static final int MOST = 3;

		private static final String START = "(0,0)";

		static Pass first(long staging) {
			return new Pass(staging, START, false, 1);
		}

		Pass next(Moved moved, int batchRows) {
			return new Pass(this.staging, moved.last() == null ? this.after : moved.last(), moved.rows() < batchRows,
					this.passes);
		}

		Pass again() {
			return new Pass(this.staging, START, false, this.passes + 1);
		}

		String stored() {
			return this.staging + " " + this.after + " " + this.ended + " " + this.passes;
		}

		static Pass of(String stored) {
			String[] parts = stored.split(" ");
			if (parts.length != 4) {
				return null;
			}
			return new Pass(Long.parseLong(parts[0]), parts[1], Boolean.parseBoolean(parts[2]), Integer.parseInt(parts[3]));
		}

	}

}
