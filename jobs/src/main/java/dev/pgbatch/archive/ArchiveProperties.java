package dev.pgbatch.archive;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where archived partitions go.
 *
 * @param warmTablespace ETL_TABLESPACE_WARM, for partitions past their hot window
 * @param coldTablespace ETL_TABLESPACE_COLD, for the archive tables of the row-wise archive
 * @param prefix ETL_ARCHIVE_PREFIX, the object-store folder of cold exports
 * @param salesDays ETL_ARCHIVE_SALES_DAYS, sales transactions older than this many days before as-of are archived
 * @param salesBatchRows ETL_ARCHIVE_SALES_BATCH_ROWS, transactions moved per transaction
 */
@ConfigurationProperties("etl.archive")
record ArchiveProperties(String warmTablespace, String coldTablespace, String prefix, int salesDays,
		int salesBatchRows) {
}
