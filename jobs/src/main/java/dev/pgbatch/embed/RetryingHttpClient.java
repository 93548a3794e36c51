package dev.pgbatch.embed;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP client under langchain4j's OpenAI model, retrying what a later attempt can fix (429, 5xx, no
 * answer) and waiting as long as the server's Retry-After asks. langchain4j's own retries neither read
 * Retry-After nor see the response headers, so they are switched off and done here.
 */
final class RetryingHttpClient implements HttpClient {

	private static final Logger log = LoggerFactory.getLogger(RetryingHttpClient.class);

	/** A server asking for longer than this is not waited for: the run fails and a restart continues it. */
	private static final Duration LONGEST_RETRY_AFTER = Duration.ofMinutes(15);

	private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

	static final String GAVE_UP = "%s %s: no answer after %d attempts: %s";

	private final java.net.http.HttpClient http;

	private final Duration readTimeout;

	private final int retries;

	private final Duration maxBackoff;

	RetryingHttpClient(Duration connectTimeout, Duration readTimeout, int retries, Duration maxBackoff) {
		this.http = java.net.http.HttpClient.newBuilder().connectTimeout(connectTimeout).build();
		this.readTimeout = readTimeout;
		this.retries = retries;
		this.maxBackoff = maxBackoff;
	}

	@Override
	public SuccessfulHttpResponse execute(HttpRequest request) {
		for (int attempt = 0;; attempt++) {
			HttpResponse<String> response;
			try {
				response = this.http.send(toJdk(request), BodyHandlers.ofString());
			}
			catch (IOException ex) {
				if (attempt >= this.retries) {
					throw new IllegalStateException(String.format(GAVE_UP, request.method(), request.url(), attempt + 1,
							ex.getMessage()), ex);
				}
				pause(backoff(attempt), "no answer (" + ex.getClass().getSimpleName() + ")", attempt);
				continue;
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException("interrupted while waiting for " + request.url(), ex);
			}
			int status = response.statusCode();
			if (status >= 200 && status < 300) {
				return SuccessfulHttpResponse.builder()
					.statusCode(status)
					.headers(response.headers().map())
					.body(response.body())
					.build();
			}
			if (!retryable(status) || attempt >= this.retries) {
				throw new HttpException(status, response.body());
			}
			Optional<Duration> asked = retryAfter(response);
			pause(asked.isPresent() ? asked.get() : backoff(attempt), "status " + status, attempt);
		}
	}

	@Override
	public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
		throw new UnsupportedOperationException("embedding requests are answered whole, never streamed");
	}

	static boolean retryable(int status) {
		return status == 429 || status >= 500;
	}

	/** Retry-After as seconds or as an HTTP date; absent, unreadable or unreasonable: none. */
	static Optional<Duration> retryAfter(HttpResponse<?> response) {
		return response.headers().firstValue("Retry-After").flatMap(RetryingHttpClient::parseRetryAfter);
	}

	static Optional<Duration> parseRetryAfter(String value) {
		Duration wait;
		try {
			wait = Duration.ofMillis(Math.round(Double.parseDouble(value.strip()) * 1000));
		}
		catch (NumberFormatException notSeconds) {
			try {
				wait = Duration.between(ZonedDateTime.now(),
						ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME));
			}
			catch (DateTimeParseException notADate) {
				return Optional.empty();
			}
		}
		if (wait.isNegative()) {
			return Optional.of(Duration.ZERO);
		}
		return wait.compareTo(LONGEST_RETRY_AFTER) > 0 ? Optional.empty() : Optional.of(wait);
	}

	/** Exponential from one second up to the maximum, with jitter so that many clients do not retry in step. */
	Duration backoff(int attempt) {
		long ceiling = Math.min(this.maxBackoff.toMillis(), FIRST_BACKOFF.toMillis() << Math.min(attempt, 20));
		return Duration.ofMillis(ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1));
	}

	private void pause(Duration wait, String why, int attempt) {
		log.warn("embedding request: {}, retry {} of {} in {} ms", why, attempt + 1, this.retries, wait.toMillis());
		try {
			Thread.sleep(wait.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while waiting to retry", ex);
		}
	}

	private java.net.http.HttpRequest toJdk(HttpRequest request) {
		java.net.http.HttpRequest.Builder builder = java.net.http.HttpRequest.newBuilder(URI.create(request.url()))
			.timeout(this.readTimeout)
			.method(request.method().name(), (request.body() == null) ? java.net.http.HttpRequest.BodyPublishers.noBody()
					: java.net.http.HttpRequest.BodyPublishers.ofString(request.body()));
		for (Map.Entry<String, List<String>> header : request.headers().entrySet()) {
			for (String value : header.getValue()) {
				builder.header(header.getKey(), value);
			}
		}
		return builder.build();
	}

	/** What langchain4j's model builders configure: the timeouts; the retries come from the settings. */
	static final class Builder implements HttpClientBuilder {

		private final int retries;

		private final Duration maxBackoff;

		private Duration connectTimeout = Duration.ofSeconds(10);

		private Duration readTimeout = Duration.ofSeconds(60);

		Builder(int retries, Duration maxBackoff) {
			this.retries = retries;
			this.maxBackoff = maxBackoff;
		}

		@Override
		public Duration connectTimeout() {
			return this.connectTimeout;
		}

		@Override
		public HttpClientBuilder connectTimeout(Duration timeout) {
			if (timeout != null) {
				this.connectTimeout = timeout;
			}
			return this;
		}

		@Override
		public Duration readTimeout() {
			return this.readTimeout;
		}

		@Override
		public HttpClientBuilder readTimeout(Duration timeout) {
			if (timeout != null) {
				this.readTimeout = timeout;
			}
			return this;
		}

		@Override
		public HttpClient build() {
			return new RetryingHttpClient(this.connectTimeout, this.readTimeout, this.retries, this.maxBackoff);
		}

	}

}
