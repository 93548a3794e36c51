package dev.pgbatch.embed;

import org.springframework.batch.infrastructure.item.ItemProcessor;

/**
 * Makes a product's text and passes it on only when it needs embedding: its text differs from the one its
 * current embedding was made from, the model has not refused this very text before, and the run's limit is
 * not reached. Everything else is filtered (and counted).
 */
final class ProductTextProcessor implements ItemProcessor<ProductRow, ProductText> {

	private final ProductTextTemplate template;

	private final EmbedCounts counts;

	private final long limit;

	ProductTextProcessor(ProductTextTemplate template, EmbedCounts counts, long limit) {
		this.template = template;
		this.counts = counts;
		this.limit = limit;
	}

	@Override
	public ProductText process(ProductRow product) {
		String text = this.template.render(product);
		if (text.equals(product.embeddedText())) {
			this.counts.unchanged++;
			return null;
		}
		if (text.equals(product.refusedText())) {
			this.counts.skipped++;
			return null;
		}
		if (this.limit > 0 && this.counts.selected >= this.limit) {
			this.counts.overLimit++;
			return null;
		}
		this.counts.selected++;
		return new ProductText(product.productId(), product.storeId(), text);
	}

	/** Whether a product needs embedding, as {@link #process} decides it but without counting. */
	static boolean stale(ProductTextTemplate template, ProductRow product) {
		String text = template.render(product);
		return !text.equals(product.embeddedText()) && !text.equals(product.refusedText());
	}

}
