package dev.pgbatch.embed;

import java.util.UUID;

/**
 * A product as the template sees it, with the text its current embedding was made from and the text the
 * model last refused (both null when there is none).
 */
record ProductRow(UUID productId, String storeId, String name, String brand, String category, String description,
		String tags, String sku, String model, String color, String size, String embeddedText, String refusedText) {
}
