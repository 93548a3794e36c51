package dev.pgbatch.embed;

import java.sql.SQLWarning;
import java.util.Locale;

import dev.pgbatch.core.BoundedLocks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.StatementCallback;

/**
 * A model's partial HNSW index on retail.product_embeddings. Inserting into an HNSW graph row by row costs
 * far more than building it once (pgvector's advice for bulk loads), so a large load drops the index first
 * and builds it at the end, with maintenance_work_mem large enough for the graph: a build whose graph does
 * not fit slows down many times ("hnsw graph no longer fits into maintenance_work_mem").
 */
final class ModelIndex {

	private static final Logger log = LoggerFactory.getLogger(ModelIndex.class);

	/** pgvector's own notice when the graph spills out of maintenance_work_mem. */
	static final String SPILL_NOTICE = "no longer fits into maintenance_work_mem";

	private static final long MIN_MEMORY = 64L << 20;

	private final JdbcTemplate jdbc;

	private final ProductEmbeddingModel model;

	private final BoundedLocks locks;

	ModelIndex(JdbcTemplate jdbc, ProductEmbeddingModel model, BoundedLocks locks) {
		this.jdbc = jdbc;
		this.model = model;
		this.locks = locks;
	}

	boolean exists() {
		return Boolean.TRUE.equals(this.jdbc.queryForObject("SELECT to_regclass(?) IS NOT NULL", Boolean.class,
				"retail." + this.model.indexName()));
	}

	long vectors() {
		Long count = this.jdbc.queryForObject(
				"SELECT count(*) FROM retail.product_embeddings WHERE embedding_model = ?", Long.class, this.model.id());
		return count == null ? 0 : count;
	}

	/**
	 * Drops the index when its table's lock is granted within one bounded wait: DROP INDEX needs the table
	 * to itself, and while it waits behind a long reader every new reader of the table (search) queues behind
	 * it. False when a reader held on: the load then goes into the index, slower but with nobody waiting.
	 */
	boolean drop() {
		return this.locks.tryOnce("drop " + this.model.indexName(),
				() -> this.jdbc.execute("DROP INDEX IF EXISTS retail." + this.model.indexName()));
	}

	/** A build: the maintenance_work_mem it was given, and whether its graph still did not fit. */
	record Build(long memory, boolean spilled) {
	}

	/**
	 * Builds the index when it is missing, with memory for its graph up to {@code maxMemory}; null when the
	 * index was there. A build that still spilled is logged with what to set.
	 */
	Build build(long maxMemory) {
		if (exists()) {
			return null;
		}
		long vectors = vectors();
		long memory = Math.min(maxMemory, memoryFor(vectors, this.model.dimensions()));
		this.jdbc.execute(String.format(Locale.ROOT, "SET LOCAL maintenance_work_mem = '%dkB'", memory / 1024));
		String ddl = String.format(Locale.ROOT,
				"CREATE INDEX %s ON retail.product_embeddings USING hnsw ((embedding::vector(%d)) vector_cosine_ops)"
						+ " WHERE embedding_model = '%s'",
				this.model.indexName(), this.model.dimensions(), this.model.id());
		// the build waits for writers of the table (readers go on beside it): bounded, and the job fails when
		// they hold on; a restart builds the index then
		boolean spilled = this.locks.run("build " + this.model.indexName(),
				() -> Boolean.TRUE.equals(this.jdbc.execute((StatementCallback<Boolean>) statement -> {
					statement.execute(ddl);
					for (SQLWarning warning = statement.getWarnings(); warning != null; warning = warning.getNextWarning()) {
						if (String.valueOf(warning.getMessage()).contains(SPILL_NOTICE)) {
							return true;
						}
					}
					return false;
				})));
		if (spilled) {
			log.warn("{}: the HNSW graph of {} vectors did not fit into {} MB of maintenance_work_mem; raise"
					+ " ETL_EMBED_INDEX_MEMORY_MAX", this.model.indexName(), vectors, memory >> 20);
		}
		log.info("built {} over {} vectors with {} MB of maintenance_work_mem", this.model.indexName(), vectors,
				memory >> 20);
		return new Build(memory, spilled);
	}

	/**
	 * Room for the graph of an HNSW index being built (m = 16): each element holds its vector and its
	 * neighbour lists, measured here at 4 bytes a dimension plus about 780 bytes (16 MB held 7,242 vectors of
	 * 384 dimensions); a quarter more and 16 MB as headroom. Right-sized rather than generous: a parallel
	 * build reserves all of it in shared memory.
	 */
	static long memoryFor(long vectors, int dimensions) {
		return Math.max(MIN_MEMORY, vectors * (4L * dimensions + 800) * 5 / 4 + (16L << 20));
	}

}
