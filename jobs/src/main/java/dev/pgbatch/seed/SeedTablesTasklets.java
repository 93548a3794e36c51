package dev.pgbatch.seed;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.pgbatch.core.RefusedException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.step.StepContribution;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.jdbc.core.JdbcTemplate;

/** The steps around the COPY steps: make room before, create partitions, analyse after. */
final class SeedTablesTasklets {

	private static final Logger log = LoggerFactory.getLogger(SeedTablesTasklets.class);

	/** The tables seed-data fills, children before parents (the order TRUNCATE and the checks use). */
	static final List<String> SEEDED_TABLES = List.of("retail.sales_transaction_items", "retail.sales_transactions",
			"retail.products", "retail.customers", "retail.product_categories", "retail.stores",
			"ops.task_executions", "ops.tasks", "ops.agents", "ops.users");

	/**
	 * Derived from the seeded tables, so emptied with them: the archive tables too, since a seed's rows are
	 * the same every time and archiving them again would meet their own keys.
	 */
	private static final List<String> DERIVED_TABLES = List.of("retail.product_embeddings",
			"retail.embedding_failures", "ops.agent_performance_summary", "retail.sales_transaction_items_archive",
			"retail.sales_transactions_archive");

	/** What a reset empties. */
	private static final List<String> RESET_TABLES = Stream.concat(SEEDED_TABLES.stream(),
			DERIVED_TABLES.stream()).toList();

	static final String NOT_EMPTY = "%s already holds rows: run seed-data with reset=true to empty the seeded tables and seed again";

	static final String COLD_SEGMENTS = "reset=true refused: %d cold segments of %s are not restored, and a reset would leave their rows unrestorable (no parent rows) or in two places; restore them first with archive restore, see archive list";

	/** The cold segments of the tables a reset empties that hold rows only in the object store. */
	private static final String LIVE_SEGMENTS = """
			SELECT table_name, count(*) FROM ops.archive_log
			WHERE tier = 'cold' AND status = 'completed' AND table_name = ANY (?) GROUP BY table_name ORDER BY table_name
			""";

	private SeedTablesTasklets() {
	}

	/**
	 * Indexes and foreign keys that an earlier run set aside and did not get to create again (it was killed,
	 * or abandoned), created now and committed whatever the next step decides.
	 */
	static Tasklet recover(JdbcTemplate jdbc) {
		return (contribution, context) -> {
			new DeferredDdl(jdbc).restore();
			return RepeatStatus.FINISHED;
		};
	}

	/**
	 * reset=true empties the seeded tables; otherwise they must be empty, so seeding never mixes with other
	 * data. Then the secondary indexes and foreign keys are set aside until the load is done.
	 */
	static Tasklet prepare(JdbcTemplate jdbc, boolean audit) {
		return (StepContribution contribution, ChunkContext context) -> {
			SeedPlan plan = SeedPlan.of(context.getStepContext().getStepExecution().getJobParameters());
			// every table the DDL below changes, before anything else (see DeferredDdl.lockInDumpOrder)
			DeferredDdl.lockInDumpOrder(jdbc, plan.reset() ? RESET_TABLES : SEEDED_TABLES);
			if (plan.reset()) {
				refuseLiveSegments(jdbc);
			}
			else {
				for (String table : SEEDED_TABLES) {
					if (Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM " + table + ")", Boolean.class))) {
						throw new IllegalStateException(String.format(NOT_EMPTY, table));
					}
				}
			}
			// Indexes first: TRUNCATE then has fewer files to replace and sync.
			List<String> shadows = new DeferredDdl(jdbc).drop(SEEDED_TABLES, audit);
			if (plan.reset()) {
				// the shadows' foreign keys reference the seeded tables: they are emptied with them (they are empty)
				List<String> emptied = new ArrayList<>(RESET_TABLES);
				emptied.addAll(shadows);
				jdbc.execute("TRUNCATE " + String.join(", ", emptied));
				log.info("reset: emptied {}", String.join(", ", SEEDED_TABLES));
			}
			return RepeatStatus.FINISHED;
		};
	}

	/**
	 * A reset with cold segments not restored would break the archive's promise: with another seed their rows
	 * find no parent rows and no longer restore, with the same one they come back into the tables while their
	 * segments still hold them. Checked under the partitions lock the job holds from its start (PartitionLock),
	 * so no archive or restore changes the segments between this check and the reset.
	 */
	private static void refuseLiveSegments(JdbcTemplate jdbc) {
		Map<String, Long> live = new LinkedHashMap<>();
		jdbc.query(LIVE_SEGMENTS, row -> {
			live.put(row.getString(1), row.getLong(2));
		}, (Object) RESET_TABLES.toArray(String[]::new));
		if (!live.isEmpty()) {
			throw new RefusedException(String.format(COLD_SEGMENTS, live.values().stream().mapToLong(Long::longValue).sum(),
					String.join(", ", live.keySet())));
		}
	}

	/**
	 * The monthly partitions of ops.task_executions over the seeded history, so no row lands in the default;
	 * of a table whose audit trigger is off, with writes revoked as on its other partitions.
	 */
	static Tasklet partitions(JdbcTemplate jdbc, SeedModels models) {
		return (contribution, context) -> {
			SeedModel model = models.of(context.getStepContext().getStepExecution().getJobParameters());
			LocalDate asOf = model.plan.asOf();
			LocalDate month = asOf.minusMonths(SeedPlan.HISTORY_MONTHS).withDayOfMonth(1);
			List<Long> existing = jdbc.queryForList(TASK_EXECUTIONS_TREE, Long.class);
			for (; !month.isAfter(asOf); month = month.plusMonths(1)) {
				jdbc.queryForObject("SELECT ops.ensure_monthly_partition('ops.task_executions'::regclass, ?)",
						String.class, month);
			}
			// made while the audit triggers are off: no write on them for others either
			List<Long> made = new ArrayList<>(jdbc.queryForList(TASK_EXECUTIONS_TREE, Long.class));
			made.removeAll(existing);
			new DeferredDdl(jdbc).revokeWritesOnNewPartitions(made);
			return RepeatStatus.FINISHED;
		};
	}

	/** ops.task_executions and its partitions: read before and after the partitions step makes its own. */
	private static final String TASK_EXECUTIONS_TREE = "SELECT relid::oid::bigint FROM pg_partition_tree('ops.task_executions')";

	/** After the retail load: categories were written with their ids, so the identity must start after them. */
	static final String RETAIL_AFTER_LOAD = """
			SELECT setval(pg_get_serial_sequence('retail.product_categories', 'category_id'),
			              (SELECT max(category_id) FROM retail.product_categories))
			""";

	/** After the ops load: the summary its set-aside trigger would have kept. */
	static final String OPS_AFTER_LOAD = "SELECT ops.rebuild_agent_performance_summary()";

	/**
	 * The deferred indexes, foreign keys and triggers of a schema again, what the schema needs after a bulk
	 * load, and fresh statistics for the first queries (unless analyze=false).
	 */
	static Tasklet finish(JdbcTemplate jdbc, String schema, String afterLoad) {
		return (contribution, context) -> {
			new DeferredDdl(jdbc).restore(schema);
			jdbc.queryForRowSet(afterLoad);
			if (SeedPlan.of(context.getStepContext().getStepExecution().getJobParameters()).analyze()) {
				jdbc.execute("ANALYZE " + String.join(", ",
						SEEDED_TABLES.stream().filter(table -> table.startsWith(schema + ".")).toList()));
			}
			return RepeatStatus.FINISHED;
		};
	}

}
