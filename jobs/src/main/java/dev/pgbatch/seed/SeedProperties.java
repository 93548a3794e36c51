package dev.pgbatch.seed;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of seed-data.
 *
 * @param chunkRows rows per committed chunk (ETL_SEED_CHUNK_ROWS); a restart continues after the last one
 * @param audit write an audit row per seeded row, as ordinary inserts do (ETL_SEED_AUDIT); off by default
 */
@ConfigurationProperties("etl.seed")
record SeedProperties(int chunkRows, boolean audit) {
}
