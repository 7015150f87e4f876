package dev.nightshift.http;

import dev.nightshift.worker.Node;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/**
 * Whether this node should receive traffic and count as up: started, its scheduler started, not
 * draining, and the database answering within {@link #TIMEOUT_MS}. The database check is real (a
 * round trip) but cached briefly, and at most one is in flight, so that probes cannot pile up
 * connections while PostgreSQL is slow. Thread-safe.
 */
final class Readiness implements AutoCloseable {
    static final long TIMEOUT_MS = 1_000;
    /** Probes come every few seconds from each of kubelet and Prometheus; one check serves them all. */
    static final long CACHE_MS = 2_000;

    /** The answer of /readyz. */
    record State(boolean ready, String reason) {
    }

    private final Node node;
    private final DataSource ds;
    private final BooleanSupplier schedulerStarted;
    private final ExecutorService pinger = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "nightshift-readiness");
        t.setDaemon(true);
        return t;
    });
    private CompletableFuture<Boolean> check;
    private long checkedAt;

    Readiness(Node node, DataSource ds, BooleanSupplier schedulerStarted) {
        this.node = node;
        this.ds = ds;
        this.schedulerStarted = schedulerStarted;
    }

    State state() {
        String nodeState = node.readiness();
        if (nodeState.equals("starting") || nodeState.equals("draining")) {
            return new State(false, nodeState);
        }
        if (!schedulerStarted.getAsBoolean()) {
            return new State(false, "scheduler not started");
        }
        if (!databaseAnswers()) {
            return new State(false, "database unreachable");
        }
        return new State(true, "ready");
    }

    private boolean databaseAnswers() {
        CompletableFuture<Boolean> c;
        synchronized (this) {
            boolean fresh = check != null && (!check.isDone() || System.nanoTime() - checkedAt < TimeUnit.MILLISECONDS.toNanos(CACHE_MS));
            if (!fresh) {
                checkedAt = System.nanoTime();
                check = CompletableFuture.supplyAsync(this::ping, pinger);
            }
            c = check;
        }
        try {
            return c.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private boolean ping() {
        try (Connection c = ds.getConnection()) {
            return c.isValid((int) TimeUnit.MILLISECONDS.toSeconds(TIMEOUT_MS));
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    public void close() {
        pinger.shutdownNow();
    }
}
