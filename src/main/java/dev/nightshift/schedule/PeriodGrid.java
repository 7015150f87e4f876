package dev.nightshift.schedule;

import dev.nightshift.config.Deadline;
import dev.nightshift.db.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The dashboard's grid: for each scheduled job, its most recent slots, each with the state of its
 * run (or none), late when past the deadline without a success; and the job's recent runs' times
 * from slot to finish, for its chart. Read-only; thread-safe.
 */
public final class PeriodGrid {
    private final DataSource ds;
    private final Clock clock;

    public PeriodGrid(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    /**
     * One slot of a job.
     *
     * @param state succeeded, running, waiting, retrying, dead, cancelled, skipped (succeeded without work),
     *              skipped-overlap (schedule.overlap: skip), or none
     */
    public record Cell(Instant slot, Instant periodStart, Long runId, String state, boolean late) {
    }

    /** One finished run: how long after its slot (or its start, without one) it finished. */
    public record Point(long runId, Duration took, String state) {
    }

    /** @param deadlineOffset the deadline as a time after the latest slot, or null */
    public record Row(String job, String deadline, List<Cell> cells, List<Point> points, Duration deadlineOffset) {
    }

    public List<Row> rows(int slots, int points) throws SQLException {
        Map<String, Lateness.Late> late = new Lateness(ds, clock).all();
        return Tx.call(ds, c -> {
            List<Row> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT name, definition::text FROM nightshift.job
                    WHERE removed_at IS NULL AND schedule_key IS NOT NULL ORDER BY name
                    """); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Slots s = StoredSchedule.slots(rs.getString(2));
                    if (s != null) {
                        rows.add(row(c, rs.getString(1), s, late.get(rs.getString(1)), slots, points));
                    }
                }
            }
            return rows;
        });
    }

    private Row row(Connection c, String job, Slots s, Lateness.Late late, int slots, int points)
            throws SQLException {
        List<Instant> recent = new ArrayList<>();
        for (Instant t = s.latestAtOrBefore(clock.instant()); t != null && recent.size() < slots; t = s.previous(t)) {
            recent.add(t);
        }
        Collections.reverse(recent);
        Map<Instant, Cell> byRun = runs(c, job, recent);
        List<Cell> cells = new ArrayList<>();
        for (Instant t : recent) {
            boolean isLate = late != null && late.slots().contains(t);
            Cell run = byRun.get(t);
            Instant start = s.previous(t);
            cells.add(run == null ? new Cell(t, start, null, "none", isLate) : new Cell(t, start, run.runId(), run.state(), isLate));
        }
        // every job with a deadline has its lateness, paused ones too
        String deadline = late == null ? null : late.deadline();
        Duration offset = deadline == null || recent.isEmpty() ? null
                : Duration.between(recent.get(recent.size() - 1), Deadline.parse(deadline).of(recent.get(recent.size() - 1), s.zone()));
        return new Row(job, deadline, cells, points(c, job, points), offset);
    }

    /**
     * The newest run of each slot, by slot; a slot a fire coalesced shows the run that covers it, and
     * one it skipped for overlap shows {@code skipped-overlap} with the run it yielded to.
     */
    private static Map<Instant, Cell> runs(Connection c, String job, List<Instant> slots) throws SQLException {
        Map<Instant, Cell> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT DISTINCT ON (scheduled_at) scheduled_at, id, state, attempt, skipped
                FROM (SELECT scheduled_at, id, state, attempt, coalesce((counts ->> 'skipped')::bigint, 0) AS skipped, 1 AS pref
                      FROM nightshift.run
                      WHERE job_name = ? AND scheduled_at = ANY (?)
                      UNION ALL
                      SELECT o.scheduled_at, r.id, CASE WHEN o.outcome = 'skipped' THEN 'skipped-overlap' ELSE r.state END,
                             r.attempt, coalesce((r.counts ->> 'skipped')::bigint, 0), 2
                      FROM nightshift.slot_overlap o JOIN nightshift.run r ON r.id = o.run_id
                      WHERE o.job_name = ? AND o.scheduled_at = ANY (?)) s
                ORDER BY scheduled_at, pref, id DESC
                """)) {
            java.sql.Array at = c.createArrayOf("timestamptz", slots.stream().map(Timestamp::from).toArray());
            ps.setString(1, job);       // run.job_name
            ps.setArray(2, at);         // run.scheduled_at
            ps.setString(3, job);       // slot_overlap.job_name
            ps.setArray(4, at);         // slot_overlap.scheduled_at
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String state = rs.getString(3);
                    String shown = switch (state) {
                        case "available" -> rs.getInt(4) > 0 ? "retrying" : "waiting";
                        case "succeeded" -> rs.getLong(5) > 0 ? "skipped" : "succeeded";
                        default -> state;
                    };
                    Instant slot = rs.getTimestamp(1).toInstant();
                    out.put(slot, new Cell(slot, null, rs.getLong(2), shown, false));
                }
            }
        }
        return out;
    }

    private static List<Point> points(Connection c, String job, int limit) throws SQLException {
        List<Point> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, extract(epoch FROM finished_at - coalesce(scheduled_at, started_at)) * 1000, state FROM nightshift.run
                WHERE job_name = ? AND state IN ('succeeded', 'dead') AND finished_at IS NOT NULL AND started_at IS NOT NULL
                ORDER BY id DESC
                LIMIT ?
                """)) {
            ps.setString(1, job);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Point(rs.getLong(1), Duration.ofMillis(Math.max(0, (long) rs.getDouble(2))), rs.getString(3)));
                }
            }
        }
        Collections.reverse(out);
        return out;
    }

}
