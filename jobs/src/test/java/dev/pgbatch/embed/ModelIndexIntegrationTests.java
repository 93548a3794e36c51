package dev.pgbatch.embed;

import dev.pgbatch.DatabaseIntegrationTest;
import dev.pgbatch.partition.PartitionProperties;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/** The HNSW build after a large load, on 2,000 vectors of 384 dimensions. */
class ModelIndexIntegrationTests extends DatabaseIntegrationTest {

	private static final ProductEmbeddingModel MODEL = ProductEmbeddingModel.ALL_MINILM_L6_V2;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	PlatformTransactionManager transactionManager;

	@Autowired
	PartitionProperties partitions;

	@Test
	void theBuildIsGivenMemoryForItsWholeGraphAndSaysWhenItDidNotFit() throws Exception {
		EmbedRuns.seededAtScale4(this.runner, this.dataSource);
		// random vectors: the build's memory depends on their number and size, not on what they mean
		this.jdbc.update("""
				INSERT INTO retail.product_embeddings (product_id, store_id, embedding_model, dimensions, embedding_text, embedding)
				SELECT p.product_id, p.store_id, ?, 384, p.product_name,
				       (SELECT array_agg(random() - 0.5)::real[]::vector FROM generate_series(1, 384) WHERE p.product_id IS NOT NULL)
				FROM retail.products p
				""", MODEL.id());
		ModelIndex index = new ModelIndex(this.jdbc, MODEL, this.partitions.locks(this.transactionManager, this.jdbc));
		assertThat(index.drop()).isTrue();

		ModelIndex.Build sized = inTransaction(() -> index.build(8L << 30));
		assertThat(sized.memory()).isEqualTo(ModelIndex.memoryFor(2000, 384));
		assertThat(sized.spilled()).isFalse();
		assertThat(inTransaction(() -> index.build(8L << 30))).as("an index that is there is left alone").isNull();

		assertThat(index.drop()).isTrue();
		ModelIndex.Build starved = inTransaction(() -> index.build(1L << 20));
		assertThat(starved.spilled()).as("pgvector's notice is seen when the graph does not fit").isTrue();
		assertThat(index.exists()).isTrue();
	}

	/** As in the job's index step: SET LOCAL holds for the transaction the build runs in. */
	private <T> T inTransaction(java.util.function.Supplier<T> work) {
		return this.transactions.execute(status -> work.get());
	}

}
