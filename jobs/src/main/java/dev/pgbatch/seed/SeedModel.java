package dev.pgbatch.seed;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.UUID;

import net.datafaker.Faker;

/**
 * Everything one seeding run draws from: the plan, the catalogue, and pools of names made once per run
 * with datafaker (calling datafaker per row would cap seeding near 16 k rows/s on one core). Also the
 * few facts that rows of one table need about rows of another, each computable from a row number alone
 * (which store a customer belongs to, what a product costs), so no table has to be held in memory.
 */
final class SeedModel {

	static final List<String> STORES = SeedDataJob.STORES;

	/** Table salts: each table's rows draw from their own streams. */
	static final long STORE = 1, CATEGORY = 2, CUSTOMER = 3, CUSTOMER_STORE = 4, PRODUCT = 5, TRANSACTION = 6,
			ITEM = 7, USER = 8, AGENT = 9, TASK = 10, TASK_AGENT = 11, TASK_EXECUTION = 12;

	private static final int POOL = 500;

	final SeedPlan plan;

	final Catalog catalog;

	final List<String> firstNames;

	final List<String> lastNames;

	final List<String> companies;

	SeedModel(SeedPlan plan, Catalog catalog) {
		this.plan = plan;
		this.catalog = catalog;
		Faker faker = new Faker(Locale.US, new Random(plan.seed()));
		this.firstNames = pool(() -> faker.name().firstName());
		this.lastNames = pool(() -> faker.name().lastName());
		this.companies = pool(() -> faker.company().name());
	}

	private static List<String> pool(java.util.function.Supplier<String> source) {
		List<String> values = new ArrayList<>(POOL);
		for (int i = 0; i < POOL; i++) {
			values.add(source.get());
		}
		return List.copyOf(values);
	}

	SplittableRandom random(long table, long row) {
		return RowRandomness.random(this.plan.seed(), table, row);
	}

	UUID id(long table, long row) {
		return RowRandomness.uuid(this.plan.seed(), table, row, this.plan.historyStartEpochSecond() * 1000);
	}

	int storeOfCustomer(long customer) {
		return (int) Long.remainderUnsigned(RowRandomness.mix(this.plan.seed(), CUSTOMER_STORE, customer), STORES.size());
	}

	/** Products are dealt to the stores in turn: product p belongs to store p mod 4. */
	static int storeOfProduct(long product) {
		return (int) (product % STORES.size());
	}

	long productsInStore(int store) {
		return (this.plan.products() - store + STORES.size() - 1) / STORES.size();
	}

	/** The k-th product of a store. */
	static long productOfStore(int store, long k) {
		return k * STORES.size() + store;
	}

	long agentOfTask(long task) {
		return Long.remainderUnsigned(RowRandomness.mix(this.plan.seed(), TASK_AGENT, task), this.plan.agents());
	}

	/**
	 * The first draws of a product's row: its catalogue item and price. {@link ProductsTable} continues
	 * drawing from the same generator, so this is the one place where a product's price is decided.
	 */
	ProductBasics productBasics(SplittableRandom random) {
		Catalog.Category category = this.catalog.categories().get(random.nextInt(this.catalog.categories().size()));
		Catalog.Item item = category.items().get(random.nextInt(category.items().size()));
		double dollars = item.minPrice() + random.nextDouble() * (item.maxPrice() - item.minPrice());
		long priceCents = (long) Math.floor(dollars) * 100 + (dollars < 20 ? 49 : 99);
		return new ProductBasics(category, item, priceCents);
	}

	long productPriceCents(long product) {
		return productBasics(random(PRODUCT, product)).priceCents();
	}

	record ProductBasics(Catalog.Category category, Catalog.Item item, long priceCents) {
	}

}
