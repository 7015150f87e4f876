package dev.nightshift.queue;

import dev.nightshift.json.Json;
import dev.nightshift.db.Tx;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/** Read-only views of the run table for operators. Thread-safe. */
public final class RunQueries {
    public static final Set<String> STATES = Set.of("available", "running", "succeeded", "dead", "cancelled");
    private static final String COLUMNS = """
            id, job_name, state, trigger, params::text, dedupe_key, scheduled_at, parent_run_id, attempt, max_attempts,
            run_at, created_at, started_at, finished_at, node, backend_pid, cancel_requested, counts::text,
            last_error, last_error_sqlstate, period_start, period_end, period_zone, actor""";

    private final DataSource ds;

    public RunQueries(DataSource ds) {
        this.ds = ds;
    }

    /** Newest first; {@code job} and {@code state} may be null; {@code beforeId} pages backwards. */
    public List<RunView> list(String job, String state, Long beforeId, int limit) throws SQLException {
        String sql = "SELECT " + COLUMNS + """
                 FROM nightshift.run
                WHERE (?::text IS NULL OR job_name = ?)
                  AND (?::text IS NULL OR state = ?)
                  AND (?::bigint IS NULL OR id < ?)
                ORDER BY id DESC
                LIMIT ?
                """;
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, job);
                ps.setString(2, job);
                ps.setString(3, state);
                ps.setString(4, state);
                ps.setObject(5, beforeId);
                ps.setObject(6, beforeId);
                ps.setInt(7, limit);
                List<RunView> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(view(rs));
                    }
                }
                return out;
            }
        });
    }

    /**
     * Newest first: runs that died and failed attempts waiting for their retry, with their errors
     * (the dashboard's "recent failures").
     */
    public List<RunView> recentFailures(int limit) throws SQLException {
        String sql = "SELECT " + COLUMNS + """
                 FROM nightshift.run
                WHERE state = 'dead' OR (state = 'available' AND attempt > 0 AND last_error IS NOT NULL)
                ORDER BY id DESC
                LIMIT ?
                """;
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setInt(1, limit);
                List<RunView> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(view(rs));
                    }
                }
                return out;
            }
        });
    }

    /**
     * The database's clock: the one that stamps {@code started_at} and {@code finished_at}, so
     * that an elapsed time computed against it is never negative (another host's clock may lag).
     */
    public Instant databaseNow() throws SQLException {
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT clock_timestamp()"); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getTimestamp(1).toInstant();
            }
        });
    }

    public Optional<RunView> find(long id) throws SQLException {
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM nightshift.run WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(view(rs)) : Optional.empty();
                }
            }
        });
    }

    static RunView view(ResultSet rs) throws SQLException {
        return new RunView(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                Json.stringMap(rs.getString(5)),
                rs.getString(6),
                instant(rs.getTimestamp(7)),
                instant(rs.getTimestamp(21)),
                instant(rs.getTimestamp(22)),
                rs.getString(23),
                (Long) rs.getObject(8),
                rs.getInt(9),
                rs.getInt(10),
                instant(rs.getTimestamp(11)),
                instant(rs.getTimestamp(12)),
                instant(rs.getTimestamp(13)),
                instant(rs.getTimestamp(14)),
                rs.getString(15),
                (Integer) rs.getObject(16),
                rs.getBoolean(17),
                Json.countMap(rs.getString(18)),
                rs.getString(19),
                rs.getString(20),
                rs.getString(24));
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
