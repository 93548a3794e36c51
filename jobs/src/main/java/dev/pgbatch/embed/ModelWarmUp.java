package dev.pgbatch.embed;

import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.pgbatch.core.BackgroundThreads;

import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.logging.LoggingApplicationListener;
import org.springframework.context.ApplicationListener;
import org.springframework.core.Ordered;

/**
 * Loads the in-process model on a thread of its own while Spring starts (its class holds it; about a second here,
 * which search otherwise spent after the start): as soon as logging is set up, since the model's libraries log as
 * they load, and before that their lines would reach stdout unfiltered. A model of a server has nothing to load.
 */
public final class ModelWarmUp implements ApplicationListener<ApplicationEnvironmentPreparedEvent>, Ordered {

	private final ProductEmbeddingModel model;

	public ModelWarmUp(ProductEmbeddingModel model) {
		this.model = model;
	}

	@Override
	public int getOrder() {
		return LoggingApplicationListener.DEFAULT_ORDER + 1;
	}

	@Override
	public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
		if (this.model == ProductEmbeddingModel.ALL_MINILM_L6_V2) {
			BackgroundThreads.run("model warm-up", AllMiniLmL6V2EmbeddingModel::new);
		}
	}

}
