package dev.pgbatch.archive;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where archived partitions go.
 *
 * @param warmTablespace ETL_TABLESPACE_WARM, for partitions past their hot window
 * @param prefix ETL_ARCHIVE_PREFIX, the object-store folder of cold exports
 */
@ConfigurationProperties("etl.archive")
record ArchiveProperties(String warmTablespace, String prefix) {
}
