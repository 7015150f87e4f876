package dev.nightshift.schedule;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.loop.Loop;
import dev.nightshift.loop.Loops;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.ClaimedRun;
import dev.nightshift.worker.SuccessHook;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

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
    private final Backfills backfills;
    private final Metrics metrics;
    private volatile Duration busy;
    private volatile Duration idle;
    private volatile boolean idleWait;
    /** A wake since the current look began: its backfill may be too new for the look to have seen it. */
    private final AtomicBoolean wokenMeanwhile = new AtomicBoolean();
    private volatile Loop loop;

    public BackfillPump(Backfills backfills, Metrics metrics) {
        this.backfills = backfills;
        this.metrics = metrics;
    }

    /**
     * Pumps every active backfill, from now on until {@link #close()}, as a loop of {@code loops}:
     * again after {@code busy} while one is active, after {@code idle} when none is.
     */
    public synchronized void start(Duration busy, Duration idle, Loops loops) {
        this.busy = busy;
        this.idle = idle;
        loop = loops.add(new Loop("backfill-pump", this::tick, () -> metrics.loopError("backfill-pump"))).start();
    }

    private Duration tick() throws SQLException {
        idleWait = false;
        wokenMeanwhile.set(false);
        if (backfills.pumpAll() > 0) {
            return busy;
        }
        idleWait = true;
        // a wake that came while this look ran is not lost in the long wait
        return wokenMeanwhile.get() ? Duration.ZERO : idle;
    }

    /** Ends an idle wait early: a backfill made on another node is active now. */
    private void wake() {
        wokenMeanwhile.set(true);
        Loop l = loop;
        if (idleWait && l != null) {
            l.wake();
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
        Loop l = loop;
        if (l != null) {
            l.stop(Duration.ofSeconds(5));
        }
    }
}
