package dev.pgbatch.embed;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * An OpenAI-compatible embeddings endpoint on loopback: deterministic vectors (a function of the text),
 * scripted failures for the next requests (a status and an optional Retry-After), and 400 for any request
 * holding a text with {@link #REFUSED_MARK}, as OpenAI answers an input it will not embed.
 */
final class FakeOpenAi implements AutoCloseable {

	static final String REFUSED_MARK = "REFUSE-ME";

	/** A request as the server saw it, and what it answered. */
	record Request(long atMillis, String authorization, List<String> inputs, int status) {
	}

	/** A scripted answer: a status, and Retry-After in seconds (null: none). */
	record Failure(int status, Integer retryAfterSeconds) {
	}

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final HttpServer server;

	private final Deque<Failure> script = new ArrayDeque<>();

	private final List<Request> requests = new ArrayList<>();

	FakeOpenAi() throws IOException {
		this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		this.server.createContext("/v1/embeddings", this::embeddings);
		this.server.start();
	}

	String baseUrl() {
		return "http://127.0.0.1:" + this.server.getAddress().getPort() + "/v1";
	}

	synchronized void failNext(Failure... failures) {
		this.script.addAll(List.of(failures));
	}

	synchronized List<Request> requests() {
		return List.copyOf(this.requests);
	}

	synchronized void reset() {
		this.script.clear();
		this.requests.clear();
	}

	/** The vector the server gives a text: unit length, a pure function of the text. */
	static float[] vector(String text, int dimensions) {
		SplittableRandom random = new SplittableRandom(text.hashCode());
		float[] vector = new float[dimensions];
		double norm = 0;
		for (int i = 0; i < dimensions; i++) {
			vector[i] = (float) (random.nextDouble() - 0.5);
			norm += vector[i] * vector[i];
		}
		for (int i = 0; i < dimensions; i++) {
			vector[i] /= (float) Math.sqrt(norm);
		}
		return vector;
	}

	private void embeddings(HttpExchange exchange) throws IOException {
		JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
		List<String> inputs = new ArrayList<>();
		body.get("input").forEach(input -> inputs.add(input.asString()));
		int dimensions = body.has("dimensions") ? body.get("dimensions").asInt() : 1536;
		Failure failure;
		synchronized (this) {
			failure = this.script.poll();
			if (failure == null && inputs.stream().anyMatch(input -> input.contains(REFUSED_MARK))) {
				failure = new Failure(400, null);
			}
			this.requests.add(new Request(System.currentTimeMillis(), exchange.getRequestHeaders().getFirst("Authorization"),
					inputs, failure == null ? 200 : failure.status()));
		}
		if (failure != null) {
			if (failure.retryAfterSeconds() != null) {
				exchange.getResponseHeaders().add("Retry-After", failure.retryAfterSeconds().toString());
			}
			respond(exchange, failure.status(), Map.of("error", Map.of("message",
					failure.status() == 400 ? "Invalid input: the text was refused" : "scripted failure " + failure.status(),
					"type", failure.status() == 400 ? "invalid_request_error" : "server_error")));
			return;
		}
		List<Map<String, Object>> data = new ArrayList<>();
		for (int i = 0; i < inputs.size(); i++) {
			data.add(Map.of("object", "embedding", "index", i, "embedding", vector(inputs.get(i), dimensions)));
		}
		respond(exchange, 200, Map.of("object", "list", "data", data, "model", body.get("model").asString(), "usage",
				Map.of("prompt_tokens", 1, "total_tokens", 1)));
	}

	private static void respond(HttpExchange exchange, int status, Object document) throws IOException {
		byte[] bytes = JSON.writeValueAsString(document).getBytes(StandardCharsets.UTF_8);
		exchange.getResponseHeaders().add("Content-Type", "application/json");
		exchange.sendResponseHeaders(status, bytes.length);
		try (OutputStream out = exchange.getResponseBody()) {
			out.write(bytes);
		}
	}

	@Override
	public void close() {
		this.server.stop(0);
	}

}
