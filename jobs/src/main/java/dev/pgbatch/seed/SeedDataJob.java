package dev.pgbatch.seed;

import java.util.List;
import java.util.Locale;

import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.BackgroundThreads;
import dev.pgbatch.core.ParameterDefinition;
import net.datafaker.Faker;

/** The seed-data job as the command line knows it: name, purpose, parameters. */
public final class SeedDataJob {

	public static final String NAME = "seed-data";

	/** The store ids it makes (retail.stores), each with its own customers, products and sales. */
	public static final List<String> STORES = List.of("seattle", "redmond", "bellevue", "online");

	public static final JobDefinition DEFINITION = new JobDefinition(NAME,
			"Fill the retail and ops schemas with realistic, deterministic fake data at COPY speed.",
			"refuses tables that already hold rows unless reset=true, and reset=true while cold segments of them are not restored; the same scale, seed and as-of give identical contents",
			List.of(ParameterDefinition.decimal("scale", "size: 1 = 2,000 customers, 500 products, 5,000 transactions",
					1, 0.01, 1000),
					ParameterDefinition.wholeNumber("seed", "random seed: the same seed gives the same data", 42),
					ParameterDefinition.asOf(
							"the day the data ends; transactions fall in the year before, task executions in the 18 months before"),
					ParameterDefinition.flag("reset", "empty the seeded tables first", false),
					ParameterDefinition.FORCE,
					ParameterDefinition.flag("analyze",
							"ANALYZE the seeded tables at the end (false: about a sixth faster; autovacuum analyses them within minutes, partitioned parents never)",
							true)))
		.warmingUp(SeedDataJob::warmUp);

	private SeedDataJob() {
	}

	/**
	 * Loads datafaker's locale data (about a second: it parses its YAML files, once per process) on a
	 * daemon thread, while Spring starts; otherwise the first COPY steps wait for it.
	 */
	private static void warmUp() {
		BackgroundThreads.run("seed-warm-up", () -> new Faker(Locale.US).name().firstName());
	}

}
