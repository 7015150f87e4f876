package dev.nightshift.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.function.IntUnaryOperator;

/**
 * A webhook receiver on 127.0.0.1 for the notification tests: records each request (headers and
 * body) and answers with the status {@code statusOf(n)} gives for the n-th request (1-based); a
 * status of 0 holds the request until {@link #release()}. Thread-safe; close once.
 */
public final class Receiver implements AutoCloseable {
    /** One request as received. */
    public record Hit(String idempotencyKey, String signature, String timestamp, String body) {
    }

    private final HttpServer server;
    private final List<Hit> hits = new CopyOnWriteArrayList<>();
    private final CountDownLatch held = new CountDownLatch(1);

    public Receiver(IntUnaryOperator statusOf) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", x -> {
            String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            hits.add(new Hit(x.getRequestHeaders().getFirst("Idempotency-Key"), x.getRequestHeaders().getFirst("X-Nightshift-Signature"),
                    x.getRequestHeaders().getFirst("X-Nightshift-Timestamp"), body));
            int status = statusOf.applyAsInt(hits.size());
            if (status == 0) {
                try {
                    held.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                status = 200;
            }
            byte[] answer = "{}".getBytes(StandardCharsets.UTF_8);
            try {
                x.sendResponseHeaders(status, answer.length);
                try (OutputStream out = x.getResponseBody()) {
                    out.write(answer);
                }
            } catch (IOException e) {
                // the sender gave up (killed, or timed out): nothing to answer
            }
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    public List<Hit> hits() {
        return List.copyOf(hits);
    }

    /** Lets a held request answer. */
    public void release() {
        held.countDown();
    }

    @Override
    public void close() {
        release();
        server.stop(0);
    }
}
