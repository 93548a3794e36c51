package dev.pgbatch.seed;

import java.time.LocalDate;
import java.util.List;
import java.util.SplittableRandom;

/** retail.customers, with seed 004's distributions (loyalty tiers 50/30/15/5, genders, ages 18-80). */
final class CustomersTable implements SeedTable {

	private static final List<String> GENDERS = List.of("Male", "Female", "Other", "Prefer not to say");

	private static final List<String> TIERS = List.of("bronze", "silver", "gold", "platinum");

	private static final int[] TIER_WEIGHTS = { 50, 30, 15, 5 };

	private static final List<String> DOMAINS = List.of("example.com", "example.net", "example.org");

	private static final String[] AREA_CODES = { "206", "425", "425", "360" };

	@Override
	public String name() {
		return "customers";
	}

	@Override
	public long count(SeedModel model) {
		return model.plan.customers();
	}

	@Override
	public List<String> copyTargets() {
		return List.of("retail.customers (customer_id, store_id, first_name, last_name, email, phone, date_of_birth,"
				+ " gender, customer_since, loyalty_tier, total_lifetime_value, created_at, updated_at)");
	}

	@Override
	public void write(SeedModel model, long row, List<BinaryCopy> out) {
		SplittableRandom random = model.random(SeedModel.CUSTOMER, row);
		int store = model.storeOfCustomer(row);
		String first = RowRandomness.pick(random, model.firstNames);
		String last = RowRandomness.pick(random, model.lastNames);
		// The row number makes every address unique at any scale, with no retries.
		String email = RowRandomness.letters(first) + "." + RowRandomness.letters(last) + row + "@" + RowRandomness.pick(random, DOMAINS);
		String phone = "(" + AREA_CODES[store] + ") 555-" + RowRandomness.padded(random.nextInt(10_000), 4);
		LocalDate asOf = model.plan.asOf();
		LocalDate born = asOf.minusDays(18 * 365 + random.nextInt(62 * 365));
		LocalDate since = asOf.minusDays(1 + random.nextInt(5 * 365));
		long created = since.atStartOfDay(java.time.ZoneOffset.UTC).toEpochSecond() + random.nextInt(86_400);
		out.get(0)
			.uuid(model.id(SeedModel.CUSTOMER, row))
			.text(SeedModel.STORES.get(store))
			.text(first)
			.text(last)
			.text(email)
			.text(phone)
			.date(born)
			.text(RowRandomness.pick(random, GENDERS))
			.date(since)
			.text(TIERS.get(RowRandomness.weighted(random, TIER_WEIGHTS)))
			.cents(0)
			.timestamp(created)
			.timestamp(created)
			.endRow();
	}

}
