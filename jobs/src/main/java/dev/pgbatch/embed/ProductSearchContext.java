package dev.pgbatch.embed;

import dev.pgbatch.core.DatabaseContext;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Import;

/** What search needs: the {@link DatabaseContext}, the embedding models and {@link ProductSearch}. */
@Import({ DatabaseContext.class, ProductSearch.class, EmbeddingModels.class })
@EnableConfigurationProperties({ SearchProperties.class, EmbedProperties.class })
public final class ProductSearchContext {

	private ProductSearchContext() {
	}

}
