package dev.pgbatch.store;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where the object store is.
 *
 * @param endpoint ETL_S3_ENDPOINT, e.g. http://127.0.0.1:9900
 * @param accessKey ETL_S3_ACCESS_KEY
 * @param secretKey ETL_S3_SECRET_KEY (never printed: see {@link #toString()})
 * @param bucket ETL_S3_BUCKET, created when missing
 * @param region ETL_S3_REGION
 * @param partSize ETL_S3_PART_SIZE, bytes per part of a multipart upload (at least 5 MiB)
 */
@ConfigurationProperties("etl.s3")
public record S3Properties(String endpoint, String accessKey, String secretKey, String bucket, String region,
		long partSize) {

	@Override
	public String toString() {
		return "S3Properties[endpoint=" + this.endpoint + ", accessKey=" + this.accessKey + ", secretKey=*****, bucket="
				+ this.bucket + ", region=" + this.region + ", partSize=" + this.partSize + "]";
	}

}
