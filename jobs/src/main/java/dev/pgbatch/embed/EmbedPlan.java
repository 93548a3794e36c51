package dev.pgbatch.embed;

import org.springframework.batch.core.job.parameters.JobParameters;

/**
 * What one run embeds: the model, one store's products or all ("" for all), products per batch, and at most
 * how many (0: no limit).
 */
record EmbedPlan(ProductEmbeddingModel model, String store, int batchSize, long limit) {

	static EmbedPlan of(JobParameters parameters) {
		return new EmbedPlan(ProductEmbeddingModel.of(parameters.getString(EmbedProductsJob.MODEL)),
				parameters.getString(EmbedProductsJob.STORE, ""), parameters.getLong(EmbedProductsJob.BATCH_SIZE).intValue(),
				parameters.getLong(EmbedProductsJob.LIMIT));
	}

	boolean allStores() {
		return this.store.isEmpty();
	}

}
