package dev.pgbatch.embed;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.TestDatabase;
import dev.pgbatch.core.UsageException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.database.JdbcCursorItemReader;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * embed-products with the in-process model on seed-data at scale 1. A load of 100 vectors or more counts as
 * large here, so the drop-and-build path of the HNSW index runs on this small catalogue.
 */
@TestPropertySource(properties = { "etl.embed.bulk-load-rows=100", "etl.partition.lock-timeout=300ms",
		"etl.partition.lock-tries=2" })
class EmbedProductsJobIntegrationTests extends DatabaseIntegrationTest {

	private static final String MODEL = ProductEmbeddingModel.ALL_MINILM_L6_V2.id();

	@BeforeEach
	void seed() throws SQLException {
		TestDatabase.madeOnce("seeded", this.dataSource, () -> EmbedRuns.seed(this.runner, 1));
	}

	/**
	 * Every product embedded by a run of the job, for the tests that start there rather than assert on that run: the
	 * first of them runs it, the next get a copy (the model's 500 embeddings take longer than the copy).
	 */
	private void embedded() throws SQLException {
		TestDatabase.madeOnce("embedded", this.dataSource, () -> EmbedRuns.embed(this.runner));
	}

	@Test
	void embedsEveryProductOnceWithTheTemplatesTextAndTheModelsDimensions() {
		JobExecution run = EmbedRuns.embed(this.runner);

		assertThat(EmbedRuns.embedded(run)).isEqualTo(500);
		assertThat(this.jdbc.queryForObject("""
				SELECT count(*) FROM retail.product_embeddings e JOIN retail.products p USING (product_id)
				WHERE e.embedding_model = ? AND e.dimensions = 384 AND vector_dims(e.embedding) = 384
				  AND e.store_id = p.store_id
				""", Long.class, MODEL)).isEqualTo(500);
		Map<String, Object> product = this.jdbc.queryForMap("""
				SELECT p.product_name, p.brand, c.category_name, p.product_description, array_to_string(p.tags, ', ') AS tags,
				       e.embedding_text
				FROM retail.products p JOIN retail.product_categories c USING (category_id)
				JOIN retail.product_embeddings e USING (product_id)
				WHERE p.brand IS NOT NULL AND p.tags IS NOT NULL AND cardinality(p.tags) > 0
				ORDER BY p.sku LIMIT 1
				""");
		assertThat(product.get("embedding_text")).isEqualTo(product.get("product_name") + "\nBrand: "
				+ product.get("brand") + "\nCategory: " + product.get("category_name") + "\n"
				+ product.get("product_description") + "\nTags: " + product.get("tags"));
	}

	@Test
	void aSecondRunEmbedsNothingAndOnlyTextChangesAreEmbeddedAgain() throws SQLException {
		embedded();
		JobExecution again = EmbedRuns.embed(this.runner);
		assertThat(EmbedRuns.embedded(again)).isZero();
		assertThat(EmbedRuns.summary(again, "embed", "unchanged")).isEqualTo(500);

		List<UUID> changed = this.jdbc.queryForList(
				"SELECT product_id FROM retail.products ORDER BY sku LIMIT 7", UUID.class);
		Map<UUID, Timestamp> before = updatedAt();
		this.jdbc.update("UPDATE retail.products SET product_description = product_description || ' Two-year warranty.'"
				+ " WHERE product_id = ANY (?)", (Object) changed.toArray(UUID[]::new));
		JobExecution afterDescriptions = EmbedRuns.embed(this.runner);
		assertThat(EmbedRuns.embedded(afterDescriptions)).isEqualTo(7);
		Map<UUID, Timestamp> after = updatedAt();
		assertThat(after.keySet().stream().filter(id -> !after.get(id).equals(before.get(id))))
			.containsExactlyInAnyOrderElementsOf(changed);

		this.jdbc.update("UPDATE retail.products SET price = price + 1, current_stock = current_stock + 3");
		assertThat(EmbedRuns.embedded(EmbedRuns.embed(this.runner))).as("price and stock are not in the template")
			.isZero();
	}

	@Test
	void storeAndLimitBoundWhatOneRunEmbeds() {
		JobExecution first = EmbedRuns.embed(this.runner, "store=seattle", "limit=50", "batch-size=16");
		assertThat(EmbedRuns.embedded(first)).isEqualTo(50);
		assertThat(this.jdbc.queryForList("SELECT DISTINCT store_id FROM retail.product_embeddings", String.class))
			.containsExactly("seattle");

		EmbedRuns.embed(this.runner, "store=seattle");
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM retail.product_embeddings", Long.class))
			.isEqualTo(this.jdbc.queryForObject("SELECT count(*) FROM retail.products WHERE store_id = 'seattle'",
					Long.class));
	}

	@Test
	void aRestartAfterAStopCountsEveryProductOnceAndEmbeddedIsWhatItWrote() throws Exception {
		long newest = this.jdbc.queryForObject("SELECT coalesce(max(job_execution_id), 0) FROM etl.batch_job_execution",
				Long.class);
		CompletableFuture<JobExecution> run = CompletableFuture
			.supplyAsync(() -> JobRuns.run(this.runner, EmbedProductsJob.DEFINITION, "batch-size=8"));
		long id = awaitCommittedChunks(3, newest);
		// the job's reader streams: its session holds the cursor's transaction open while the chunks go on. One
		// that had loaded every product at once (autocommit on: PgJDBC ignores the fetch size) would sit idle.
		assertThat(this.jdbc.queryForList("SELECT state FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
				+ " AND datname = current_database() AND query LIKE '%JOIN retail.embedding_failures f ON%'", String.class))
			.containsAnyOf("idle in transaction", "active");
		this.runner.stop(id);
		JobExecution stopped = run.get(2, TimeUnit.MINUTES);
		assertThat(stopped.getStatus()).isEqualTo(BatchStatus.STOPPED);
		long before = EmbedRuns.embedded(stopped);
		assertThat(before).isBetween(24L, 499L);

		JobExecution restarted = this.runner.restart(id);

		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		StepExecution embed = restarted.getStepExecutions()
			.stream()
			.filter(step -> step.getStepName().equals("embed"))
			.findFirst()
			.orElseThrow();
		assertThat(embed.getReadCount()).isEqualTo(500);
		assertThat(EmbedRuns.embedded(restarted)).isEqualTo(embed.getWriteCount()).isEqualTo(500 - before);
		assertThat(EmbedRuns.summary(restarted, "embed", "unchanged")).isEqualTo(before);
		assertThat(Stream.of("embedded", "failed", "skipped", "unchanged", "over-limit")
			.mapToLong(count -> EmbedRuns.summary(restarted, "embed", count))
			.sum()).isEqualTo(embed.getReadCount());
	}

	/** The rows the reader's result set holds in memory (PgJDBC's own list: no API tells). */
	private static int rowsHeld(JdbcCursorItemReader<?> reader) throws Exception {
		java.lang.reflect.Field resultSet = org.springframework.batch.infrastructure.item.database.AbstractCursorItemReader.class
			.getDeclaredField("rs");
		resultSet.setAccessible(true);
		Object pg = ((java.sql.ResultSet) resultSet.get(reader)).unwrap(org.postgresql.jdbc.PgResultSet.class);
		java.lang.reflect.Field rows = org.postgresql.jdbc.PgResultSet.class.getDeclaredField("rows");
		rows.setAccessible(true);
		return ((List<?>) rows.get(pg)).size();
	}

	/** This run's execution, not one an interrupted earlier run left STARTED. */
	private long awaitCommittedChunks(int chunks, long after) {
		return await("the run commits " + chunks + " chunks").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(20))
			.until(() -> this.jdbc.queryForObject("""
					SELECT max(e.job_execution_id) FROM etl.batch_job_execution e
					JOIN etl.batch_step_execution s ON s.job_execution_id = e.job_execution_id
					WHERE e.status = 'STARTED' AND s.step_name = 'embed' AND s.commit_count >= ? AND e.job_execution_id > ?
					""", Long.class, chunks, after), Objects::nonNull);
	}

	@Test
	void theReaderStreamsThroughACursorInsteadOfHoldingEveryProduct() throws Exception {
		JdbcCursorItemReader<ProductRow> reader = ProductQuery.reader(this.jdbc.getDataSource(),
				new EmbedPlan(ProductEmbeddingModel.ALL_MINILM_L6_V2, "", 64, 0), 10);
		reader.open(new ExecutionContext());
		try {
			assertThat(reader.read()).isNotNull();
			// the rows the driver holds: one fetch of 10, not all 500 (autocommit on makes it ignore the fetch size)
			assertThat(rowsHeld(reader)).isEqualTo(10);
			int read = 1;
			while (reader.read() != null) {
				read++;
			}
			assertThat(read).isEqualTo(500);
		}
		finally {
			reader.close();
		}
	}

	@Test
	void anUnknownStoreOrModelIsRefusedBeforeAnythingIsWritten() {
		long instances = jobInstances();
		assertThatThrownBy(() -> JobRuns.run(this.runner, EmbedProductsJob.DEFINITION, "store=atlantis"))
			.isInstanceOf(UsageException.class)
			.hasMessageContaining("unknown store 'atlantis'")
			.hasMessageContaining("seattle");
		assertThatThrownBy(() -> JobRuns.run(this.runner, EmbedProductsJob.DEFINITION, "model=word2vec"))
			.isInstanceOf(UsageException.class)
			.hasMessageContaining("unknown model 'word2vec'");
		assertThat(jobInstances()).isEqualTo(instances);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM retail.product_embeddings", Long.class)).isZero();
	}

	@Test
	void aLargeLoadBuildsTheModelsIndexAtItsEndAndASmallOneKeepsIt() {
		JobExecution large = EmbedRuns.embed(this.runner);
		assertThat(EmbedRuns.summary(large, "index", "index-built-with-mb")).isGreaterThanOrEqualTo(64);
		assertThat(indexValid()).isTrue();

		this.jdbc.update("UPDATE retail.products SET product_name = product_name || ' II'"
				+ " WHERE product_id IN (SELECT product_id FROM retail.products ORDER BY sku LIMIT 3)");
		JobExecution small = EmbedRuns.embed(this.runner);
		assertThat(EmbedRuns.embedded(small)).isEqualTo(3);
		assertThat(EmbedRuns.summary(small, "index", "index-built-with-mb")).as("the index was kept").isEqualTo(-1);
		assertThat(indexValid()).isTrue();
	}

	@Test
	void aLargeLoadBesideALongReaderKeepsTheIndexInsteadOfQueueingEveryReaderBehindItsDrop() throws Exception {
		EmbedRuns.embed(this.runner, "limit=100");
		try (Connection reader = TestDatabase.connect(); Statement statement = reader.createStatement()) {
			reader.setAutoCommit(false);
			statement.execute("SELECT count(*) FROM retail.product_embeddings");

			// on a DROP INDEX that waits for the reader, the run would wait as long as the reader holds on
			JobExecution large = CompletableFuture.supplyAsync(() -> EmbedRuns.embed(this.runner)).get(3, TimeUnit.MINUTES);

			assertThat(EmbedRuns.embedded(large)).isEqualTo(400);
			assertThat(EmbedRuns.summary(large, "index", "index-built-with-mb")).as("the index was kept").isEqualTo(-1);
			assertThat(indexValid()).isTrue();
			reader.rollback();
		}
	}

	@Test
	void anIndexBuildBehindAWriterThatHoldsOnFailsInBoundedTimeAndTheRestartBuildsIt() throws Exception {
		embedded();
		this.jdbc.execute("DROP INDEX retail." + ProductEmbeddingModel.ALL_MINILM_L6_V2.indexName());
		JobExecution failed;
		try (Connection writer = TestDatabase.connect(); Statement statement = writer.createStatement()) {
			writer.setAutoCommit(false);
			statement.execute("UPDATE retail.product_embeddings SET updated_at = updated_at WHERE false");

			failed = CompletableFuture.supplyAsync(() -> JobRuns.run(this.runner, EmbedProductsJob.DEFINITION))
				.get(3, TimeUnit.MINUTES);
			writer.rollback();
		}

		assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
		assertThat(failed.getAllFailureExceptions()).singleElement()
			.satisfies(failure -> assertThat(failure).hasMessageContaining("a lock was not granted in 2 tries"));
		assertThat(indexValid()).isFalse();
		JobExecution restarted = this.runner.restart(failed.getId());
		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(indexValid()).isTrue();
	}

	private boolean indexValid() {
		return Boolean.TRUE.equals(this.jdbc.queryForObject(
				"SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(?)), false)", Boolean.class,
				"retail." + ProductEmbeddingModel.ALL_MINILM_L6_V2.indexName()));
	}

	private long jobInstances() {
		return this.jdbc.queryForObject("SELECT count(*) FROM etl.batch_job_instance WHERE job_name = ?", Long.class,
				EmbedProductsJob.NAME);
	}

	private Map<UUID, Timestamp> updatedAt() {
		Map<UUID, Timestamp> times = new java.util.HashMap<>();
		this.jdbc.query("SELECT product_id, updated_at FROM retail.product_embeddings",
				row -> { times.put(row.getObject(1, UUID.class), row.getTimestamp(2)); });
		return times;
	}

}
