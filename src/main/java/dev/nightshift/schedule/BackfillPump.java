package dev.nightshift.schedule;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.ClaimedRun;
import dev.nightshift.worker.SuccessHook;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps backfills moving: when one of a backfill's runs succeeds, its next slot is enqueued in that
 * run's completion; and each active backfill is pumped every few seconds while there is one (a run
 * that died or was cancelled frees room too, and a backfill whose last run finished is marked done).
 * With no active backfill the loop only looks again after a longer backstop, so that an idle node
 * does not read the backfill table every few seconds; a backfill's first slots are enqueued by the
 * statement that makes it, and its first success wakes this loop. Every node runs one; the
 * backfill's row lock keeps them from enqueueing the same slot twice, and the slot's dedupe key
 * would anyway. Thread-safe.
 */
public final class BackfillPump implements SuccessHook, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackfillPump.class);

    private final Backfills backfills;
    private final Metrics metrics;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nightshift-backfill-pump");
        t.setDaemon(true);
        return t;
    });

    private volatile Duration busy;
    private volatile Duration idle;
    private boolean idleWait;                 // guarded by this
    private ScheduledFuture<?> pending;       // guarded by this
    private long wakes;                       // guarded by this

    public BackfillPump(Backfills backfills, Metrics metrics) {
        this.backfills = backfills;
        this.metrics = metrics;
    }

    /**
     * Pumps every active backfill, from now on until {@link #close()}: again after {@code busy} while
     * one is active, after {@code idle} when none is (or after a failure, {@code busy}).
     */
    public void start(Duration busy, Duration idle) {
        this.busy = busy;
        this.idle = idle;
        next(Duration.ZERO, false);
    }

    private void tick() {
        long wakesBefore;
        synchronized (this) {
            wakesBefore = wakes;
        }
        Duration wait = busy;
        try {
            wait = backfills.pumpAll() > 0 ? busy : idle;
        } catch (Exception e) {
            // the next tick tries again; a dead loop would stall every backfill
            metrics.loopError("backfill-pump");
            log.warn("backfill pump: {}", e.getMessage());
        } catch (Error e) {
            // a scheduled task that throws is never run again: log and go on, as for an exception
            metrics.loopError("backfill-pump");
            log.error("backfill pump", e);
        }
        synchronized (this) {
            // a wake-up that came while this tick ran may concern a backfill it did not see
            if (wakes != wakesBefore) {
                wait = Duration.ZERO;
            }
            next(wait, wait == idle);
        }
    }

    /** Replaces the pending tick: there is only ever one. */
    private synchronized void next(Duration wait, boolean isIdle) {
        if (loop.isShutdown()) {
            return;
        }
        if (pending != null) {
            pending.cancel(false);
        }
        idleWait = isIdle;
        pending = loop.schedule(this::tick, wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Ends an idle wait early: a backfill made on another node is active now. */
    private synchronized void wake() {
        wakes++;
        if (idleWait) {
            next(Duration.ZERO, false);
        }
    }

    @Override
    public void onSuccess(Connection tx, ClaimedRun run, JobDefinition definition) throws SQLException {
        if (!"backfill".equals(run.trigger())) {
            return;
        }
        try (PreparedStatement ps = tx.prepareStatement("SELECT backfill_id FROM nightshift.run WHERE id = ?")) {
            ps.setLong(1, run.id());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getObject(1) != null) {
                    // SKIP LOCKED: a completion never waits for another pump; the loop catches up
                    Backfills.pump(tx, rs.getLong(1), true);
                    wake();
                }
            }
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
    }
}
