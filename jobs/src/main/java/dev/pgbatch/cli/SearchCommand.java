package dev.pgbatch.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.pgbatch.core.UsageException;
import dev.pgbatch.embed.ModelWarmUp;
import dev.pgbatch.embed.ProductEmbeddingModel;
import dev.pgbatch.embed.ProductSearch;
import dev.pgbatch.embed.ProductSearchContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "search", mixinStandardHelpOptions = true,
		description = "Semantic search in one store's products, as the application's role (mcp_user) under row-level security.")
class SearchCommand implements Callable<Integer> {

	static final int MAX_LIMIT = 1000;

	@Parameters(index = "0", paramLabel = "TEXT", description = "What to look for, in words.")
	String text;

	@Option(names = "--store", required = true, paramLabel = "STORE", description = "The store: a store_id of retail.stores (seed-data makes seattle, redmond, bellevue and online).")
	String store;

	@Option(names = "--limit", paramLabel = "N", defaultValue = "10", description = "At most this many products (default: ${DEFAULT-VALUE}).")
	int limit;

	@Option(names = "--model", paramLabel = "M",
			description = "The embedding model (default: text-embedding-3-small when OPENAI_API_KEY is set, else all-minilm-l6-v2).")
	String model;

	@Mixin
	JsonOption json;

	/** What the command printed, as one JSON document. */
	record Result(String query, String store, String model, List<ProductSearch.Hit> products) {
	}

	@Override
	public Integer call() {
		if (this.text.isBlank()) {
			throw new UsageException("TEXT is empty: say what to look for");
		}
		if (this.limit < 1 || this.limit > MAX_LIMIT) {
			throw new UsageException("--limit must be between 1 and " + MAX_LIMIT + ", got " + this.limit);
		}
		String modelId = (this.model != null) ? this.model : ProductEmbeddingModel.byDefault().id();
		String problem = ProductEmbeddingModel.problemWith(modelId, true);
		if (problem != null) {
			throw new UsageException("--model: " + problem);
		}
		try (ConfigurableApplicationContext context = SpringRuntime.startOnly(ProductSearchContext.class,
				new ModelWarmUp(ProductEmbeddingModel.of(modelId)))) {
			List<ProductSearch.Hit> hits = context.getBean(ProductSearch.class)
				.search(this.text, this.store, modelId, this.limit);
			if (this.json.on) {
				Output.json(new Result(this.text, this.store, modelId, hits));
			}
			else {
				System.out.printf(Locale.ROOT, "%-36s  %-50s  %-20s  %10s  %10s%n", "product_id", "name", "brand", "price",
						"similarity");
				for (ProductSearch.Hit hit : hits) {
					System.out.printf(Locale.ROOT, "%-36s  %-50.50s  %-20.20s  %10s  %10.4f%n", hit.productId(), hit.name(),
							hit.brand() == null ? "" : hit.brand(), hit.price(), hit.similarity());
				}
			}
			return Cli.OK;
		}
	}

}
