package dev.nightshift.schedule;

import dev.nightshift.audit.Action;
import dev.nightshift.audit.Actor;
import dev.nightshift.audit.AuditLog;
import dev.nightshift.db.Tx;
import java.util.Map;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Pause and resume of jobs, the one place that writes them. The state is {@code nightshift.job.paused},
 * read by every node at each fire and each chaining, so it holds across nodes and restarts; Quartz
 * triggers keep firing and the fires of a paused job add nothing, while manual triggers still run
 * a paused job. Each job whose state changes gets its audit row in the same transaction. Shared by
 * the CLI and the HTTP API. Thread-safe.
 */
public final class Pauses {
    private final DataSource ds;

    public Pauses(DataSource ds) {
        this.ds = ds;
    }

    /** The jobs whose state changed, and the named jobs the database does not know (or knows as removed). */
    public record Outcome(List<String> changed, List<String> unknown) {
    }

    /** Sets {@code paused} on the named jobs, or on every current job when {@code jobs} is null. */
    public Outcome set(List<String> jobs, boolean paused, Actor actor) throws SQLException {
        String sql = """
                UPDATE nightshift.job SET paused = ?, updated_at = now()
                WHERE removed_at IS NULL AND paused <> ? AND (?::text[] IS NULL OR name = ANY (?::text[]))
                RETURNING name
                """;
        return Tx.call(ds, c -> {
            List<String> changed = new ArrayList<>();
            Array names = jobs == null ? null : c.createArrayOf("text", jobs.toArray());
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setBoolean(1, paused);   // paused
                ps.setBoolean(2, paused);   // only those that change
                ps.setArray(3, names);      // all jobs when null
                ps.setArray(4, names);      // the named jobs
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        changed.add(rs.getString(1));
                    }
                }
            }
            List<String> unknown = new ArrayList<>();
            if (jobs != null) {
                try (PreparedStatement ps = c.prepareStatement("""
                        SELECT n FROM unnest(?::text[]) AS n
                        WHERE NOT EXISTS (SELECT 1 FROM nightshift.job j WHERE j.name = n AND j.removed_at IS NULL)
                        ORDER BY n
                        """)) {
                    ps.setArray(1, names);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            unknown.add(rs.getString(1));
                        }
                    }
                }
            }
            if (!unknown.isEmpty()) {
                c.rollback();
                return new Outcome(List.of(), unknown);
            }
            changed.sort(null);
            for (String job : changed) {
                AuditLog.record(c, actor, paused ? Action.PAUSE : Action.RESUME, job, null, null,
                        jobs == null ? Map.of("all", true) : Map.of());
            }
            return new Outcome(changed, unknown);
        });
    }
}
