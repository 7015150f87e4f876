package dev.nightshift.schedule;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.db.Tx;
import dev.nightshift.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Writes the job catalog into {@code nightshift.job}: new jobs are added, changed ones updated,
 * jobs gone from the catalog marked removed (their runs stay as history). Each scheduled job's
 * row carries its schedule's {@linkplain Triggers#key key}, the name of the Quartz trigger that
 * fires it; a removed job keeps it until {@link ScheduleSync} has deleted or kept that trigger
 * (fires meanwhile count it as removed). Runs under a transaction-level advisory lock so that
 * nodes starting together do not interleave. Thread-safe.
 */
public final class CatalogSync {
    /** Advisory lock key of the sync ("nssync" in ASCII). */
    static final long SYNC_LOCK = 0x6E7373796E63L;

    private final DataSource ds;

    public CatalogSync(DataSource ds) {
        this.ds = ds;
    }

    /** What a sync changed. */
    public record Result(int added, int updated, int removed) {
    }

    public Result sync(JobCatalog catalog) throws SQLException {
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                ps.setLong(1, SYNC_LOCK);
                ps.execute();
            }
            int added = 0;
            int updated = 0;
            for (JobDefinition d : catalog.all()) {
                switch (upsert(c, d)) {
                    case "added" -> added++;
                    case "updated" -> updated++;
                    default -> { }
                }
            }
            int removed = markRemoved(c, catalog);
            return new Result(added, updated, removed);
        });
    }

    /** The definition as stored in the job row, for display and change detection. */
    static String definitionJson(JobDefinition d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.name());
        m.put("type", d.type());
        m.put("description", d.description());
        m.put("schedule", d.schedule() == null ? null : StoredSchedule.json(d.schedule()));
        if (d.schedule() != null) {
            m.put("overlap", d.overlap().yamlName());
        }
        m.put("timeout_ms", d.timeout() == null ? null : d.timeout().toMillis());
        m.put("max_attempts", d.maxAttempts());
        m.put("backoff_ms", d.backoff().toMillis());
        m.put("concurrency", d.concurrency());
        m.put("after", d.after());
        if (!d.afterAll().isEmpty()) {
            m.put("after_all", d.afterAll());
        }
        if (d.deadline() != null) {
            m.put("deadline", d.deadline().text());
        }
        if (d.notifyOff()) {
            m.put("notify", java.util.List.of());     // notify_enqueue writes nothing for an empty list
        } else if (!d.notifyTargets().isEmpty()) {
            // read by nightshift.notify_enqueue (R__notify.sql), in the transaction that makes a run dead
            m.put("notify", d.notifyTargets().stream().map(t -> Map.of("url", t.url().toString(),
                    "format", t.format().name().toLowerCase(java.util.Locale.ROOT))).toList());
        }
        m.put("params", d.params());
        m.put("file", d.file().toString());
        return Json.write(m);
    }

    private static String upsert(Connection c, JobDefinition d) throws SQLException {
        String sql = """
                INSERT INTO nightshift.job AS j (name, type, description, concurrency, max_attempts, definition, schedule_key)
                VALUES (?, ?, ?, ?, ?, ?::jsonb, ?)
                ON CONFLICT (name) DO UPDATE
                SET type = excluded.type, description = excluded.description, concurrency = excluded.concurrency,
                    max_attempts = excluded.max_attempts, definition = excluded.definition,
                    schedule_key = excluded.schedule_key, removed_at = NULL, updated_at = now()
                WHERE (j.type, j.description, j.concurrency, j.max_attempts, j.definition, j.schedule_key, j.removed_at)
                      IS DISTINCT FROM
                      (excluded.type, excluded.description, excluded.concurrency, excluded.max_attempts, excluded.definition,
                       excluded.schedule_key, NULL)
                RETURNING (xmax = 0) AS inserted
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, d.name());              // name
            ps.setString(2, d.type());              // type
            ps.setString(3, d.description());       // description
            ps.setInt(4, d.concurrency());          // concurrency
            ps.setInt(5, d.maxAttempts());          // max_attempts
            ps.setString(6, definitionJson(d));     // definition
            ps.setString(7, d.schedule() == null ? null : Triggers.key(d.schedule()));   // schedule_key
            try (var rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "unchanged";
                }
                return rs.getBoolean(1) ? "added" : "updated";
            }
        }
    }

    private static int markRemoved(Connection c, JobCatalog catalog) throws SQLException {
        String sql = """
                UPDATE nightshift.job SET removed_at = now(), updated_at = now()
                WHERE removed_at IS NULL AND NOT (name = ANY (?))
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("text", catalog.all().stream().map(JobDefinition::name).toArray()));
            return ps.executeUpdate();
        }
    }
}
