package dev.nightshift.schedule;

import dev.nightshift.db.Tx;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The jobs as the database knows them: definition, paused flag, the next fire time from Quartz's
 * trigger, and the latest run. Backs {@code nightshift jobs} and the HTTP API. Thread-safe.
 */
public final class JobListing {
    private final DataSource ds;

    public JobListing(DataSource ds) {
        this.ds = ds;
    }

    /**
     * One job. Schedule fields are null for jobs without a schedule; {@code lastRun*} are null
     * for jobs never run; {@code lastRunAt} is when the latest run finished, else started, else was created.
     */
    public record JobView(
            String name,
            String type,
            String description,
            String cron,
            String timezone,
            String misfire,
            List<String> after,
            boolean paused,
            boolean removed,
            Instant nextFireTime,
            Long lastRunId,
            String lastRunState,
            Instant lastRunAt) {
    }

    /** Current jobs by name; with {@code includeRemoved}, also those gone from the catalog. */
    public List<JobView> list(boolean includeRemoved) throws SQLException {
        String sql = """
                SELECT j.name, j.type, j.description,
                       j.definition #>> '{schedule,cron}', j.definition #>> '{schedule,timezone}',
                       j.definition #>> '{schedule,misfire}',
                       ARRAY(SELECT jsonb_array_elements_text(coalesce(j.definition -> 'after', '[]'::jsonb))),
                       j.paused, j.removed_at IS NOT NULL, t.next_fire_time,
                       r.id, r.state, coalesce(r.finished_at, r.started_at, r.created_at)
                FROM nightshift.job j
                LEFT JOIN nightshift.qrtz_triggers t
                       ON t.sched_name = ? AND t.trigger_group = ? AND t.trigger_name = j.name
                LEFT JOIN LATERAL (SELECT x.id, x.state, x.finished_at, x.started_at, x.created_at
                                   FROM nightshift.run x WHERE x.job_name = j.name
                                   ORDER BY x.id DESC LIMIT 1) r ON true
                WHERE ? OR j.removed_at IS NULL
                ORDER BY j.name
                """;
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, QuartzCluster.NAME);     // sched_name
                ps.setString(2, QuartzCluster.GROUP);    // trigger_group
                ps.setBoolean(3, includeRemoved);        // removed too
                List<JobView> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(view(rs));
                    }
                }
                return out;
            }
        });
    }

    private static JobView view(ResultSet rs) throws SQLException {
        long next = rs.getLong(10);
        boolean hasNext = !rs.wasNull();
        long lastId = rs.getLong(11);
        boolean hasLast = !rs.wasNull();
        Timestamp lastAt = rs.getTimestamp(13);
        String zone = rs.getString(5);
        return new JobView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                "Z".equals(zone) ? "UTC" : zone,
                rs.getString(6), List.of((String[]) rs.getArray(7).getArray()), rs.getBoolean(8), rs.getBoolean(9),
                hasNext ? Instant.ofEpochMilli(next) : null, hasLast ? lastId : null, rs.getString(12),
                lastAt == null ? null : lastAt.toInstant());
    }
}
