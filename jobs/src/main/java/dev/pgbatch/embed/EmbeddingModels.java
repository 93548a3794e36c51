package dev.pgbatch.embed;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import dev.langchain4j.model.openai.OpenAiTokenCountEstimator;

import org.springframework.stereotype.Component;

/**
 * The langchain4j models behind {@link ProductEmbeddingModel}, made on first use: loading the in-process
 * model takes seconds and hundreds of megabytes, which commands that embed nothing never pay.
 */
@Component
class EmbeddingModels {

	private final EmbedProperties properties;

	private final Map<ProductEmbeddingModel, EmbeddingModel> loaded = new EnumMap<>(ProductEmbeddingModel.class);

	EmbeddingModels(EmbedProperties properties) {
		this.properties = properties;
	}

	/** What stops the model from being used with these settings, or null when nothing does. */
	String problemWith(String modelId) {
		return ProductEmbeddingModel.problemWith(modelId, this.properties.hasApiKey());
	}

	/** One vector per text, in order, each of the model's dimensions. */
	List<float[]> embed(ProductEmbeddingModel model, List<String> texts) {
		List<TextSegment> segments = texts.stream().map(TextSegment::from).toList();
		return model(model).embedAll(segments).content().stream().map(embedding -> embedding.vector()).toList();
	}

	/**
	 * How many tokens a text counts for against {@link #requestTokens}: OpenAI's tokenizer for its models; the
	 * in-process model has no request to bound.
	 */
	ToIntFunction<String> tokenCounter(ProductEmbeddingModel model) {
		if (!model.remote()) {
			return text -> 0;
		}
		OpenAiTokenCountEstimator estimator = new OpenAiTokenCountEstimator(model.id());
		return estimator::estimateTokenCountInText;
	}

	int requestTokens(ProductEmbeddingModel model) {
		return model.remote() ? this.properties.openaiRequestTokens() : Integer.MAX_VALUE;
	}

	private synchronized EmbeddingModel model(ProductEmbeddingModel model) {
		return this.loaded.computeIfAbsent(model, this::load);
	}

	private EmbeddingModel load(ProductEmbeddingModel model) {
		String problem = problemWith(model.id());
		if (problem != null) {
			throw new IllegalStateException(problem);
		}
		return switch (model) {
			case ALL_MINILM_L6_V2 -> new AllMiniLmL6V2EmbeddingModel();
			case TEXT_EMBEDDING_3_SMALL -> OpenAiEmbeddingModel.builder()
				.baseUrl(this.properties.openaiBaseUrl())
				.apiKey(this.properties.openaiApiKey())
				.modelName(model.id())
				.dimensions(model.dimensions())
				.timeout(this.properties.openaiTimeout())
				.maxRetries(0)
				.httpClientBuilder(
						new RetryingHttpClient.Builder(this.properties.openaiRetries(), this.properties.openaiMaxBackoff()))
				.build();
		};
	}

}
