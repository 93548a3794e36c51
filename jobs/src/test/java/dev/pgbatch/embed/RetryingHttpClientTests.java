package dev.pgbatch.embed;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RetryingHttpClientTests {

	@Test
	void retryAfterIsReadAsSecondsOrAsAnHttpDate() {
		assertThat(RetryingHttpClient.parseRetryAfter("2")).contains(Duration.ofSeconds(2));
		assertThat(RetryingHttpClient.parseRetryAfter(" 0.5 ")).contains(Duration.ofMillis(500));
		String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10));
		assertThat(RetryingHttpClient.parseRetryAfter(inTenSeconds).orElseThrow())
			.isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10));
	}

	@Test
	void aRetryAfterThatIsUnreadableInThePastOrUnreasonableIsNotWaitedFor() {
		assertThat(RetryingHttpClient.parseRetryAfter("soon")).isEmpty();
		assertThat(RetryingHttpClient.parseRetryAfter("-3")).contains(Duration.ZERO);
		assertThat(RetryingHttpClient.parseRetryAfter("86400")).isEmpty();
	}

	@Test
	void backoffGrowsExponentiallyWithJitterUpToTheMaximum() {
		RetryingHttpClient client = new RetryingHttpClient(Duration.ofSeconds(1), Duration.ofSeconds(1), 6,
				Duration.ofSeconds(8));
		for (int i = 0; i < 100; i++) {
			assertThat(client.backoff(0)).isBetween(Duration.ofMillis(500), Duration.ofSeconds(1));
			assertThat(client.backoff(2)).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(4));
			assertThat(client.backoff(10)).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(8));
		}
	}

	@Test
	void rateLimitsAndServerErrorsAreRetriedOtherRefusalsAreNot() {
		assertThat(RetryingHttpClient.retryable(429)).isTrue();
		assertThat(RetryingHttpClient.retryable(503)).isTrue();
		assertThat(RetryingHttpClient.retryable(400)).isFalse();
		assertThat(RetryingHttpClient.retryable(401)).isFalse();
	}

}
