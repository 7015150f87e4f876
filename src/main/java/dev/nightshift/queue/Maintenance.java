package dev.nightshift.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rescue of orphaned runs and pruning of old ones; any node may run both at any time.
 *
 * <p>A running run is orphaned only when its owner's lock can be taken, that is when no session
 * holds it: the worker's connection is gone (node killed, network cut, PostgreSQL restarted). No
 * timer ever decides that a live run is dead ({@link RunQueue#rescue}). Thread-safe.
 */
public final class Maintenance {
    private static final Logger log = LoggerFactory.getLogger(Maintenance.class);
    private static final int PRUNE_BATCH = 5_000;

    private final DataSource ds;
    private final String node;

    public Maintenance(DataSource ds, String node) {
        this.ds = ds;
        this.node = node;
    }

    /** Returns the runs put back to available (or dead, when that was their last attempt). */
    public List<Long> rescue() throws SQLException {
        List<Long> rescued = new ArrayList<>();
        for (RunQueue.Rescued r : new RunQueue(ds).rescue(node)) {
            log.warn("rescued run {} of job {} from node {} (attempt {}): now {}", r.id(), r.jobName(), r.node(), r.attempt(),
                    r.dead() ? "dead" : "available");
            logRescue(r);
            rescued.add(r.id());
        }
        return rescued;
    }

    /** The rescue, as the last line of the lost attempt's log; a failure to write it stops no rescue. */
    private void logRescue(RunQueue.Rescued r) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(true);
            dev.nightshift.runlog.RunLogStore.append(c, r.id(), r.attempt(), dev.nightshift.runlog.RunLog.Level.WARNING,
                    "node " + r.node() + " lost the run (its database session ended); rescued by " + node + ": now "
                            + (r.dead() ? "dead" : "available"));
        } catch (SQLException e) {
            log.warn("run {}: the rescue could not be written to its log: {}", r.id(), e.getMessage());
        }
    }

    /** Deletes finished runs older than {@code retention}, but each job's newest success, in batches; returns how many. */
    public int prune(Duration retention) throws SQLException {
        int total = 0;
        try (Connection c = ds.getConnection(); QueueSql.Bound s = QueueSql.prepare(c, "prune")) {
            c.setAutoCommit(true);
            int n;
            do {
                s.bigint("retention_s", retention.toSeconds()).integer("batch", PRUNE_BATCH);
                try (ResultSet rs = s.query()) {
                    rs.next();
                    n = rs.getInt(1);
                }
                total += n;
            } while (n == PRUNE_BATCH);
        }
        if (total > 0) {
            log.info("pruned {} finished runs older than {}", total, retention);
        }
        pruneSlotOverlaps(retention);
        dev.nightshift.runlog.RunLogStore.prune(ds, retention);
        return total;
    }

    /** The records of skipped and coalesced slots (slot_overlap) older than {@code retention}, as the runs they name. */
    private void pruneSlotOverlaps(Duration retention) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM nightshift.slot_overlap WHERE created_at < now() - ? * interval '1 second'")) {
            c.setAutoCommit(true);
            ps.setLong(1, retention.toSeconds());   // retention
            ps.executeUpdate();
        }
    }
}
