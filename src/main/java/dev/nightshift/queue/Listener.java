package dev.nightshift.queue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Callable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LISTENs for new due runs on a dedicated connection and wakes the claimer; and, every
 * {@code checkEvery}, asks the database in one statement whether a due run is waiting (one due
 * later, after a backoff, or a notification lost while the connection was down) and whether a
 * worker connection (an owner) has lost its lock, waking the claimer or the rescuer only then. That check
 * is also the node's measure of whether the database is reachable ({@link #connected()}),
 * independent of the pool. So an idle node makes one transaction per check and nothing else on
 * the queue's behalf: the claimer and the rescuer, woken by this, wait long otherwise. Other loops
 * of the node may listen on channels of their own through the same connection ({@link #alsoListen}).
 * Runs on its own thread until {@link #stop()}.
 */
public final class Listener implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Listener.class);
    /** A check that takes longer counts as a database that does not answer. */
    private static final int CHECK_TIMEOUT_MS = 2_000;
    private final Callable<Connection> connect;
    private final Duration checkEvery;
    private final Runnable wake;
    private final Runnable wakeRescuer;
    private final Runnable onError;
    private final Map<String, Runnable> others = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private volatile Connection current;
    private volatile boolean connected;

    /**
     * @param connect     opens a new dedicated connection
     * @param checkEvery  how often to check for due runs and orphaned ones
     * @param wake        wakes the claimer: on each batch of notifications, after each (re)connect,
     *                    and when a check finds a due run
     * @param wakeRescuer wakes the rescuer when a check finds a running run without its lock
     * @param onError     called once per failure, for the error metric
     */
    public Listener(Callable<Connection> connect, Duration checkEvery, Runnable wake, Runnable wakeRescuer, Runnable onError) {
        this.connect = connect;
        this.checkEvery = checkEvery;
        this.wake = wake;
        this.wakeRescuer = wakeRescuer;
        this.onError = onError;
    }

    /**
     * Calls {@code onNotify} on each notification of {@code channel}, and after each (re)connect (a
     * notification may have been missed meanwhile). Before the listener's thread starts.
     */
    public void alsoListen(String channel, Runnable onNotify) {
        others.put(channel, onNotify);
    }

    @Override
    public void run() {
        Duration backoff = Duration.ofMillis(100);
        boolean failing = false;
        while (running) {
            try (Connection c = connect.call()) {
                current = c;
                c.setAutoCommit(true);
                c.setNetworkTimeout(Runnable::run, CHECK_TIMEOUT_MS);
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + RunQueue.CHANNEL);
                    for (String channel : others.keySet()) {
                        s.execute("LISTEN " + channel);
                    }
                }
                if (failing) {
                    log.info("listener reconnected");
                }
                failing = false;
                backoff = Duration.ofMillis(100);
                wake.run();
                others.values().forEach(Runnable::run);
                check(c);
                PGConnection pg = c.unwrap(PGConnection.class);
                long nextCheck = System.nanoTime() + checkEvery.toNanos();
                while (running) {
                    long waitMs = Math.max(1, Math.min(500, (nextCheck - System.nanoTime()) / 1_000_000));
                    PGNotification[] n = pg.getNotifications((int) waitMs);
                    if (n != null && n.length > 0) {
                        dispatch(n);
                    }
                    if (System.nanoTime() - nextCheck >= 0) {
                        check(c);
                        nextCheck = System.nanoTime() + checkEvery.toNanos();
                    }
                }
            } catch (Exception e) {
                connected = false;
                if (!running) {
                    break;
                }
                onError.run();
                // The claimer may be in the long wait it takes while this connection is up: wake it, so
                // that it polls meanwhile and meets the outage on its own connection now, not after
                // the database is back (when its dead connection would turn a ready node not-ready).
                wake.run();
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

    /** Wakes the claimer for the queue's channel and each other loop for its own, once per batch. */
    private void dispatch(PGNotification[] batch) {
        Set<String> channels = new HashSet<>();
        for (PGNotification n : batch) {
            channels.add(n.getName());
        }
        for (String channel : channels) {
            Runnable r = others.get(channel);
            if (r != null) {
                r.run();
            } else {
                wake.run();
            }
        }
    }

    /** One round trip: whether a run is due and whether one is orphaned; wakes whom it concerns. */
    private void check(Connection c) throws SQLException {
        RunQueue.Check check = RunQueue.check(c);
        connected = true;
        if (check.due()) {
            wake.run();
        }
        if (check.orphaned()) {
            wakeRescuer.run();
        }
    }

    /** Whether the database answered this connection at the last check (every {@code checkEvery}). */
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
            // Stop is asked by clearing `running`, which the loop checks next; keep the flag for it.
            Thread.currentThread().interrupt();
        }
    }
}
