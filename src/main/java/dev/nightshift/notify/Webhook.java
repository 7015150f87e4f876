package dev.nightshift.notify;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One POST of a notification: JSON body, {@code Idempotency-Key} (the same on every try of one
 * notification), {@code X-Nightshift-Timestamp} and, with a secret, {@code X-Nightshift-Signature:
 * sha256=HEX} (HMAC-SHA256 of {@code TIMESTAMP.BODY}). A try is cut after {@link #TIMEOUT}, whether
 * the target hangs before its answer or trickles the answer's body; at most {@link #MAX_RESPONSE}
 * bytes of a response are read, the rest is dropped unread. Thread-safe.
 */
final class Webhook {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final int MAX_RESPONSE = 16 * 1024;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER).build();
    /** Closes a response body still being read at its try's deadline (the request's timeout ends with the headers). */
    private static final ScheduledExecutorService DEADLINES = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nightshift-webhook-deadline");
        t.setDaemon(true);
        return t;
    });
    private final String secret;

    /** @param secret HMAC key, or null to send unsigned */
    Webhook(String secret) {
        this.secret = secret;
    }

    /** What a try got: a status (0 when none came) and a short reason for the log and the outbox. */
    record Reply(int status, String detail) {
        boolean delivered() {
            return status >= 200 && status < 300;
        }
    }

    Reply post(URI url, String body, String idempotencyKey, long epochSeconds) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .header("User-Agent", "nightshift")
                .header("Idempotency-Key", idempotencyKey)
                .header("X-Nightshift-Timestamp", Long.toString(epochSeconds))
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (secret != null) {
            b.header("X-Nightshift-Signature", "sha256=" + sign(secret, epochSeconds + "." + body));
        }
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try {
            HttpResponse<InputStream> r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            String head;
            AtomicBoolean cut = new AtomicBoolean();
            try (InputStream in = r.body()) {
                ScheduledFuture<?> closer = DEADLINES.schedule(() -> {
                    cut.set(true);
                    closeQuietly(in);
                }, deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                try {
                    // read at most MAX_RESPONSE bytes; closing the stream drops the rest of a huge answer
                    head = new String(in.readNBytes(MAX_RESPONSE), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    if (cut.get()) {
                        return new Reply(0, "HTTP " + r.statusCode() + ", but its body did not end within " + TIMEOUT.toSeconds() + " s");
                    }
                    throw e;
                } finally {
                    closer.cancel(false);
                }
            }
            if (cut.get()) {
                return new Reply(0, "HTTP " + r.statusCode() + ", but its body did not end within " + TIMEOUT.toSeconds() + " s");
            }
            return new Reply(r.statusCode(), "HTTP " + r.statusCode() + (head.isBlank() ? "" : ": " + shortened(head)));
        } catch (java.net.http.HttpTimeoutException e) {
            return new Reply(0, "no answer within " + TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            return new Reply(0, "cannot reach the target: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(0, "interrupted");
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // the reader sees the stream closed either way
        }
    }

    /** Hex HMAC-SHA256 of {@code text} under {@code key}: what a receiver recomputes to check the signature. */
    static String sign(String key, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is in every Java runtime", e);
        }
    }

    private static String shortened(String s) {
        String one = s.strip().replaceAll("\\s+", " ");
        return one.length() <= 200 ? one : one.substring(0, 200) + "…";
    }
}
