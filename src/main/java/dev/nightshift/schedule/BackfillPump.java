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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps backfills moving: when one of a backfill's runs succeeds, its next slot is enqueued in that
 * run's completion; and every few seconds each active backfill is pumped (a run that died or was
 * cancelled frees room too, and a backfill whose last run finished is marked done). Every node runs
 * one; the backfill's row lock keeps them from enqueueing the same slot twice, and the slot's
 * dedupe key would anyway. Thread-safe.
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

    public BackfillPump(Backfills backfills, Metrics metrics) {
        this.backfills = backfills;
        this.metrics = metrics;
    }

    /** Pumps every backfill every {@code interval}, from now on, until {@link #close()}. */
    public void start(Duration interval) {
        loop.scheduleWithFixedDelay(this::pumpAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void pumpAll() {
        try {
            backfills.pumpAll();
        } catch (Exception e) {
            // the next tick tries again; a dead loop would stall every backfill
            metrics.loopError("backfill-pump");
            log.warn("backfill pump: {}", e.getMessage());
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
                }
            }
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
    }
}
