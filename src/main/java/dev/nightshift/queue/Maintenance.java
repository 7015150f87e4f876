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
 * <p>A running run is orphaned only when its {@link RunLock} can be taken exclusively, that is
 * when no session holds it: the owner's connection is gone (node killed, network cut,
 * PostgreSQL restarted). No timer ever decides that a live run is dead. Thread-safe.
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

    private record Candidate(long id, int attempt, int maxAttempts, String owner, String jobName) {
    }

    /** Returns the runs put back to available (or dead, when that was their last attempt). */
    public List<Long> rescue() throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(true);
            List<Long> rescued = new ArrayList<>();
            for (Candidate cand : unlockedRunning(c)) {
                if (tryRescue(c, cand)) {
                    rescued.add(cand.id());
                }
            }
            return rescued;
        }
    }

    /** Running runs whose lock no session holds right now (pre-filter; the try-lock decides). */
    private static List<Candidate> unlockedRunning(Connection c) throws SQLException {
        String sql = """
                SELECT r.id, r.attempt, r.max_attempts, r.node, r.job_name
                FROM nightshift.run r
                WHERE r.state = 'running'
                  AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE %s)
                ORDER BY r.id
                """.formatted(RunLock.PG_LOCKS_MATCH);
        List<Candidate> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Candidate(rs.getLong(1), rs.getInt(2), rs.getInt(3), rs.getString(4), rs.getString(5)));
            }
        }
        return out;
    }

    private boolean tryRescue(Connection c, Candidate cand) throws SQLException {
        long key = RunLock.key(cand.id());
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return false;
                }
            }
        }
        try {
            boolean dead = cand.attempt() >= cand.maxAttempts();
            String sql = """
                    UPDATE nightshift.run
                    SET state = ?, run_at = now(), backend_pid = NULL,
                        finished_at = CASE WHEN ? THEN clock_timestamp() END,
                        last_error = ?, last_error_sqlstate = NULL
                    WHERE id = ? AND state = 'running' AND attempt = ?
                    """;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, dead ? "dead" : "available");                               // state
                ps.setBoolean(2, dead);                                                     // finished_at when dead
                ps.setString(3, "node " + cand.owner() + " lost the run (its database session ended); rescued by " + node);
                ps.setLong(4, cand.id());                                                   // id
                ps.setInt(5, cand.attempt());                                               // attempt
                boolean done = ps.executeUpdate() == 1;
                if (done) {
                    log.warn("rescued run {} of job {} from node {} (attempt {}): now {}", cand.id(), cand.jobName(),
                            cand.owner(), cand.attempt(), dead ? "dead" : "available");
                    logRescue(c, cand, dead);
                    if (!dead) {
                        RunQueue.notify(c, cand.jobName());
                    }
                }
                return done;
            }
        } finally {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                ps.setLong(1, key);
                ps.execute();
            }
        }
    }

    /** The rescue, as the last line of the lost attempt's log; a failure to write it stops no rescue. */
    private void logRescue(Connection c, Candidate cand, boolean dead) {
        try {
            dev.nightshift.runlog.RunLogStore.append(c, cand.id(), cand.attempt(), dev.nightshift.runlog.RunLog.Level.WARNING,
                    "node " + cand.owner() + " lost the run (its database session ended); rescued by " + node + ": now "
                            + (dead ? "dead" : "available"));
        } catch (SQLException e) {
            log.warn("run {}: the rescue could not be written to its log: {}", cand.id(), e.getMessage());
        }
    }

    /** Deletes finished runs older than {@code retention}, but each job's newest success, in batches; returns how many. */
    public int prune(Duration retention) throws SQLException {
        String sql = """
                DELETE FROM nightshift.run
                WHERE id IN (SELECT id FROM nightshift.run
                             WHERE state IN ('succeeded', 'dead', 'cancelled')
                               AND finished_at < now() - ? * interval '1 second'
                               -- each job's newest success stays: its last-success time outlives the retention
                               AND id NOT IN (SELECT s.id FROM nightshift.job j
                                              CROSS JOIN LATERAL (SELECT r.id FROM nightshift.run r
                                                                  WHERE r.job_name = j.name AND r.state = 'succeeded'
                                                                  ORDER BY r.id DESC LIMIT 1) s)
                             LIMIT ?)
                """;
        int total = 0;
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            c.setAutoCommit(true);
            int n;
            do {
                ps.setLong(1, retention.toSeconds());   // retention
                ps.setInt(2, PRUNE_BATCH);              // batch
                n = ps.executeUpdate();
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

    /** The records of skipped and coalesced slots (V18) older than {@code retention}, as the runs they name. */
    private void pruneSlotOverlaps(Duration retention) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM nightshift.slot_overlap WHERE created_at < now() - ? * interval '1 second'")) {
            c.setAutoCommit(true);
            ps.setLong(1, retention.toSeconds());   // retention
            ps.executeUpdate();
        }
    }
}
