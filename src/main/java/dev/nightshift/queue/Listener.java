package dev.nightshift.queue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LISTENs for new due runs on a dedicated connection and wakes the claimer. Polling remains the
 * backstop: after a reconnect the claimer is woken too, since notifications sent while the
 * connection was down are lost. The same connection is checked every second, which makes it the
 * node's measure of whether the database is reachable ({@link #connected()}), independent of the
 * pool. Runs on its own thread until {@link #stop()}.
 */
public final class Listener implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Listener.class);

    private static final long CHECK_EVERY_NANOS = 1_000_000_000L;

    private final Callable<Connection> connect;
    private final Runnable wake;
    private final Runnable onError;
    private volatile boolean running = true;
    private volatile Connection current;
    private volatile boolean connected;

    /**
     * @param connect opens a new dedicated connection
     * @param wake    called on each batch of notifications and after each (re)connect
     * @param onError called once per failure, for the error metric
     */
    public Listener(Callable<Connection> connect, Runnable wake, Runnable onError) {
        this.connect = connect;
        this.wake = wake;
        this.onError = onError;
    }

    @Override
    public void run() {
        Duration backoff = Duration.ofMillis(100);
        boolean failing = false;
        while (running) {
            try (Connection c = connect.call()) {
                current = c;
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + RunQueue.CHANNEL);
                }
                if (failing) {
                    log.info("listener reconnected");
                }
                failing = false;
                backoff = Duration.ofMillis(100);
                wake.run();
                connected = true;
                PGConnection pg = c.unwrap(PGConnection.class);
                long nextCheck = System.nanoTime() + CHECK_EVERY_NANOS;
                while (running) {
                    PGNotification[] n = pg.getNotifications(500);
                    if (n != null && n.length > 0) {
                        wake.run();
                    }
                    if (System.nanoTime() - nextCheck > 0) {
                        if (!c.isValid(1)) {
                            throw new SQLException("database did not answer within 1 s", "08006");
                        }
                        nextCheck = System.nanoTime() + CHECK_EVERY_NANOS;
                    }
                }
            } catch (Exception e) {
                connected = false;
                if (!running) {
                    break;
                }
                onError.run();
                if (!failing) {
                    log.warn("listener connection failed, polling continues meanwhile: {}", e.getMessage());
                }
                failing = true;
                sleep(backoff);
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : backoff.multipliedBy(2);
            } finally {
                current = null;
                connected = false;
            }
        }
    }

    /** Whether the database answered this connection within the last second or so. */
    public boolean connected() {
        return connected;
    }

    public void stop() {
        running = false;
        Connection c = current;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing to interrupt the wait; nothing else to do
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
