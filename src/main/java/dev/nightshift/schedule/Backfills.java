package dev.nightshift.schedule;

import dev.nightshift.audit.Action;
import dev.nightshift.audit.Actor;
import dev.nightshift.audit.AuditLog;
import dev.nightshift.db.Tx;
import dev.nightshift.queue.DedupeKey;
import dev.nightshift.queue.Period;
import dev.nightshift.queue.RunOps;
import dev.nightshift.queue.RunQueue;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Backfills: one run per slot of a range of a job's schedule, each with the dedupe key the
 * scheduler gives that slot ({@link DedupeKey#schedule}), so that a slot has one run row
 * whoever makes it first. A slot whose run exists is left alone, or (by the reprocess policy) that
 * same run is put back to waiting from a finished state, never beside a waiting or running one.
 * The slots wait in the backfill's row while it has {@code max_active} runs waiting or running;
 * {@link #pump} enqueues more, called when a backfill starts, when one of its runs succeeds (in
 * that run's completion) and by every daemon's pump loop. Thread-safe.
 */
public final class Backfills {
    /** More slots than this in one backfill is more likely a wrong range than a plan. */
    public static final int MAX_SLOTS = 10_000;

    private final DataSource ds;
    private final Clock clock;

    public Backfills(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    /** Which slots already-run get a run again: {@code none}, {@code failed} ones (dead or cancelled), or {@code all}. */
    public enum Reprocess {
        NONE(List.of()), FAILED(List.of("dead", "cancelled")), ALL(List.of("dead", "cancelled", "succeeded"));

        private final List<String> rerunStates;

        Reprocess(List<String> rerunStates) {
            this.rerunStates = rerunStates;
        }

        public String dbName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** @throws IllegalArgumentException naming the choices */
        public static Reprocess parse(String s) {
            for (Reprocess r : values()) {
                if (r.dbName().equals(s)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("reprocess must be none, failed or all; got '" + s + "'");
        }
    }

    /** What an operator asked for. */
    public record Request(String job, Instant from, Instant to, Reprocess reprocess, Integer maxActive, boolean reverse) {
    }

    /** A request that cannot be a backfill: unknown job, no schedule, bad range; the message says which. */
    public static final class RefusedException extends IllegalArgumentException {
        RefusedException(String message) {
            super(message);
        }
    }

    /** One slot of a plan: what the backfill would do with it, and the slot's run if it has one. */
    public record SlotPlan(Instant slot, String action, Long runId, String runState) {
    }

    /** The slots of a request and what would happen to each, in the order they would run. */
    public record Plan(String job, List<SlotPlan> slots) {
        public long count(String action) {
            return slots.stream().filter(s -> s.action().equals(action)).count();
        }
    }

    /**
     * The slots of the request, in run order, with what the backfill would do with each (as of
     * now: {@code enqueue}, {@code rerun}, or {@code skip}). Changes nothing.
     */
    public Plan plan(Request r) throws SQLException {
        return Tx.call(ds, c -> plan(c, r));
    }

    private Plan plan(Connection c, Request r) throws SQLException {
        Slots slots = slotsOf(c, r.job());
        if (!r.from().isBefore(r.to())) {
            throw new RefusedException("--from (" + r.from() + ") must be before --to (" + r.to() + ")");
        }
        Instant now = clock.instant();
        if (r.to().isAfter(now.plusMillis(1))) {
            throw new RefusedException("--to (" + r.to() + ") is in the future; slots after now (" + now
                    + ") are the scheduler's to fire");
        }
        if (r.maxActive() != null && r.maxActive() < 1) {
            throw new RefusedException("--max-active must be at least 1, got " + r.maxActive());
        }
        List<Instant> in = slots.between(r.from(), r.to(), MAX_SLOTS + 1);
        if (in.size() > MAX_SLOTS) {
            throw new RefusedException("[" + r.from() + ", " + r.to() + ") holds more than " + MAX_SLOTS
                    + " slots of job " + r.job() + "'s schedule; backfill a shorter range");
        }
        List<Instant> ordered = new ArrayList<>(in);
        if (r.reverse()) {
            Collections.reverse(ordered);
        }
        Map<Instant, String[]> existing = existingRuns(c, r.job(), ordered);
        List<SlotPlan> plan = new ArrayList<>();
        for (Instant s : ordered) {
            String[] run = existing.get(s);
            if (run == null) {
                plan.add(new SlotPlan(s, "enqueue", null, null));
            } else {
                String action = r.reprocess().rerunStates.contains(run[1]) ? "rerun" : "skip";
                plan.add(new SlotPlan(s, action, Long.valueOf(run[0]), run[1]));
            }
        }
        return new Plan(r.job(), plan);
    }

    private static Slots slotsOf(Connection c, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT definition::text FROM nightshift.job WHERE name = ? AND removed_at IS NULL")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new RefusedException("unknown job '" + job + "'");
                }
                Slots slots = StoredSchedule.slots(rs.getString(1));
                if (slots == null) {
                    throw new RefusedException("job " + job + " has no schedule, so it has no slots to backfill; "
                            + "run it for a point in time with `trigger " + job + " --at TIME`");
                }
                return slots;
            }
        }
    }

    /** Slot → {run id, state} of the slots that have a run, found by the scheduler's dedupe keys. */
    private static Map<Instant, String[]> existingRuns(Connection c, String job, List<Instant> slots) throws SQLException {
        Map<String, Instant> byKey = new HashMap<>();
        slots.forEach(s -> byKey.put(DedupeKey.schedule(job, s), s));
        Map<Instant, String[]> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT dedupe_key, id, state FROM nightshift.run WHERE dedupe_key = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", byKey.keySet().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(byKey.get(rs.getString(1)), new String[] {Long.toString(rs.getLong(2)), rs.getString(3)});
                }
            }
        }
        return out;
    }

    /** Starts a backfill: records it with its slots and enqueues the first of them, in one transaction. */
    public long start(Request r, Actor actor) throws SQLException {
        return Tx.call(ds, c -> {
            Plan plan = plan(c, r);
            long id;
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO nightshift.backfill (job_name, range_from, range_to, reprocess, max_active, reverse, slots,
                                                     pending, skipped, actor)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                    RETURNING id
                    """)) {
                ps.setString(1, r.job());                                           // job_name
                ps.setTimestamp(2, Timestamp.from(r.from()));                       // range_from
                ps.setTimestamp(3, Timestamp.from(r.to()));                         // range_to
                ps.setString(4, r.reprocess().dbName());                            // reprocess
                ps.setObject(5, r.maxActive(), java.sql.Types.INTEGER);             // max_active
                ps.setBoolean(6, r.reverse());                                      // reverse
                ps.setInt(7, plan.slots().size());                                  // slots
                ps.setArray(8, timestamps(c, plan.slots().stream().map(SlotPlan::slot).toList()));   // pending
                ps.setString(9, actor.name());                                      // actor
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("from", r.from().toString());
            detail.put("to", r.to().toString());
            detail.put("reprocess", r.reprocess().dbName());
            detail.put("slots", plan.slots().size());
            AuditLog.record(c, actor, Action.BACKFILL, r.job(), null, id, detail);
            pump(c, id, false);
            return id;
        });
    }

    /**
     * Enqueues the backfill's next slots while it has fewer than max_active runs waiting or
     * running, and marks it done once nothing is pending or active. Inside the caller's
     * transaction; a backfill another transaction is pumping is left to it ({@code skipLocked}).
     */
    public static void pump(Connection c, long id, boolean skipLocked) throws SQLException {
        String job;
        String reprocess;
        String actor;
        Integer maxActive;
        List<Instant> pending = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT job_name, reprocess, max_active, pending, actor FROM nightshift.backfill
                WHERE id = ? AND state = 'active'
                FOR UPDATE""" + (skipLocked ? " SKIP LOCKED" : ""))) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return;
                }
                job = rs.getString(1);
                reprocess = rs.getString(2);
                int max = rs.getInt(3);
                maxActive = rs.wasNull() ? null : max;
                for (Timestamp t : (Timestamp[]) rs.getArray(4).getArray()) {
                    pending.add(t.toInstant());
                }
                actor = rs.getString(5);
            }
        }
        int active = active(c, id);
        int room = maxActive == null ? pending.size() : Math.max(0, maxActive - active);
        Slots slots = null;
        int taken = 0;
        int skipped = 0;
        // a slot left alone takes no room: go on to the next
        for (; taken < pending.size() && taken - skipped < room; taken++) {
            if (slots == null) {
                slots = slotsOfStored(c, job);
                if (slots == null) {
                    break;
                }
            }
            if (!enqueue(c, id, job, slots.periodEndingAt(pending.get(taken)), Reprocess.parse(reprocess), actor)) {
                skipped++;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE nightshift.backfill
                SET pending = pending[? + 1:], skipped = skipped + ?,
                    state = CASE WHEN cardinality(pending[? + 1:]) = 0 AND ? THEN 'done' ELSE state END,
                    finished_at = CASE WHEN cardinality(pending[? + 1:]) = 0 AND ? THEN now() END
                WHERE id = ?
                """)) {
            boolean idle = active + (taken - skipped) == 0;
            ps.setInt(1, taken);            // slots taken from pending
            ps.setInt(2, skipped);          // of which left alone
            ps.setInt(3, taken);
            ps.setBoolean(4, idle);         // nothing waiting or running: done
            ps.setInt(5, taken);
            ps.setBoolean(6, idle);
            ps.setLong(7, id);
            ps.executeUpdate();
        }
        if (taken > skipped) {
            RunQueue.notify(c, job);
        }
    }

    private static Slots slotsOfStored(Connection c, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT definition::text FROM nightshift.job WHERE name = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? StoredSchedule.slots(rs.getString(1)) : null;
            }
        }
    }

    private static int active(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM nightshift.run WHERE backfill_id = ? AND state IN ('available', 'running')")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /**
     * Gives a slot its run: a new one with the scheduler's dedupe key, or, when the slot has a run
     * in a state the policy re-runs, that run made due again as this backfill's. False when the
     * slot's run is left alone (waiting, running, or finished in a state the policy keeps).
     */
    private static boolean enqueue(Connection c, long backfill, String job, Period p, Reprocess reprocess, String actor)
            throws SQLException {
        if (RunQueue.enqueueBackfill(c, job, p, backfill, actor) != null) {
            return true;
        }
        if (reprocess.rerunStates.isEmpty()) {
            return false;
        }
        // Only from a finished state: a waiting or running run of the slot is never joined by a second.
        Long run = RunQueue.runOfKey(c, DedupeKey.schedule(job, p.slot()));
        return run != null && RunQueue.rerun(c, run, reprocess.rerunStates, backfill, actor) != null;
    }

    /** Pumps every active backfill, each in its own transaction; returns how many it looked at. */
    public int pumpAll() throws SQLException {
        List<Long> ids = Tx.call(ds, c -> {
            List<Long> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM nightshift.backfill WHERE state = 'active' ORDER BY id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getLong(1));
                }
            }
            return out;
        });
        for (long id : ids) {
            Tx.call(ds, c -> {
                pump(c, id, true);
                return null;
            });
        }
        return ids.size();
    }

    /** Stops a backfill: no more slots are enqueued, its waiting runs are cancelled, its running ones asked to stop. */
    public Optional<String> cancel(long id, Actor actor) throws SQLException {
        List<Long> running = new ArrayList<>();
        String outcome = Tx.call(ds, c -> {
            String state;
            try (PreparedStatement ps = c.prepareStatement("SELECT state FROM nightshift.backfill WHERE id = ? FOR UPDATE")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    state = rs.getString(1);
                }
            }
            if (!state.equals("active")) {
                return "backfill " + id + " is " + state + "; nothing to cancel";
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE nightshift.backfill SET state = 'cancelled', pending = '{}', finished_at = now() WHERE id = ?
                    """)) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
            int cancelled = RunQueue.cancelWaiting(c, null, id, null, "cancelled with its backfill before it started").size();
            AuditLog.record(c, actor, Action.BACKFILL_CANCEL, null, null, id, Map.of("waitingCancelled", cancelled));
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id FROM nightshift.run WHERE backfill_id = ? AND state = 'running'")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        running.add(rs.getLong(1));
                    }
                }
            }
            return "backfill " + id + " cancelled: " + cancelled + " waiting runs cancelled";
        });
        if (outcome == null) {
            return Optional.empty();
        }
        RunOps ops = new RunOps(ds);
        for (long run : running) {
            ops.cancel(run, actor);
        }
        return Optional.of(outcome + (running.isEmpty() ? "" : ", " + running.size() + " running runs asked to stop"));
    }

    private static final String VIEW = """
            SELECT b.id, b.job_name, b.range_from, b.range_to, b.reprocess, b.max_active, b.reverse, b.state, b.slots,
                   cardinality(b.pending), b.skipped, b.created_at, b.finished_at,
                   count(r.id) FILTER (WHERE r.state = 'available'), count(r.id) FILTER (WHERE r.state = 'running'),
                   count(r.id) FILTER (WHERE r.state = 'succeeded'), count(r.id) FILTER (WHERE r.state = 'dead'),
                   count(r.id) FILTER (WHERE r.state = 'cancelled')
            FROM nightshift.backfill b
            LEFT JOIN nightshift.run r ON r.backfill_id = b.id
            WHERE (?::bigint IS NULL OR b.id = ?)
            GROUP BY b.id
            ORDER BY b.id DESC
            LIMIT ?
            """;

    /** The newest backfills first, with their progress. */
    public List<BackfillView> list(int limit) throws SQLException {
        return views(null, limit);
    }

    public Optional<BackfillView> find(long id) throws SQLException {
        return views(id, 1).stream().findFirst();
    }

    private List<BackfillView> views(Long id, int limit) throws SQLException {
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(VIEW)) {
                ps.setObject(1, id, java.sql.Types.BIGINT);
                ps.setObject(2, id, java.sql.Types.BIGINT);
                ps.setInt(3, limit);
                List<BackfillView> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        int max = rs.getInt(6);
                        Integer maxActive = rs.wasNull() ? null : max;
                        out.add(new BackfillView(rs.getLong(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
                                rs.getTimestamp(4).toInstant(), rs.getString(5), maxActive, rs.getBoolean(7), rs.getString(8),
                                rs.getInt(9), rs.getInt(10), rs.getInt(11), rs.getInt(14), rs.getInt(15), rs.getInt(16),
                                rs.getInt(17), rs.getInt(18), rs.getTimestamp(12).toInstant(),
                                rs.getTimestamp(13) == null ? null : rs.getTimestamp(13).toInstant()));
                    }
                }
                return out;
            }
        });
    }

    private static Array timestamps(Connection c, List<Instant> instants) throws SQLException {
        return c.createArrayOf("timestamptz", instants.stream().map(Timestamp::from).toArray());
    }
}
