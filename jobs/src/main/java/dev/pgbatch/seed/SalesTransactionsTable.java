package dev.pgbatch.seed;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * retail.sales_transactions with their items, with seed 004's distributions: types 90/7/3, payment
 * methods 45/25/20/10, 1-5 items weighted 40/30/20/7/3 of the customer's own store, quantities 1-3,
 * a 20% chance of a 5-25% discount per item, 8% tax. Items are written in the same chunk as their
 * transaction, so a restart never leaves a transaction without its items.
 */
final class SalesTransactionsTable implements SeedTable {

	private static final List<String> TYPES = List.of("sale", "return", "exchange");

	private static final int[] TYPE_WEIGHTS = { 90, 7, 3 };

	private static final List<String> PAYMENTS = List.of("credit_card", "debit_card", "cash", "digital_wallet");

	private static final int[] PAYMENT_WEIGHTS = { 45, 25, 20, 10 };

	private static final int[] ITEM_COUNT_WEIGHTS = { 40, 30, 20, 7, 3 };

	private static final int MAX_ITEMS = 5;

	private static final List<String> RECEIPT_PREFIXES = SeedModel.STORES.stream()
		.map(store -> store.substring(0, 3).toUpperCase(Locale.ROOT))
		.toList();

	@Override
	public String name() {
		return "transactions";
	}

	@Override
	public long count(SeedModel model) {
		return model.plan.transactions();
	}

	@Override
	public List<String> copyTargets() {
		return List.of("retail.sales_transactions (transaction_id, store_id, customer_id, transaction_date,"
				+ " transaction_type, payment_method, subtotal, tax_amount, discount_amount, total_amount, cashier_id,"
				+ " register_id, receipt_number, created_at)",
				"retail.sales_transaction_items (item_id, transaction_id, product_id, quantity, unit_price, total_price,"
						+ " discount_amount, tax_amount, created_at)");
	}

	@Override
	public void write(SeedModel model, long row, List<BinaryCopy> out) {
		SplittableRandom random = model.random(SeedModel.TRANSACTION, row);
		long customer = random.nextLong(model.plan.customers());
		int store = model.storeOfCustomer(customer);
		long when = model.plan.asOfEpochSecond() - 1 - random.nextLong(365L * 86_400);
		UUID transactionId = model.id(SeedModel.TRANSACTION, row);
		String type = TYPES.get(RowRandomness.weighted(random, TYPE_WEIGHTS));
		String payment = PAYMENTS.get(RowRandomness.weighted(random, PAYMENT_WEIGHTS));

		long inStore = model.productsInStore(store);
		int items = (int) Math.min(1 + RowRandomness.weighted(random, ITEM_COUNT_WEIGHTS), inStore);
		long[] chosen = new long[MAX_ITEMS];
		long subtotal = 0;
		long discounts = 0;
		BinaryCopy itemRows = out.get(1);
		for (int i = 0; i < items; i++) {
			chosen[i] = nextDistinct(random, inStore, chosen, i);
			long product = SeedModel.productOfStore(store, chosen[i]);
			long unit = model.productPriceCents(product);
			int quantity = 1 + random.nextInt(3);
			long discount = (random.nextInt(5) == 0) ? Math.round(unit * quantity * (0.05 + random.nextDouble() * 0.20))
					: 0;
			long total = unit * quantity - discount;
			subtotal += total;
			discounts += discount;
			itemRows.uuid(model.id(SeedModel.ITEM, row * MAX_ITEMS + i))
				.uuid(transactionId)
				.uuid(model.id(SeedModel.PRODUCT, product))
				.int4(quantity)
				.cents(unit)
				.cents(total)
				.cents(discount)
				.cents(Math.round(total * 0.08))
				.timestamp(when)
				.endRow();
		}
		long tax = Math.round(subtotal * 0.08);
		out.get(0)
			.uuid(transactionId)
			.text(SeedModel.STORES.get(store))
			.uuid(model.id(SeedModel.CUSTOMER, customer))
			.timestamp(when)
			.text(type)
			.text(payment)
			.cents(subtotal)
			.cents(tax)
			.cents(discounts)
			.cents(subtotal + tax)
			.text("CASHIER" + (1 + random.nextInt(10)))
			.text("REG" + (1 + random.nextInt(5)))
			// The row number makes receipt numbers unique at any scale.
			.text("RCP-" + RECEIPT_PREFIXES.get(store) + "-" + RowRandomness.padded(row, 9))
			.timestamp(when)
			.endRow();
	}

	/** A product index of the store not chosen yet for this transaction (the store has at least {@code taken + 1}). */
	private static long nextDistinct(SplittableRandom random, long inStore, long[] chosen, int taken) {
		while (true) {
			long candidate = random.nextLong(inStore);
			boolean seen = false;
			for (int i = 0; i < taken; i++) {
				seen |= chosen[i] == candidate;
			}
			if (!seen) {
				return candidate;
			}
		}
	}

}
