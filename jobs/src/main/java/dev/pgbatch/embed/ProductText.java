package dev.pgbatch.embed;

import java.util.UUID;

/** A product's text, to be embedded. */
record ProductText(UUID productId, String storeId, String text) {
}
