package dev.pgbatch.seed;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.Yaml;

/** The retail catalogue of seed/catalog.yml: categories, item types and the words that describe them. */
record Catalog(List<String> colors, List<String> tags, List<Category> categories) {

	record Category(int id, String name, String description, List<Item> items) {
	}

	record Item(String type, String typeInSentence, List<String> brands, List<String> materials, List<String> uses,
			List<String> features, List<String> sizes, double minPrice, double maxPrice, double minWeight,
			double maxWeight) {
	}

	/** "Smart TV" reads "smart TV" inside a sentence: plain capitalised words are lowered, acronyms kept. */
	private static final Pattern PLAIN_WORD = Pattern.compile("\\b([A-Z])([a-z]+)\\b");

	@SuppressWarnings("unchecked")
	static Catalog load() {
		try (InputStream in = Catalog.class.getResourceAsStream("/seed/catalog.yml")) {
			Map<String, Object> root = new Yaml().load(in);
			List<Map<String, Object>> categories = (List<Map<String, Object>>) root.get("categories");
			List<Category> loaded = new java.util.ArrayList<>();
			for (int i = 0; i < categories.size(); i++) {
				Map<String, Object> category = categories.get(i);
				List<Item> items = ((List<Map<String, Object>>) category.get("items")).stream().map(Catalog::item).toList();
				loaded.add(new Category(i + 1, (String) category.get("name"), (String) category.get("description"), items));
			}
			return new Catalog((List<String>) root.get("colors"), (List<String>) root.get("tags"), List.copyOf(loaded));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	@SuppressWarnings("unchecked")
	private static Item item(Map<String, Object> item) {
		List<Number> price = (List<Number>) item.get("price");
		List<Number> weight = (List<Number>) item.get("weight_kg");
		String type = (String) item.get("type");
		String inSentence = PLAIN_WORD.matcher(type)
			.replaceAll(match -> match.group(1).toLowerCase(Locale.ROOT) + match.group(2));
		return new Item(type, inSentence, strings(item, "brands"), strings(item, "materials"),
				strings(item, "uses"), strings(item, "features"), strings(item, "sizes"), price.get(0).doubleValue(),
				price.get(1).doubleValue(), weight.get(0).doubleValue(), weight.get(1).doubleValue());
	}

	@SuppressWarnings("unchecked")
	private static List<String> strings(Map<String, Object> item, String key) {
		return ((List<Object>) item.get(key)).stream().map(String::valueOf).toList();
	}

}
