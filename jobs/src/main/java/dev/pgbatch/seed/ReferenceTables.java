package dev.pgbatch.seed;

import java.util.List;

/** The four stores of seed 004 and the categories of the catalogue. */
final class ReferenceTables {

	private static final long DAY = 86_400;

	private ReferenceTables() {
	}

	static final SeedTable STORES = new SeedTable() {

		private static final List<List<String>> ROWS = List.of(
				List.of("seattle", "Zava Retail Seattle", "Seattle, WA", "flagship", "west"),
				List.of("redmond", "Zava Retail Redmond", "Redmond, WA", "standard", "west"),
				List.of("bellevue", "Zava Retail Bellevue", "Bellevue, WA", "standard", "west"),
				List.of("online", "Zava Retail Online", "Digital", "ecommerce", "global"));

		@Override
		public String name() {
			return "stores";
		}

		@Override
		public long count(SeedModel model) {
			return ROWS.size();
		}

		@Override
		public List<String> copyTargets() {
			return List.of("retail.stores (store_id, store_name, store_location, store_type, region, created_at,"
					+ " updated_at, is_active)");
		}

		@Override
		public void write(SeedModel model, long row, List<BinaryCopy> out) {
			List<String> store = ROWS.get((int) row);
			long opened = model.plan.asOfEpochSecond() - (5 * 365 - row * 200) * DAY;
			BinaryCopy copy = out.get(0);
			for (String value : store) {
				copy.text(value);
			}
			copy.timestamp(opened).timestamp(opened).bool(true).endRow();
		}

	};

	static final SeedTable CATEGORIES = new SeedTable() {

		@Override
		public String name() {
			return "categories";
		}

		@Override
		public long count(SeedModel model) {
			return model.catalog.categories().size();
		}

		@Override
		public List<String> copyTargets() {
			return List.of("retail.product_categories (category_id, category_name, parent_category_id, description,"
					+ " is_active)");
		}

		@Override
		public void write(SeedModel model, long row, List<BinaryCopy> out) {
			Catalog.Category category = model.catalog.categories().get((int) row);
			out.get(0).int4(category.id()).text(category.name()).nul().text(category.description()).bool(true).endRow();
		}

	};

}
