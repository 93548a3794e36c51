package dev.pgbatch.seed;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * retail.products. Names and descriptions say what the product is (type, brand, material, colour, use,
 * features), so that semantic search over them finds the right things.
 */
final class ProductsTable implements SeedTable {

	private static final List<String> SERIES = List.of("Pro", "Air", "Max", "Lite", "Classic", "Sport", "Plus",
			"Ultra", "Studio", "Trail", "Essential", "Signature", "Urban", "Active", "Prime", "Select");

	private static final long DAY = 86_400;

	@Override
	public String name() {
		return "products";
	}

	@Override
	public long count(SeedModel model) {
		return model.plan.products();
	}

	@Override
	public List<String> copyTargets() {
		return List.of("retail.products (product_id, store_id, sku, product_name, product_description, category_id,"
				+ " brand, model, color, size, weight_kg, dimensions_cm, price, cost, current_stock, minimum_stock,"
				+ " maximum_stock, reorder_point, supplier_name, supplier_sku, is_active, is_featured, rating_average,"
				+ " rating_count, tags, metadata, created_at, updated_at)");
	}

	@Override
	public void write(SeedModel model, long row, List<BinaryCopy> out) {
		SplittableRandom random = model.random(SeedModel.PRODUCT, row);
		SeedModel.ProductBasics basics = model.productBasics(random);
		Catalog.Item item = basics.item();
		String brand = RowRandomness.pick(random, item.brands());
		String series = RowRandomness.pick(random, SERIES) + (random.nextInt(3) == 0 ? "" : " " + (2 + random.nextInt(8)));
		String color = RowRandomness.pick(random, model.catalog.colors());
		String material = RowRandomness.pick(random, item.materials());
		String use = RowRandomness.pick(random, item.uses());
		String otherUse = RowRandomness.pick(random, item.uses());
		String size = RowRandomness.pick(random, item.sizes());
		List<String> features = distinct(random, item.features(), 3);
		String name = brand + " " + item.type() + " " + series;
		String description = describe(random.nextInt(3), brand, item, series, color, material, use, otherUse, size,
				features);
		long weightGrams = Math.round(1000 * (item.minWeight() + random.nextDouble() * (item.maxWeight() - item.minWeight())));
		String dimensions = (10 + random.nextInt(90)) + "x" + (5 + random.nextInt(60)) + "x" + (2 + random.nextInt(40));
		long costCents = Math.round(basics.priceCents() * (0.4 + random.nextDouble() * 0.3));
		List<String> tags = distinct(random, model.catalog.tags(), 1 + random.nextInt(3));
		long created = model.plan.asOfEpochSecond() - (1 + random.nextInt(3 * 365)) * DAY + random.nextInt(86_400);
		long updated = Math.min(model.plan.asOfEpochSecond() - 1, created + random.nextInt(90) * DAY);
		out.get(0)
			.uuid(model.id(SeedModel.PRODUCT, row))
			.text(SeedModel.STORES.get(SeedModel.storeOfProduct(row)))
			.text(sku(brand, row))
			.text(name)
			.text(description)
			.int4(basics.category().id())
			.text(brand)
			.text(series)
			.text(color)
			.text(size)
			.thousandths(weightGrams)
			.text(dimensions)
			.cents(basics.priceCents())
			.cents(costCents)
			.int4(random.nextInt(101))
			.int4(5 + random.nextInt(16))
			.int4(1000)
			.int4(10 + random.nextInt(21))
			.text(RowRandomness.pick(random, model.companies))
			.text("SUP-" + RowRandomness.padded(random.nextInt(100_000_000), 8))
			.bool(true)
			.bool(random.nextInt(10) == 0)
			.cents(300 + random.nextInt(201))
			.int4(random.nextInt(501))
			.textArray(tags)
			.jsonb(metadata(material, use, features))
			.timestamp(created)
			.timestamp(updated)
			.endRow();
	}

	static String sku(String brand, long row) {
		StringBuilder prefix = new StringBuilder(3);
		for (int i = 0; i < brand.length() && prefix.length() < 3; i++) {
			char c = Character.toUpperCase(brand.charAt(i));
			if (c >= 'A' && c <= 'Z') {
				prefix.append(c);
			}
		}
		while (prefix.length() < 3) {
			prefix.append('X');
		}
		// The row number makes SKUs unique at any scale.
		return prefix + "-" + RowRandomness.padded(row, 7);
	}

	private static String describe(int template, String brand, Catalog.Item item, String series, String color,
			String material, String use, String otherUse, String size, List<String> features) {
		String type = item.type();
		String thing = item.typeInSentence();
		return switch (template) {
			case 0 -> "The " + brand + " " + type + " " + series + " is made of " + material + " and comes in "
					+ color.toLowerCase(Locale.ROOT) + ". Designed for " + use + ", it features " + features.get(0)
					+ " and " + features.get(1) + ". Size: " + size + ".";
			case 1 -> color + " " + thing + " by " + brand + ", crafted from " + material + " with " + features.get(0)
					+ ", " + features.get(1) + " and " + features.get(2) + ". Ideal for " + use
					+ (use.equals(otherUse) ? "" : " and " + otherUse) + ".";
			default -> "Built for " + use + ", this " + material + " " + thing + " from " + brand + " offers "
					+ features.get(0) + " and " + features.get(1) + ". Available in " + color.toLowerCase(Locale.ROOT)
					+ ", size " + size + ".";
		};
	}

	private static String metadata(String material, String use, List<String> features) {
		StringBuilder json = new StringBuilder(160).append("{\"material\": ").append(quote(material))
			.append(", \"use\": ").append(quote(use))
			.append(", \"features\": [");
		for (int i = 0; i < features.size(); i++) {
			json.append(i == 0 ? "" : ", ").append(quote(features.get(i)));
		}
		return json.append("]}").toString();
	}

	private static String quote(String value) {
		return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
	}

	private static List<String> distinct(SplittableRandom random, List<String> values, int count) {
		List<String> chosen = new ArrayList<>(count);
		int wanted = Math.min(count, values.size());
		while (chosen.size() < wanted) {
			String value = RowRandomness.pick(random, values);
			if (!chosen.contains(value)) {
				chosen.add(value);
			}
		}
		return chosen;
	}

}
