package dev.pgbatch.store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import dev.pgbatch.TestDatabase;
import dev.pgbatch.crypto.AuthenticationFailedException;
import dev.pgbatch.crypto.Keyset;
import dev.pgbatch.crypto.TestKeysets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The MinIO client against the stack's S3 server (S3Proxy, signature v4), as it would talk to MinIO. */
class MinioObjectStoreIntegrationTests extends ObjectStoreContract {

	private static final ObjectStore STORE = new MinioObjectStore(properties(secret()));

	@Override
	protected ObjectStore store() {
		return STORE;
	}

	@Test
	void aWrongSecretIsRefusedSayingTheCredentialsAndWhereTheyAreSetAndNeverShowingTheSecret() {
		String wrong = "not-the-secret-" + System.nanoTime();
		S3Properties properties = properties(wrong);
		ObjectStore store = new MinioObjectStore(properties);
		assertThatThrownBy(() -> store.create(this.prefix + "x", new ByteArrayInputStream(new byte[] { 1 }), 1))
			.isInstanceOf(ObjectStoreException.class)
			.hasMessageEndingWith(MinioObjectStore.REFUSED_CREDENTIALS.formatted(properties.endpoint(), "AccessDenied",
					properties.bucket()))
			.satisfies(ex -> assertThat(ex.getMessage()).doesNotContain(wrong).doesNotContain(secret()));
	}

	@Test
	void aSealedObjectReadsBackAsWrittenAndOneWhoseContentFailsIsNeverStored() throws IOException {
		SealedObjects sealed = new SealedObjects(STORE, Keyset.load(TestKeysets.fresh()));
		byte[] content = new byte[3 << 20];
		new Random(7).nextBytes(content);

		SealedObjects.Stored stored = sealed.put(this.prefix + "whole", out -> out.write(content));

		assertThat(stored.plainBytes()).isEqualTo(content.length);
		try (InputStream in = sealed.open(this.prefix + "whole")) {
			assertThat(in.readAllBytes()).isEqualTo(content);
		}
		assertThatThrownBy(() -> sealed.put(this.prefix + "cut", out -> {
			out.write(content);
			throw new IOException("the source broke");
		})).hasMessage("the source broke");
		assertThat(STORE.exists(this.prefix + "cut")).isFalse();
	}

	@Test
	void aNetworkFailureWhileReadingNamesTheObjectStoreAndIsNotTakenForAFailedAuthentication() throws IOException {
		Keyset keys = Keyset.load(TestKeysets.fresh());
		byte[] content = new byte[8 << 20];
		new Random(7).nextBytes(content);
		new SealedObjects(STORE, keys).put(this.prefix + "far", out -> out.write(content));
		S3Properties direct = properties(secret());
		int port = java.net.URI.create(direct.endpoint()).getPort();
		try (CuttingProxy proxy = new CuttingProxy(port)) {
			S3Properties through = new S3Properties("http://127.0.0.1:" + proxy.port(), direct.accessKey(),
					direct.secretKey(), direct.bucket(), direct.region(), direct.partSize());
			try (InputStream in = new SealedObjects(new MinioObjectStore(through), keys).open(this.prefix + "far")) {
				assertThat(in.readNBytes(1000)).hasSize(1000);
				proxy.cut();
				assertThatThrownBy(in::readAllBytes).isNotInstanceOf(AuthenticationFailedException.class)
					.hasMessageStartingWith("object store: reading " + this.prefix + "far failed: ");
			}
		}
	}

	@Test
	void anErrorInTheUploadStopsTheOtherStagesAndIsWhatThePutThrows() throws IOException {
		OutOfMemoryError error = new OutOfMemoryError("no memory for a part buffer");
		SealedObjects sealed = new SealedObjects(failingPuts(error), Keyset.load(TestKeysets.fresh()));
		byte[] block = new byte[1 << 20];
		new Random(7).nextBytes(block);

		// before, the encryption waited for ever for a reader of the upload's pipe, and the writer for it
		assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
			assertThatThrownBy(() -> sealed.put(this.prefix + "oom", out -> {
				for (int i = 0; i < 32; i++) {
					out.write(block);
				}
			})).isSameAs(error);
		});
		assertThat(STORE.exists(this.prefix + "oom")).isFalse();
	}

	@Test
	void anErrorInTheContentEndsTheOtherStagesAndNothingIsStored() throws Exception {
		SealedObjects sealed = new SealedObjects(STORE, Keyset.load(TestKeysets.fresh()));
		AssertionError error = new AssertionError("a broken invariant");
		byte[] block = new byte[1 << 20];
		new Random(7).nextBytes(block);
		String key = this.prefix + "error";

		assertThatThrownBy(() -> sealed.put(key, out -> {
			out.write(block);
			throw error;
		})).isSameAs(error);

		// before, the encryption and the upload waited for ever for the rest of the content
		await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
			.untilAsserted(() -> assertThat(stagesOf(key)).as("threads of the object still alive").isZero());
		assertThat(STORE.exists(key)).isFalse();
	}

	private static long stagesOf(String key) {
		return Thread.getAllStackTraces().keySet().stream().filter(thread -> thread.getName().endsWith(" " + key)).count();
	}

	/** The real store, except that a put fails with {@code error} as it starts, as the client's part buffer may. */
	private static ObjectStore failingPuts(Error error) {
		return new ObjectStore() {

			@Override
			public void create(String key, InputStream content, long size) {
				throw error;
			}

			@Override
			public InputStream get(String key) {
				return STORE.get(key);
			}

			@Override
			public boolean exists(String key) {
				return STORE.exists(key);
			}

			@Override
			public java.util.List<StoredObject> list(String prefix) {
				return STORE.list(prefix);
			}

			@Override
			public void delete(String key) {
				STORE.delete(key);
			}

		};
	}

	@Test
	void aNewStoreListsBeforeAnythingElse() {
		assertThat(new MinioObjectStore(properties(secret())).list(this.prefix)).isEmpty();
	}

	/**
	 * Signature version 2 (HMAC-SHA1) is refused even with the right secret: the stack's S3 server takes v4
	 * only. The control: the same request signed with v4 is served, so the refusal is of the signature
	 * version, not of a malformed request.
	 */
	@Test
	void aRequestSignedWithSignatureVersion2IsRefused() throws Exception {
		S3Properties properties = properties(secret());
		String resource = "/" + properties.bucket() + "/";
		ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
		String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(now);
		String signature = Base64.getEncoder()
			.encodeToString(hmac("HmacSHA1", properties.secretKey().getBytes(StandardCharsets.UTF_8),
					"GET\n\n\n\nx-amz-date:" + date + "\n" + resource));

		HttpResponse<String> v2 = send(HttpRequest.newBuilder(URI.create(properties.endpoint() + resource))
			.header("x-amz-date", date)
			.header("Authorization", "AWS " + properties.accessKey() + ":" + signature));
		HttpResponse<String> v4 = send(signedV4(properties, resource, now));

		assertThat(v4.statusCode()).as(v4.body()).isEqualTo(200);
		assertThat(v4.body()).contains("<ListBucketResult");
		assertThat(v2.statusCode()).as(v2.body()).isEqualTo(403);
		assertThat(v2.body()).contains("<Code>AccessDenied</Code>");
	}

	/** A GET of {@code resource} with an AWS signature version 4 over the host, date and empty payload. */
	private static HttpRequest.Builder signedV4(S3Properties properties, String resource, ZonedDateTime now)
			throws Exception {
		URI uri = URI.create(properties.endpoint() + resource);
		String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").format(now);
		String day = stamp.substring(0, 8);
		String emptyPayload = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(new byte[0]));
		String headers = "host;x-amz-content-sha256;x-amz-date";
		String canonical = "GET\n" + resource + "\n\n" + "host:" + uri.getHost() + ":" + uri.getPort() + "\n"
				+ "x-amz-content-sha256:" + emptyPayload + "\n" + "x-amz-date:" + stamp + "\n\n" + headers + "\n"
				+ emptyPayload;
		String scope = day + "/" + properties.region() + "/s3/aws4_request";
		String toSign = "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + HexFormat.of()
			.formatHex(MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));
		byte[] key = ("AWS4" + properties.secretKey()).getBytes(StandardCharsets.UTF_8);
		for (String part : new String[] { day, properties.region(), "s3", "aws4_request" }) {
			key = hmac("HmacSHA256", key, part);
		}
		return HttpRequest.newBuilder(uri)
			.header("x-amz-date", stamp)
			.header("x-amz-content-sha256", emptyPayload)
			.header("Authorization", "AWS4-HMAC-SHA256 Credential=" + properties.accessKey() + "/" + scope
					+ ", SignedHeaders=" + headers + ", Signature=" + HexFormat.of().formatHex(hmac("HmacSHA256", key, toSign)));
	}

	private static byte[] hmac(String algorithm, byte[] key, String text) throws Exception {
		Mac mac = Mac.getInstance(algorithm);
		mac.init(new SecretKeySpec(key, algorithm));
		return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
	}

	private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
		return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void settingsNeverPrintTheSecret() {
		assertThat(properties("s3cr3t-value").toString()).doesNotContain("s3cr3t-value").contains("secretKey=*****");
	}

	private static String secret() {
		return TestDatabase.secret("ETL_S3_SECRET_KEY");
	}

	private static S3Properties properties(String secret) {
		return new S3Properties(System.getenv().getOrDefault("ETL_S3_ENDPOINT", "http://127.0.0.1:9900"),
				System.getenv().getOrDefault("ETL_S3_ACCESS_KEY", "pgbatch"), secret,
				System.getenv().getOrDefault("ETL_S3_BUCKET", "pgbatch"), "us-east-1", 5L * 1024 * 1024);
	}

}
