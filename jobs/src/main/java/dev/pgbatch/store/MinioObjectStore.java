package dev.pgbatch.store;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.minio.BucketExistsArgs;
import io.minio.Checksum;
import io.minio.GetObjectArgs;
import io.minio.Http;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;

import org.springframework.stereotype.Component;

/** {@link ObjectStore} on the MinIO Java client: MinIO itself, or any server of the S3 API. */
@Component
class MinioObjectStore implements ObjectStore {

	static final String EXISTS = "object store: %s/%s exists already; a stored object is never replaced";

	static final String REFUSED_CREDENTIALS = "%s refused the credentials (%s): check ETL_S3_ACCESS_KEY and the"
			+ " secret in ETL_S3_SECRET_KEY_FILE, and that they may use bucket %s";

	/** S3's answers to a request signed with a wrong key or secret, or by a user the bucket is not open to. */
	private static final Set<String> CREDENTIALS_REFUSED = Set.of("AccessDenied", "SignatureDoesNotMatch",
			"InvalidAccessKeyId");

	private final S3Properties properties;

	private final String bucket;

	private final long partSize;

	private volatile MinioClient client;

	private volatile boolean bucketChecked;

	MinioObjectStore(S3Properties properties) {
		this.properties = properties;
		this.bucket = properties.bucket();
		this.partSize = properties.partSize();
	}

	/**
	 * Made on first use: building the client reads the machine's CA certificates (every file of
	 * SSL_CERT_DIR, a byte at a time: 0.3 s and more), and most commands never touch the object store.
	 * Over plain HTTP there is no certificate to check: the client is MinIO's default one without them,
	 * so that an upload does not wait for them while pg_dump or COPY fill its pipe.
	 */
	private MinioClient client() {
		MinioClient made = this.client;
		if (made == null) {
			synchronized (this) {
				made = this.client;
				if (made == null) {
					MinioClient.Builder builder = MinioClient.builder()
						.endpoint(this.properties.endpoint())
						.credentials(this.properties.accessKey(), this.properties.secretKey())
						.region(this.properties.region());
					if (this.properties.endpoint().startsWith("http://")) {
						builder.httpClient(new OkHttpClient.Builder().protocols(List.of(Protocol.HTTP_1_1))
							.connectTimeout(Http.DEFAULT_TIMEOUT, TimeUnit.MILLISECONDS)
							.writeTimeout(Http.DEFAULT_TIMEOUT, TimeUnit.MILLISECONDS)
							.readTimeout(Http.DEFAULT_TIMEOUT, TimeUnit.MILLISECONDS)
							.addInterceptor(new Http.StatusRetryInterceptor())
							.build(), true);
					}
					made = builder.build();
					this.client = made;
				}
			}
		}
		return made;
	}

	/**
	 * Both guards, because neither suffices alone: S3Proxy (filesystem backend) and MinIO refuse a single
	 * PUT with {@code If-None-Match: *} onto an existing key (412, checked on S3Proxy 4.1.0), but S3Proxy
	 * completes a multipart upload over an existing object whatever the header says. So the key is also
	 * looked up first; that look-up and the upload are not atomic, which is why callers make their keys
	 * unique (a segment or backup id in the key): the checks catch a bug, they are not a lock.
	 */
	@Override
	public void create(String key, InputStream content, long size) {
		if (exists(key)) {
			throw new ObjectStoreException(String.format(EXISTS, this.bucket, key), null);
		}
		upload(key, content, size, Map.of("If-None-Match", "*"));
	}

	private void upload(String key, InputStream content, long size, Map<String, String> headers) {
		ensureBucket();
		try {
			client().putObject(PutObjectArgs.builder()
				.bucket(this.bucket)
				.object(key)
				.stream(content, size < 0 ? null : size, size < 0 ? this.partSize : null)
				// for a multipart upload, MinIO's default checksum, CRC32C, is computed a byte at a time beside
				// the SHA-256 that signing over HTTP needs anyway: with SHA-256 one hash serves both
				.checksum(size < 0 ? Checksum.Algorithm.SHA256 : null)
				.headers(headers)
				.build());
		}
		catch (ErrorResponseException ex) {
			if ("PreconditionFailed".equals(ex.errorResponse().code())) {
				throw new ObjectStoreException(String.format(EXISTS, this.bucket, key), ex);
			}
			throw failure("put", key, ex);
		}
		catch (Exception ex) {
			throw failure("put", key, ex);
		}
	}

	@Override
	public InputStream get(String key) {
		try {
			return client().getObject(GetObjectArgs.builder().bucket(this.bucket).object(key).build());
		}
		catch (Exception ex) {
			throw failure("get", key, ex);
		}
	}

	@Override
	public boolean exists(String key) {
		try {
			client().statObject(StatObjectArgs.builder().bucket(this.bucket).object(key).build());
			return true;
		}
		catch (ErrorResponseException ex) {
			if ("NoSuchKey".equals(ex.errorResponse().code()) || "NoSuchBucket".equals(ex.errorResponse().code())) {
				return false;
			}
			throw failure("stat", key, ex);
		}
		catch (Exception ex) {
			throw failure("stat", key, ex);
		}
	}

	@Override
	public List<StoredObject> list(String prefix) {
		List<StoredObject> objects = new ArrayList<>();
		try {
			for (Result<Item> result : client()
				.listObjects(ListObjectsArgs.builder().bucket(this.bucket).prefix(prefix).recursive(true).build())) {
				Item item = result.get();
				objects.add(new StoredObject(item.objectName(), item.size(), item.lastModified().toInstant()));
			}
		}
		catch (ErrorResponseException ex) {
			if ("NoSuchBucket".equals(ex.errorResponse().code())) {
				return List.of();
			}
			throw failure("list", prefix, ex);
		}
		catch (Exception ex) {
			throw failure("list", prefix, ex);
		}
		objects.sort(java.util.Comparator.comparing(StoredObject::key));
		return objects;
	}

	@Override
	public void delete(String key) {
		try {
			client().removeObject(RemoveObjectArgs.builder().bucket(this.bucket).object(key).build());
		}
		catch (Exception ex) {
			throw failure("delete", key, ex);
		}
	}

	private void ensureBucket() {
		if (this.bucketChecked) {
			return;
		}
		try {
			if (!client().bucketExists(BucketExistsArgs.builder().bucket(this.bucket).build())) {
				client().makeBucket(MakeBucketArgs.builder().bucket(this.bucket).build());
			}
			this.bucketChecked = true;
		}
		catch (Exception ex) {
			throw failure("create bucket", this.bucket, ex);
		}
	}

	/**
	 * The client's messages name the endpoint and the key, never the credentials; a refusal of the credentials
	 * (a wrong secret signs wrongly) says so, and which settings hold them.
	 */
	private ObjectStoreException failure(String operation, String key, Exception ex) {
		String cause = ex.getMessage();
		if (ex instanceof ErrorResponseException refused && CREDENTIALS_REFUSED.contains(refused.errorResponse().code())) {
			cause = REFUSED_CREDENTIALS.formatted(this.properties.endpoint(), refused.errorResponse().code(),
					this.bucket);
		}
		return new ObjectStoreException("object store: " + operation + " " + this.bucket + "/" + key + " failed: "
				+ cause, ex);
	}

}
