package dev.nightshift.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.db.Tx;
import dev.nightshift.json.Json;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TimeZone;
import javax.sql.DataSource;
import org.quartz.CronExpression;

/**
 * Read-only view of the jobs in {@code nightshift.job} with their latest runs, for the
 * {@code jobs} command, the HTTP API and the dashboard. The next fire time is Quartz's, from the
 * row of the trigger of the job's schedule; before the scheduler has synced a trigger it is
 * computed from the stored cron expression. Thread-safe.
 */
public final class JobListing {
    private static final String SQL = """
            SELECT j.name, j.type, j.description, j.concurrency, j.max_attempts, j.paused, j.definition::text,
                   lr.id, lr.state, lr.finished_at, lr.last_error,
                   (SELECT s.finished_at FROM nightshift.run s
                     WHERE s.job_name = j.name AND s.state = 'succeeded' ORDER BY s.id DESC LIMIT 1) AS last_success,
                   (SELECT count(*) FROM nightshift.run b WHERE b.job_name = j.name AND b.state = 'running') AS running,
                   (SELECT count(*) FROM nightshift.run a WHERE a.job_name = j.name AND a.state = 'available') AS waiting,
                   j.removed_at IS NOT NULL AS removed,
                   t.next_fire_time
            FROM nightshift.job j
            LEFT JOIN nightshift.qrtz_triggers t
                   ON t.sched_name = ? AND t.trigger_group = ? AND t.trigger_name = j.schedule_key
            LEFT JOIN LATERAL (SELECT r.id, r.state, r.finished_at, r.last_error FROM nightshift.run r
                               WHERE r.job_name = j.name ORDER BY r.id DESC LIMIT 1) lr ON true
            WHERE (? OR j.removed_at IS NULL) AND (?::text IS NULL OR j.name = ?)
            ORDER BY j.name
            """;

    private final DataSource ds;
    private final Clock clock;

    public JobListing(DataSource ds) {
        this(ds, Clock.systemUTC());
    }

    /** @param clock from when next fire times and lateness are reckoned */
    public JobListing(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    /** Every job of the catalog, by name. */
    public List<JobView> all() throws SQLException {
        return query(null, false);
    }

    /** Current jobs by name; with {@code includeRemoved}, also those gone from the catalog. */
    public List<JobView> list(boolean includeRemoved) throws SQLException {
        return query(null, includeRemoved);
    }

    public Optional<JobView> find(String name) throws SQLException {
        return query(name, false).stream().findFirst();
    }

    private List<JobView> query(String name, boolean includeRemoved) throws SQLException {
        Map<String, Lateness.Late> late = new Lateness(ds, clock).all();
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(SQL)) {
                ps.setString(1, QuartzCluster.NAME);     // sched_name
                ps.setString(2, QuartzCluster.GROUP);    // trigger_group
                ps.setBoolean(3, includeRemoved);        // removed jobs too
                ps.setString(4, name);                   // one job, or all
                ps.setString(5, name);
                List<JobView> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        JobView v = view(rs, late.get(rs.getString(1)));
                        out.add(v.afterAll().isEmpty() ? v : withWaiting(v, FanIn.waiting(c, v.name(), v.afterAll())));
                    }
                }
                return out;
            }
        });
    }

    private JobView view(ResultSet rs, Lateness.Late late) throws SQLException {
        JsonNode def = readTree(rs.getString(7));
        Map<String, String> schedule = schedule(def.path("schedule"));
        if (schedule != null && def.hasNonNull("overlap")) {
            schedule.put("overlap", def.get("overlap").asText());
        }
        boolean paused = rs.getBoolean(6);
        List<String> after = new ArrayList<>();
        def.path("after").forEach(n -> after.add(n.asText()));
        List<String> afterAll = new ArrayList<>();
        def.path("after_all").forEach(n -> afterAll.add(n.asText()));
        Long lastId = (Long) rs.getObject(8);
        JobView.LastRun last = lastId == null ? null
                : new JobView.LastRun(lastId, rs.getString(9), instant(rs.getTimestamp(10)), rs.getString(11));
        long quartzNext = rs.getLong(16);
        Instant next = !rs.wasNull() ? Instant.ofEpochMilli(quartzNext)
                : schedule == null ? null : nextFire(schedule, clock.instant());
        Slots slots = schedule == null ? null : StoredSchedule.slots(rs.getString(7));
        if (slots != null && next != null && !slots.keeps(next)) {
            // Quartz fires on days the calendar excludes too (those fires add no run): the next slot is later
            next = slots.next(next);
        }
        return new JobView(rs.getString(1), rs.getString(2), rs.getString(3), schedule, paused, rs.getBoolean(15),
                rs.getInt(4), rs.getInt(5), after, next, last, instant(rs.getTimestamp(12)), rs.getInt(13), rs.getInt(14),
                late == null ? null : late.deadline(), late == null ? List.of() : late.slots(), afterAll, null);
    }

    private static JobView withWaiting(JobView v, FanIn.Waiting w) {
        return new JobView(v.name(), v.type(), v.description(), v.schedule(), v.paused(), v.removed(), v.concurrency(),
                v.maxAttempts(), v.after(), v.nextFireAt(), v.lastRun(), v.lastSuccessAt(), v.running(), v.waiting(),
                v.deadline(), v.lateSlots(), v.afterAll(), w);
    }

    private static Map<String, String> schedule(JsonNode s) {
        if (!s.isObject() || !s.hasNonNull("cron")) {
            return null;
        }
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cron", s.get("cron").asText());
        String zone = s.path("timezone").asText("UTC");
        m.put("timezone", "Z".equals(zone) ? "UTC" : zone);
        m.put("misfire", s.path("misfire").asText("fire-once"));
        if (s.path("calendar").hasNonNull("name")) {
            m.put("calendar", s.path("calendar").path("name").asText());
        }
        if (s.hasNonNull("pick")) {
            m.put("pick", s.get("pick").asText());
        }
        return m;
    }

    /** The first slot of the schedule after {@code now}; null when the expression has no future slot. */
    static Instant nextFire(Map<String, String> schedule, Instant now) {
        try {
            CronExpression cron = new CronExpression(schedule.get("cron"));
            cron.setTimeZone(TimeZone.getTimeZone(ZoneId.of(schedule.get("timezone"))));
            Date next = cron.getNextValidTimeAfter(Date.from(now));
            return next == null ? null : next.toInstant();
        } catch (ParseException | RuntimeException e) {
            // The catalog validated it when it was synced; a row written by another version may not parse here.
            return null;
        }
    }

    private static JsonNode readTree(String json) {
        try {
            return Json.MAPPER.readTree(json == null ? "{}" : json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // the definition column is written by sync from a parsed definition; a listing shows an unreadable one as empty rather than failing
            return Json.MAPPER.createObjectNode();
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
