package dev.pgbatch.embed;

import java.util.UUID;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProductTextTemplateTests {

	private static ProductRow product(String brand, String tags) {
		return new ProductRow(UUID.randomUUID(), "seattle", "Sony Wireless Headphones Pro", brand, "Electronics",
				"Built for long-haul flights.", tags, "SKU-1", "WH-1000", "Black", "One Size", null, null);
	}

	@Test
	void theDefaultTemplateWritesOneLinePerField() {
		assertThat(ProductTextTemplate.parse(ProductTextTemplate.DEFAULT).render(product("Sony", "popular, premium")))
			.isEqualTo("Sony Wireless Headphones Pro\nBrand: Sony\nCategory: Electronics\nBuilt for long-haul flights.\n"
					+ "Tags: popular, premium");
	}

	@Test
	void aLineWhoseFieldsAreAllEmptyIsLeftOut() {
		assertThat(ProductTextTemplate.parse(ProductTextTemplate.DEFAULT).render(product(null, " ")))
			.isEqualTo("Sony Wireless Headphones Pro\nCategory: Electronics\nBuilt for long-haul flights.");
	}

	@Test
	void fieldsCanShareALineAndLiteralLinesStay() {
		assertThat(ProductTextTemplate.parse("Product\n{name} ({color}, {size})").render(product("Sony", null)))
			.isEqualTo("Product\nSony Wireless Headphones Pro (Black, One Size)");
	}

	@Test
	void anUnknownFieldOrNoFieldAtAllIsRefusedNamingTheKnownOnes() {
		assertThatThrownBy(() -> ProductTextTemplate.parse("{name} {price}")).isInstanceOf(IllegalArgumentException.class)
			.hasMessage("ETL_EMBED_TEMPLATE: unknown field {price} (known: brand, category, color, description, model, name,"
					+ " size, sku, tags)");
		assertThatThrownBy(() -> ProductTextTemplate.parse("just words")).isInstanceOf(IllegalArgumentException.class)
			.hasMessageStartingWith("ETL_EMBED_TEMPLATE: the template names no field");
	}

}
