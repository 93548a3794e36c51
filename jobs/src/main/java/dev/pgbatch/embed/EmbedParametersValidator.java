package dev.pgbatch.embed;

import java.util.List;

import org.springframework.batch.core.job.parameters.InvalidJobParametersException;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersValidator;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * What only the running application can check before anything is written: the store exists, the model can be
 * used with these settings (its key), the template is sound.
 */
final class EmbedParametersValidator implements JobParametersValidator {

	static final String UNKNOWN_STORE = "unknown store '%s' (stores: %s)";

	private final JdbcTemplate jdbc;

	private final EmbeddingModels models;

	private final EmbedProperties properties;

	EmbedParametersValidator(JdbcTemplate jdbc, EmbeddingModels models, EmbedProperties properties) {
		this.jdbc = jdbc;
		this.models = models;
		this.properties = properties;
	}

	@Override
	public void validate(JobParameters parameters) throws InvalidJobParametersException {
		String problem = this.models.problemWith(parameters.getString(EmbedProductsJob.MODEL));
		if (problem != null) {
			throw new InvalidJobParametersException(EmbedProductsJob.MODEL + ": " + problem);
		}
		try {
			this.properties.textTemplate();
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidJobParametersException(ex.getMessage());
		}
		String store = parameters.getString(EmbedProductsJob.STORE, "");
		if (!store.isEmpty()) {
			String unknown = unknownStore(this.jdbc, store);
			if (unknown != null) {
				throw new InvalidJobParametersException(EmbedProductsJob.STORE + ": " + unknown);
			}
		}
	}

	/** Names the stores there are when {@code store} is not one of them, else null. */
	static String unknownStore(JdbcTemplate jdbc, String store) {
		List<String> stores = jdbc.queryForList("SELECT store_id FROM retail.stores ORDER BY store_id", String.class);
		if (stores.contains(store)) {
			return null;
		}
		return String.format(UNKNOWN_STORE, store, stores.isEmpty() ? "none: run seed-data first"
				: String.join(", ", stores.size() > 20 ? stores.subList(0, 20) : stores));
	}

}
