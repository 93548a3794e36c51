package dev.pgbatch.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on loopback in front of the real object store that can stop like a server does: after a
 * number of bytes sent towards the store it drops every connection and refuses new ones until
 * {@link #resume}. Faults without a mock: the store behind is the real one. In front of PostgreSQL, it holds
 * an answer on its way, as a slow network does.
 */
public final class CuttingProxy implements AutoCloseable {

	private final ServerSocket server;

	private final int targetPort;

	private final List<Socket> open = new CopyOnWriteArrayList<>();

	private final AtomicLong budget = new AtomicLong(Long.MAX_VALUE);

	private final AtomicLong accepted = new AtomicLong();

	private volatile boolean stopped;

	private volatile Hold hold;

	public CuttingProxy(int targetPort) throws IOException {
		this.targetPort = targetPort;
		this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		daemon(this::accept);
	}

	/** A proxy in front of the stack's object store (ETL_S3_ENDPOINT). */
	public static CuttingProxy inFrontOfTheStack() {
		URI endpoint = URI.create(System.getenv().getOrDefault("ETL_S3_ENDPOINT", "http://127.0.0.1:9900"));
		try {
			return new CuttingProxy(endpoint.getPort());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	public int port() {
		return this.server.getLocalPort();
	}

	/** How many connections were relayed so far. */
	public long accepted() {
		return this.accepted.get();
	}

	/** Stops once this many more bytes went towards the store. */
	public void stopAfter(long bytes) {
		this.budget.set(bytes);
	}

	/** Drops every connection now, as a network failure does, and refuses new ones until {@link #resume}. */
	public void cut() {
		stop();
	}

	public void resume() {
		this.budget.set(Long.MAX_VALUE);
		this.stopped = false;
	}

	/**
	 * Holds every request whose first bytes contain {@code marker} (a part of an object's key: a GET of it)
	 * until the hold is closed, as a slow store does; the client waits for the answer meanwhile.
	 */
	public Hold hold(String marker) {
		Hold hold = new Hold(marker, true);
		this.hold = hold;
		return hold;
	}

	/**
	 * Holds every answer of the server behind (PostgreSQL's too) whose first bytes contain {@code marker} until
	 * the hold is closed: the server has answered, the client has not heard it yet.
	 */
	public Hold holdAnswers(String marker) {
		Hold hold = new Hold(marker, false);
		this.hold = hold;
		return hold;
	}

	/** A hold of some requests or answers; closing it lets them go on. */
	public final class Hold implements AutoCloseable {

		private final String marker;

		private final boolean requests;

		private final CountDownLatch reached = new CountDownLatch(1);

		private final CountDownLatch released = new CountDownLatch(1);

		private Hold(String marker, boolean requests) {
			this.marker = marker;
			this.requests = requests;
		}

		/** Whether a request (or answer) was held within the time. */
		public boolean reached(long seconds) throws InterruptedException {
			return this.reached.await(seconds, TimeUnit.SECONDS);
		}

		private void await(byte[] buffer, int length) {
			if (new String(buffer, 0, length, StandardCharsets.ISO_8859_1).contains(this.marker)) {
				this.reached.countDown();
				try {
					this.released.await();
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
		}

		@Override
		public void close() {
			CuttingProxy.this.hold = null;
			this.released.countDown();
		}

	}

	public boolean stopped() {
		return this.stopped;
	}

	private void accept() {
		while (!this.server.isClosed()) {
			try {
				Socket client = this.server.accept();
				if (this.stopped) {
					client.close();
					continue;
				}
				Socket target = new Socket(InetAddress.getLoopbackAddress(), this.targetPort);
				this.accepted.incrementAndGet();
				this.open.add(client);
				this.open.add(target);
				daemon(() -> relay(client, target, true));
				daemon(() -> relay(target, client, false));
			}
			catch (IOException ex) {
				// closed
			}
		}
	}

	private void relay(Socket from, Socket to, boolean towardsStore) {
		byte[] buffer = new byte[8192];
		try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
			for (int n; (n = in.read(buffer)) >= 0;) {
				if (towardsStore && this.budget.addAndGet(-n) < 0) {
					stop();
					return;
				}
				Hold held = this.hold;
				if (held != null && held.requests == towardsStore) {
					held.await(buffer, n);
				}
				out.write(buffer, 0, n);
			}
		}
		catch (IOException ex) {
			// one side went away
		}
		finally {
			close(from);
			close(to);
		}
	}

	private void stop() {
		this.stopped = true;
		this.open.forEach(CuttingProxy::close);
		this.open.clear();
	}

	private static void daemon(Runnable work) {
		Thread thread = new Thread(work, "cutting-proxy");
		thread.setDaemon(true);
		thread.start();
	}

	private static void close(Socket socket) {
		try {
			socket.close();
		}
		catch (IOException ex) {
			// already closed
		}
	}

	@Override
	public void close() throws IOException {
		this.server.close();
		stop();
	}

}
