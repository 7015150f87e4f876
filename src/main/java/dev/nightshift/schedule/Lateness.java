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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Which slots of jobs with a deadline are late: their deadline has passed and no run of that slot
 * has succeeded, whatever the slot's run is doing (waiting, running, retrying, dead) or when it has
 * none at all (the fire was missed). Slots are enumerated from the schedule, not from the runs, so
 * a slot that never fired is late too. Looks back {@link #WINDOW} (and not before the job was first
 * synced); paused jobs have no late slots. Thread-safe.
 */
public final class Lateness {
    /** How far back slots are looked at: a slot late for longer is left to the operator. */
    public static final Duration WINDOW = Duration.ofDays(7);
    private static final int MAX_SLOTS = 1_000;

    private final DataSource ds;
    private final Clock clock;

    public Lateness(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    /**
     * The late slots of one job, oldest first.
     *
     * @param overdue      how long ago the oldest late slot's deadline passed; zero when none is late
     * @param nextDeadline the next instant a slot of the job turns late if it has no success by then, or null
     */
    public record Late(String job, String deadline, List<Instant> slots, Duration overdue, Instant nextDeadline) {
        public Late(String job, String deadline, List<Instant> slots, Duration overdue) {
            this(job, deadline, slots, overdue, null);
        }

        public boolean any() {
            return !slots.isEmpty();
        }
    }

    /** Every current job with a deadline, by name (paused ones with nothing late). */
    public Map<String, Late> all() throws SQLException {
        return Tx.call(ds, c -> {
            Map<String, Late> out = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT name, definition::text, paused, created_at, definition ->> 'deadline' FROM nightshift.job
                    WHERE removed_at IS NULL AND definition -> 'deadline' IS NOT NULL
                    ORDER BY name
                    """); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), late(c, rs.getString(1), rs.getString(2), rs.getBoolean(3),
                            rs.getTimestamp(4).toInstant(), Deadline.parse(rs.getString(5))));
                }
            }
            return out;
        });
    }

    private Late late(Connection c, String job, String definition, boolean paused, Instant created, Deadline deadline)
            throws SQLException {
        Slots slots = StoredSchedule.slots(definition);
        Instant now = clock.instant();
        if (slots == null || paused) {
            return new Late(job, deadline.text(), List.of(), Duration.ZERO);
        }
        Instant from = created.isAfter(now.minus(WINDOW)) ? created : now.minus(WINDOW);
        List<Instant> due = new ArrayList<>();
        Instant next = null;
        for (Instant s : slots.between(from, now, MAX_SLOTS)) {
            Instant d = deadline.of(s, slots.zone());
            if (!d.isAfter(now)) {
                due.add(s);
            } else if (next == null) {
                next = d;   // deadlines follow their slots in order: the first one ahead is the next
            }
        }
        if (next == null) {
            Instant upcoming = slots.next(now);
            next = upcoming == null ? null : deadline.of(upcoming, slots.zone());
        }
        if (due.isEmpty()) {
            return new Late(job, deadline.text(), List.of(), Duration.ZERO, next);
        }
        Set<Instant> succeeded = succeeded(c, job, due.get(0), due.get(due.size() - 1));
        List<Instant> late = due.stream().filter(s -> !succeeded.contains(s)).toList();
        Duration overdue = late.isEmpty() ? Duration.ZERO : Duration.between(deadline.of(late.get(0), slots.zone()), now);
        return new Late(job, deadline.text(), late, overdue, next);
    }

    /**
     * The slots in [first, last] with a succeeded run, whatever made it (scheduler, backfill, trigger
     * --at), and those a fire skipped or coalesced (schedule.overlap) once the run they yielded to succeeded.
     */
    private static Set<Instant> succeeded(Connection c, String job, Instant first, Instant last) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT scheduled_at FROM nightshift.run
                WHERE job_name = ? AND state = 'succeeded' AND scheduled_at BETWEEN ? AND ?
                UNION ALL
                SELECT o.scheduled_at FROM nightshift.slot_overlap o JOIN nightshift.run r ON r.id = o.run_id
                WHERE o.job_name = ? AND r.state = 'succeeded' AND o.scheduled_at BETWEEN ? AND ?
                """)) {
            for (int i = 0; i < 2; i++) {
                ps.setString(1 + 3 * i, job);                               // job_name
                ps.setTimestamp(2 + 3 * i, Timestamp.from(first));          // from
                ps.setTimestamp(3 + 3 * i, Timestamp.from(last));           // to
            }
            Set<Instant> out = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getTimestamp(1).toInstant());
                }
            }
            return out;
        }
    }

}
