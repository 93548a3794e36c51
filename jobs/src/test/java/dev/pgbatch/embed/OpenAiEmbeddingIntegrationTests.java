package dev.pgbatch.embed;

import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;

import dev.langchain4j.model.openai.OpenAiTokenCountEstimator;
import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.JobRuns;
import dev.pgbatch.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.batch.core.BatchStatus;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * embed-products with text-embedding-3-small against a fake OpenAI-compatible server on loopback: requests
 * bounded by tokens, 429 and 5xx retried as the server asks, a refused text recorded and skipped until it
 * changes, the key sent and never shown.
 */
@ExtendWith(OutputCaptureExtension.class)
class OpenAiEmbeddingIntegrationTests extends DatabaseIntegrationTest {

	private static final String KEY = "sk-test-9f8e7d6c5b4a";

	private static final int REQUEST_TOKENS = 2000;

	private static final ProductEmbeddingModel MODEL = ProductEmbeddingModel.TEXT_EMBEDDING_3_SMALL;

	private static final FakeOpenAi SERVER = start();

	@Autowired
	ProductSearch search;

	@DynamicPropertySource
	static void openAi(DynamicPropertyRegistry registry) {
		registry.add("etl.embed.openai-api-key", () -> KEY);
		registry.add("etl.embed.openai-base-url", SERVER::baseUrl);
		registry.add("etl.embed.openai-request-tokens", () -> REQUEST_TOKENS);
		registry.add("etl.embed.openai-retries", () -> 3);
		registry.add("etl.embed.openai-max-backoff", () -> "200ms");
	}

	@AfterAll
	static void stop() {
		SERVER.close();
	}

	@BeforeEach
	void seedAndMarkOneProductRefused() throws SQLException {
		TestDatabase.madeOnce("seeded", this.dataSource, () -> EmbedRuns.seed(this.runner, 1));
		SERVER.reset();
	}

	@Test
	void requestsStayWithinTheTokenBudgetRetriesWaitAsAskedAndARefusedProductIsRecorded(CapturedOutput output) {
		UUID refused = markRefused();
		SERVER.failNext(new FakeOpenAi.Failure(429, 1), new FakeOpenAi.Failure(503, null));

		JobExecution run = EmbedRuns.embed(this.runner, "model=" + MODEL.id(), "store=seattle", "batch-size=64");

		long seattle = this.jdbc.queryForObject("SELECT count(*) FROM retail.products WHERE store_id = 'seattle'",
				Long.class);
		assertThat(EmbedRuns.embedded(run)).isEqualTo(seattle - 1);
		assertThat(EmbedRuns.summary(run, "embed", "failed")).isEqualTo(1);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM retail.product_embeddings WHERE embedding_model = ?"
				+ " AND dimensions = 1536 AND vector_dims(embedding) = 1536", Long.class, MODEL.id())).isEqualTo(seattle - 1);
		assertThat(this.jdbc.queryForObject(
				"SELECT error FROM retail.embedding_failures WHERE product_id = ? AND embedding_model = ?", String.class,
				refused, MODEL.id())).contains("the text was refused").doesNotContain(KEY);

		List<FakeOpenAi.Request> requests = SERVER.requests();
		assertThat(requests.get(0).status()).isEqualTo(429);
		assertThat(requests.get(1).atMillis() - requests.get(0).atMillis()).as("Retry-After: 1 honoured")
			.isGreaterThanOrEqualTo(1000);
		assertThat(requests.get(1).status()).isEqualTo(503);
		OpenAiTokenCountEstimator tokens = new OpenAiTokenCountEstimator(MODEL.id());
		assertThat(requests).allSatisfy(request -> {
			assertThat(request.authorization()).isEqualTo("Bearer " + KEY);
			assertThat(request.inputs().size() == 1
					|| request.inputs().stream().mapToInt(tokens::estimateTokenCountInText).sum() <= REQUEST_TOKENS)
				.as("a request of %d texts within %d tokens", request.inputs().size(), REQUEST_TOKENS)
				.isTrue();
		});
		long chunks = (seattle + 63) / 64;
		assertThat(requests.stream().filter(request -> request.status() == 200).count())
			.as("chunks cut into requests by tokens")
			.isGreaterThan(chunks);
		assertThat(output.getAll()).doesNotContain(KEY);
	}

	@Test
	void aRefusedProductIsSkippedUntilItsTextChanges() {
		UUID refused = markRefused();
		EmbedRuns.embed(this.runner, "model=" + MODEL.id(), "store=seattle");
		SERVER.reset();

		JobExecution again = EmbedRuns.embed(this.runner, "model=" + MODEL.id(), "store=seattle");
		assertThat(EmbedRuns.summary(again, "embed", "skipped")).isEqualTo(1);
		assertThat(EmbedRuns.embedded(again)).isZero();
		assertThat(SERVER.requests()).isEmpty();

		this.jdbc.update("UPDATE retail.products SET product_description = replace(product_description, ?, 'fixed')"
				+ " WHERE product_id = ?", FakeOpenAi.REFUSED_MARK, refused);
		assertThat(EmbedRuns.embedded(EmbedRuns.embed(this.runner, "model=" + MODEL.id(), "store=seattle"))).isOne();
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM retail.embedding_failures", Long.class)).isZero();
	}

	@Test
	void aServerThatKeepsFailingFailsTheRunAndARestartFinishesIt() {
		for (int i = 0; i < 4; i++) {
			SERVER.failNext(new FakeOpenAi.Failure(500, null));
		}
		JobExecution failed = JobRuns.run(this.runner, EmbedProductsJob.DEFINITION, "model=" + MODEL.id(),
				"store=seattle");
		assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM retail.product_embeddings", Long.class)).isZero();

		JobExecution restarted = this.runner.restart(failed.getId());
		assertThat(restarted.getStatus()).isEqualTo(BatchStatus.COMPLETED);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM retail.product_embeddings", Long.class))
			.isEqualTo(this.jdbc.queryForObject("SELECT count(*) FROM retail.products WHERE store_id = 'seattle'",
					Long.class));
	}

	@Test
	void twoModelsLiveSideBySideOnTheSameProductsAndSearchTakesEachOnItsOwn() {
		EmbedRuns.embed(this.runner, "model=" + MODEL.id(), "store=seattle");
		EmbedRuns.embed(this.runner, "model=" + ProductEmbeddingModel.ALL_MINILM_L6_V2.id(), "store=seattle");

		assertThat(this.jdbc.queryForList("""
				SELECT embedding_model || ' ' || dimensions || ' ' || count(*) FROM retail.product_embeddings
				GROUP BY embedding_model, dimensions ORDER BY 1
				""", String.class)).containsExactly("all-minilm-l6-v2 384 125", "text-embedding-3-small 1536 125");
		for (ProductEmbeddingModel model : ProductEmbeddingModel.values()) {
			List<ProductSearch.Hit> hits = this.search.search("a warm jacket for hiking", "seattle", model.id(), 5);
			assertThat(hits).hasSize(5);
		}
		// the fake server's vectors are a function of the text: the product's own text is its nearest
		String text = this.jdbc.queryForObject("SELECT embedding_text FROM retail.product_embeddings"
				+ " WHERE embedding_model = ? ORDER BY product_id LIMIT 1", String.class, MODEL.id());
		assertThat(this.search.search(text, "seattle", MODEL.id(), 1).get(0).similarity()).isCloseTo(1.0,
				org.assertj.core.data.Offset.offset(1e-5));
	}

	private UUID markRefused() {
		UUID product = this.jdbc.queryForObject(
				"SELECT product_id FROM retail.products WHERE store_id = 'seattle' ORDER BY sku OFFSET 40 LIMIT 1", UUID.class);
		this.jdbc.update("UPDATE retail.products SET product_description = product_description || ' ' || ?"
				+ " WHERE product_id = ?", FakeOpenAi.REFUSED_MARK, product);
		return product;
	}

	private static FakeOpenAi start() {
		try {
			return new FakeOpenAi();
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
