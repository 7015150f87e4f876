package dev.nightshift.runlog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads run logs (CLI, HTTP, dashboard) and prunes those of runs that are gone. Thread-safe. */
public final class RunLogStore {
    private static final Logger log = LoggerFactory.getLogger(RunLogStore.class);
    private static final int PRUNE_BATCH = 10_000;

    /**
     * One line of a run's log, the stable shape of {@code logs --json} and {@code GET /api/runs/N/log}.
     *
     * @param seq     increases along the run's log, over all its attempts: what {@code after} pages by
     * @param attempt the attempt that wrote the line
     */
    public record Line(long seq, Instant time, String level, int attempt, String text) {
    }

    private final DataSource ds;

    public RunLogStore(DataSource ds) {
        this.ds = ds;
    }

    /** The run's lines with a seq above {@code after}, oldest first, at most {@code limit}. */
    public List<Line> after(long runId, long after, int limit) throws SQLException {
        return read("""
                SELECT seq, logged_at, level, attempt, text FROM nightshift.run_log
                WHERE run_id = ? AND seq > ?
                ORDER BY seq
                LIMIT ?
                """, runId, after, limit);
    }

    /** The run's last {@code n} lines, oldest first. */
    public List<Line> tail(long runId, int n) throws SQLException {
        List<Line> lines = read("""
                SELECT seq, logged_at, level, attempt, text FROM nightshift.run_log
                WHERE run_id = ? AND seq > ?
                ORDER BY seq DESC
                LIMIT ?
                """, runId, 0, n);
        Collections.reverse(lines);
        return lines;
    }

    private List<Line> read(String sql, long runId, long after, int limit) throws SQLException {
        List<Line> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, runId);   // run_id
            ps.setLong(2, after);   // seq after
            ps.setInt(3, limit);    // limit
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Line(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getInt(4), rs.getString(5)));
                }
            }
        }
        return out;
    }

    /**
     * Adds one line to an attempt's log from another node than the one that ran it (the rescuer's
     * verdict on an attempt whose node is gone), after the attempt's last line, unless the run's log
     * is capped. Written on {@code c} at once: such lines are rare.
     */
    public static void append(Connection c, long runId, int attempt, RunLog.Level level, String text) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO nightshift.run_log (run_id, attempt, line, logged_at, level, text)
                SELECT ?, ?, coalesce(max(l.line) FILTER (WHERE l.attempt = ?), 0) + 1, clock_timestamp(), ?, ?
                FROM nightshift.run_log l
                WHERE l.run_id = ?
                HAVING NOT coalesce(bool_or(l.level = 'WARNING' AND l.text LIKE ?), false)
                ON CONFLICT DO NOTHING
                """)) {
            ps.setLong(1, runId);                                 // run_id
            ps.setInt(2, attempt);                                // attempt
            ps.setInt(3, attempt);                                // the attempt's last line
            ps.setString(4, level.name());                        // level
            ps.setString(5, text);                                // text
            ps.setLong(6, runId);                                 // the run's lines
            ps.setString(7, RunLogWriter.CAP_NOTE + "%");         // none after the cap's note
            ps.executeUpdate();
        }
    }

    /**
     * Deletes the lines of runs that are gone, in batches; returns how many. A pruned run finished
     * before {@code now - retention}, so all its lines are older than that: only those are looked at.
     */
    public static int prune(DataSource ds, Duration retention) throws SQLException {
        String sql = """
                DELETE FROM nightshift.run_log
                WHERE ctid = ANY (ARRAY(SELECT l.ctid FROM nightshift.run_log l
                                        WHERE l.logged_at < now() - ? * interval '1 second'
                                          AND NOT EXISTS (SELECT 1 FROM nightshift.run r WHERE r.id = l.run_id)
                                        LIMIT ?))
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
            log.info("pruned {} run log lines of runs older than {}", total, retention);
        }
        return total;
    }
}
