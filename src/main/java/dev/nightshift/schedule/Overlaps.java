package dev.nightshift.schedule;

import dev.nightshift.queue.DedupeKey;
import dev.nightshift.queue.Period;
import dev.nightshift.queue.QueueSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The overlap policy of a fire ({@code schedule.overlap}), inside the fire's transaction and before
 * its runs are inserted: for each job of the schedule with {@code skip} or {@code coalesce} that
 * still has an earlier run pending, the slot gets no run of its own; it is recorded in
 * {@code nightshift.slot_overlap} as skipped (a run of the job is waiting or running) or coalesced
 * (the job's waiting scheduled run now covers the period up to this slot). Jobs with {@code queue},
 * and the others when nothing is pending, are left to the fire's insert. Stateless; thread-safe.
 */
final class Overlaps {
    /** Advisory lock class of "a fire deciding a job's overlap" (the second key is the job name's hash): "ns" + "ov". */
    private static final int LOCK_CLASS = 0x6e736f76;

    private static final String JOBS = """
            SELECT name, definition ->> 'overlap'
            FROM nightshift.job
            WHERE schedule_key = ? AND NOT paused AND removed_at IS NULL AND definition ->> 'overlap' IN ('skip', 'coalesce')
            ORDER BY name
            """;

    /** Whether this slot was handled before (a repeated fire): its run exists, or its overlap was recorded. */
    private static final String SEEN = """
            SELECT EXISTS (SELECT 1 FROM nightshift.run_key WHERE dedupe_key = ?)
                OR EXISTS (SELECT 1 FROM nightshift.slot_overlap WHERE job_name = ? AND scheduled_at = ?)
            """;

    /** skip: any run of the job waiting or running, the oldest. */
    private static final String PENDING = """
            SELECT id FROM nightshift.run
            WHERE job_name = ? AND state IN ('available', 'running')
            ORDER BY id
            LIMIT 1
            """;

    private static final String RECORD = """
            INSERT INTO nightshift.slot_overlap (job_name, scheduled_at, outcome, run_id) VALUES (?, ?, ?, ?)
            """;

    private Overlaps() {
    }

    /** The jobs of the schedule this fire handled here (no run inserted for them), with what it did. */
    static List<ScheduledEnqueue.Outcome> apply(Connection c, String schedule, Instant slot, Period period) throws SQLException {
        List<String[]> jobs = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(JOBS)) {
            ps.setString(1, schedule);                  // job.schedule_key
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    jobs.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
        }
        List<ScheduledEnqueue.Outcome> out = new ArrayList<>();
        for (String[] j : jobs) {
            ScheduledEnqueue.Result r = apply(c, j[0], j[1].equals("skip"), slot, period);
            if (r != null) {
                out.add(new ScheduledEnqueue.Outcome(j[0], r));
            }
        }
        return out;
    }

    /** What the slot did for one job; null when it gets a run of its own (nothing pending). */
    private static ScheduledEnqueue.Result apply(Connection c, String job, boolean skip, Instant slot, Period period)
            throws SQLException {
        // Two fires of one job at once (consecutive slots on two nodes) decide one after the other,
        // so the second sees the run the first inserted.
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(?))")) {
            ps.setInt(1, LOCK_CLASS);       // lock class
            ps.setString(2, job);           // the job
            ps.execute();
        }
        try (PreparedStatement ps = c.prepareStatement(SEEN)) {
            ps.setString(1, DedupeKey.schedule(job, slot));            // run_key.dedupe_key
            ps.setString(2, job);                                       // slot_overlap.job_name
            ps.setTimestamp(3, Timestamp.from(slot));                   // slot_overlap.scheduled_at
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return ScheduledEnqueue.Result.DUPLICATE;
                }
            }
        }
        Long pending = skip ? firstId(c, PENDING, job) : coalesce(c, job, period.end(), slot);
        if (pending == null) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement(RECORD)) {
            ps.setString(1, job);                                       // job_name
            ps.setTimestamp(2, Timestamp.from(slot));                   // scheduled_at
            ps.setString(3, skip ? "skipped" : "coalesced");            // outcome
            ps.setLong(4, pending);                                     // run_id
            ps.execute();
        }
        return skip ? ScheduledEnqueue.Result.SKIPPED_OVERLAP : ScheduledEnqueue.Result.COALESCED;
    }

    private static Long firstId(Connection c, String sql, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, job);                                       // job_name
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    /** coalesce: the job's newest waiting scheduled run of an earlier slot takes this slot's period end; its id or null. */
    private static Long coalesce(Connection c, String job, Instant periodEnd, Instant slot) throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepare(c, "coalesce")) {
            s.text("job", job).time("period_end", periodEnd).time("slot", slot);
            try (ResultSet rs = s.query()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }
}
