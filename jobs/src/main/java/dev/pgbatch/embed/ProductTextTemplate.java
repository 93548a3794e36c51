package dev.pgbatch.embed;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text embedded for a product, from a template with {field} placeholders. A line whose fields are all
 * empty is left out ("Brand: " says nothing), so a missing brand does not shift the vector. Only the fields
 * in the template decide whether an embedding is stale: a change of price or stock re-embeds nothing.
 */
final class ProductTextTemplate {

	static final String DEFAULT = "{name}\nBrand: {brand}\nCategory: {category}\n{description}\nTags: {tags}";

	static final Map<String, Function<ProductRow, String>> FIELDS = Map.of("name", ProductRow::name, "brand",
			ProductRow::brand, "category", ProductRow::category, "description", ProductRow::description, "tags",
			ProductRow::tags, "sku", ProductRow::sku, "model", ProductRow::model, "color", ProductRow::color, "size",
			ProductRow::size);

	static final String UNKNOWN_FIELD = "ETL_EMBED_TEMPLATE: unknown field {%s} (known: %s)";

	static final String NO_FIELD = "ETL_EMBED_TEMPLATE: the template names no field (known: %s)";

	private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z_]+)}");

	/** Each line as alternating literal text and field names: literal, field, literal, ..., literal. */
	private final List<List<String>> lines;

	private ProductTextTemplate(List<List<String>> lines) {
		this.lines = lines;
	}

	/** The template, or an {@link IllegalArgumentException} naming what is wrong with it. */
	static ProductTextTemplate parse(String template) {
		List<List<String>> lines = new ArrayList<>();
		boolean anyField = false;
		for (String line : template.split("\n", -1)) {
			List<String> parts = new ArrayList<>();
			Matcher matcher = PLACEHOLDER.matcher(line);
			int end = 0;
			while (matcher.find()) {
				String field = matcher.group(1);
				if (!FIELDS.containsKey(field)) {
					throw new IllegalArgumentException(String.format(UNKNOWN_FIELD, field, known()));
				}
				parts.add(line.substring(end, matcher.start()));
				parts.add(field);
				end = matcher.end();
				anyField = true;
			}
			parts.add(line.substring(end));
			lines.add(parts);
		}
		if (!anyField) {
			throw new IllegalArgumentException(String.format(NO_FIELD, known()));
		}
		return new ProductTextTemplate(lines);
	}

	String render(ProductRow product) {
		StringBuilder text = new StringBuilder();
		for (List<String> parts : this.lines) {
			StringBuilder line = new StringBuilder(parts.get(0));
			boolean hasFields = parts.size() > 1;
			boolean anyValue = false;
			for (int i = 1; i < parts.size(); i += 2) {
				String value = FIELDS.get(parts.get(i)).apply(product);
				if (value != null && !value.isBlank()) {
					line.append(value.strip());
					anyValue = true;
				}
				line.append(parts.get(i + 1));
			}
			if (!hasFields || anyValue) {
				if (text.length() > 0) {
					text.append('\n');
				}
				text.append(line.toString().strip());
			}
		}
		return text.toString().strip();
	}

	private static String known() {
		return String.join(", ", FIELDS.keySet().stream().sorted().toList());
	}

}
