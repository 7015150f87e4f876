package dev.nightshift.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.nightshift.testing.Receiver;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A webhook that hangs or answers 10 MB costs a bounded time and memory, and fails the try with a reason. */
class WebhookTest {
    @Test
    void a_target_that_hangs_is_cut_after_the_timeout() throws Exception {
        try (Receiver hang = new Receiver(n -> 0)) {
            long start = System.nanoTime();
            Webhook.Reply r = new Webhook(null).post(URI.create(hang.url()), "{}", "k", 1);
            assertThat(r.delivered()).isFalse();
            assertThat(r.detail()).isEqualTo("no answer within 10 s");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Webhook.TIMEOUT.plusSeconds(5));
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void a_target_that_trickles_its_answer_is_cut_at_the_same_deadline() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", x -> {
            x.sendResponseHeaders(200, 100_000);
            try (OutputStream out = x.getResponseBody()) {
                for (int i = 0; i < 100_000; i++) {      // a byte every 100 ms: 16 KB would take 27 minutes
                    out.write('x');
                    out.flush();
                    Thread.sleep(100);
                }
            } catch (java.io.IOException | InterruptedException e) {
                // the client stopped reading: as intended
            }
        });
        server.start();
        try {
            long start = System.nanoTime();
            Webhook.Reply r = new Webhook(null).post(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"), "{}", "k", 1);
            assertThat(r.delivered()).as("a 200 whose body never ends is not a delivery").isFalse();
            assertThat(r.detail()).isEqualTo("HTTP 200, but its body did not end within 10 s");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Webhook.TIMEOUT.plusSeconds(5));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void a_ten_megabyte_answer_is_read_no_further_than_the_cap() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] chunk = "x".repeat(64 * 1024).getBytes();
        server.createContext("/", x -> {
            x.sendResponseHeaders(500, 10L * 1024 * 1024);
            try (OutputStream out = x.getResponseBody()) {
                for (int i = 0; i < 160; i++) {
                    out.write(chunk);
                }
            } catch (java.io.IOException e) {
                // the client stopped reading: as intended
            }
        });
        server.start();
        try {
            Webhook.Reply r = new Webhook(null).post(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"), "{}", "k", 1);
            assertThat(r.status()).isEqualTo(500);
            assertThat(r.detail()).startsWith("HTTP 500: xxxx").hasSizeLessThan(300);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void a_refused_connection_fails_the_try_with_its_reason_and_backoff_doubles_to_ten_minutes() {
        Webhook.Reply r = new Webhook(null).post(URI.create("http://127.0.0.1:1/"), "{}", "k", 1);
        assertThat(r.delivered()).isFalse();
        assertThat(r.detail()).startsWith("cannot reach the target");
        assertThat(Notifier.backoff(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(Notifier.backoff(2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(Notifier.backoff(15)).isEqualTo(Duration.ofMinutes(10));
    }
}
