package dev.nightshift.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.nightshift.db.Tx;
import dev.nightshift.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The audit table: one row per operator action, written by {@link #record} inside the transaction
 * of the action itself (so neither exists without the other), read newest first by {@link #list}.
 * The table refuses updates and deletes (R__audit.sql). Stateless apart from the data source; thread-safe.
 */
public final class AuditLog {
    /** Most rows one listing returns. */
    public static final int MAX_LIMIT = 1000;
    private static final TypeReference<Map<String, Object>> DETAIL = new TypeReference<>() {
    };

    private final DataSource ds;

    public AuditLog(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Appends {@code actor}'s {@code action} inside the caller's transaction.
     *
     * @param job      the job acted on, or null
     * @param runId    the run acted on (or made), or null
     * @param detail   what else says what happened (parameters, a range, a reason); never a secret
     */
    public static void record(Connection c, Actor actor, Action action, String job, Long runId, Long backfillId,
                              Map<String, ?> detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO nightshift.audit (actor, role, action, job_name, run_id, backfill_id, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?::jsonb)
                """)) {
            ps.setString(1, actor.name());                                          // actor
            ps.setString(2, actor.role().dbName());                                 // role
            ps.setString(3, action.dbName());                                       // action
            ps.setString(4, job);                                                   // job_name
            ps.setObject(5, runId, java.sql.Types.BIGINT);                          // run_id
            ps.setObject(6, backfillId, java.sql.Types.BIGINT);                     // backfill_id
            ps.setString(7, Json.write(detail == null ? Map.of() : detail));        // detail
            ps.executeUpdate();
        }
    }

    private static Map<String, Object> detail(String json) {
        try {
            return Json.MAPPER.readValue(json, DETAIL);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("audit detail is not a JSON object: " + e.getMessage(), e);
        }
    }

    /** What to list; every field may be null (no filter). */
    public record Filter(String job, String actor, Action action, Long runId) {
        public static final Filter ALL = new Filter(null, null, null, null);
    }

    /** Newest first; {@code beforeId} pages backwards. */
    public List<AuditEntry> list(Filter f, Long beforeId, int limit) throws SQLException {
        String sql = """
                SELECT id, at, actor, role, action, job_name, run_id, backfill_id, detail::text
                FROM nightshift.audit
                WHERE (?::text IS NULL OR job_name = ?)
                  AND (?::text IS NULL OR actor = ?)
                  AND (?::text IS NULL OR action = ?)
                  AND (?::bigint IS NULL OR run_id = ?)
                  AND (?::bigint IS NULL OR id < ?)
                ORDER BY id DESC
                LIMIT ?
                """;
        String action = f.action() == null ? null : f.action().dbName();
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, f.job());
                ps.setString(2, f.job());                                 // job_name
                ps.setString(3, f.actor());
                ps.setString(4, f.actor());                               // actor
                ps.setString(5, action);
                ps.setString(6, action);                                  // action
                ps.setObject(7, f.runId(), java.sql.Types.BIGINT);
                ps.setObject(8, f.runId(), java.sql.Types.BIGINT);        // run_id
                ps.setObject(9, beforeId, java.sql.Types.BIGINT);
                ps.setObject(10, beforeId, java.sql.Types.BIGINT);        // paging
                ps.setInt(11, Math.min(limit, MAX_LIMIT));
                List<AuditEntry> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long run = rs.getLong(7);
                        Long runId = rs.wasNull() ? null : run;
                        long bf = rs.getLong(8);
                        Long backfillId = rs.wasNull() ? null : bf;
                        out.add(new AuditEntry(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), runId, backfillId, detail(rs.getString(9))));
                    }
                }
                return out;
            }
        });
    }
}
