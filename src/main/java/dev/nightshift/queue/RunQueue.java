package dev.nightshift.queue;

import dev.nightshift.audit.Action;
import dev.nightshift.audit.AuditLog;
import dev.nightshift.db.Tx;
import dev.nightshift.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The queue's one lock path, over the statements of {@code db/queue.sql}: a worker connection
 * registers an owner key and holds its lock for life ({@link #register}); runs are made
 * ({@link #enqueue}), claimed for an owner ({@link #claimFirst}, {@link #claimNext}), completed with
 * the claim of the next run in the job's own transaction ({@link #completeAndClaimNext}), failed,
 * given back, and rescued from dead owners ({@link #rescue}). Every statement that ends a running
 * run names its id, owner and attempt, so an owner that lost a run can never end the new attempt.
 * Stateless apart from the data source; thread-safe.
 */
public final class RunQueue {
    /** The NOTIFY channel; the payload is the job name. */
    public static final String CHANNEL = "nightshift_run";

    private final DataSource ds;

    public RunQueue(DataSource ds) {
        this.ds = ds;
    }

    /** The id of the run and whether this call created it (false: the dedupe key matched an existing run). */
    public record Enqueued(long id, boolean created) {
    }

    /** Thrown when a run names a job the database does not know (or knows as removed). */
    public static final class UnknownJobException extends SQLException {
        UnknownJobException(String job) {
            super("unknown job '" + job + "'");
        }
    }

    /**
     * Enqueues in its own transaction, with NOTIFY. Tx retries after a lost connection, also when
     * the COMMIT reached the server and only its reply was lost: then the retry finds the run by its
     * dedupe key, and a key made for this request (see NewRun.manual) means the run is this call's.
     */
    public Enqueued enqueue(NewRun run) throws SQLException {
        int[] tries = {0};
        return Tx.call(ds, c -> {
            Enqueued e = enqueue(c, run);
            return ++tries[0] > 1 && !e.created() && run.requestKey() ? new Enqueued(e.id(), true) : e;
        });
    }

    /**
     * Enqueues inside the caller's transaction; the NOTIFY is delivered when that transaction
     * commits. Due at once means due from this statement (clock_timestamp), not from the start of
     * the caller's transaction: an {@code after:} dependent enqueued at the end of a long parent is
     * not old at birth.
     */
    public Enqueued enqueue(Connection c, NewRun run) throws SQLException {
        Enqueued e = insert(c, run, run.trigger().dbName(), null, run.actor() == null ? null : run.actor().name());
        if (e.created()) {
            audit(c, run, e.id());
        }
        return e;
    }

    /** A backfill's run of one slot, with the scheduler's dedupe key of that slot; null when the slot has a run. */
    public static Long enqueueBackfill(Connection c, String job, Period period, long backfill, String actor) throws SQLException {
        NewRun run = new NewRun(job, NewRun.Trigger.SCHEDULE, Map.of(), DedupeKey.schedule(job, period.slot()), null, period,
                null);
        Enqueued e = insert(c, run, "backfill", backfill, actor);
        return e.created() ? e.id() : null;
    }

    /**
     * A finished run in one of {@code states} back to the queue with fresh attempts, due now, with
     * {@code actor} (an operator's retry; a backfill's re-run of its slot, which makes it the
     * backfill's, {@code backfill} not null); a waiting run (state available among them) made due
     * now. Returns its job, or null when the run is in none of those states.
     */
    public static String rerun(Connection c, long id, Collection<String> states, Long backfill, String actor)
            throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepare(c, "rerun")) {
            s.bigint("id", id).texts("states", states).bigint("backfill", backfill).text("actor", actor);
            try (ResultSet rs = s.query()) {
                if (!rs.next()) {
                    return null;
                }
                String job = rs.getString(2);
                notify(c, job);
                return job;
            }
        }
    }

    private static Enqueued insert(Connection c, NewRun run, String trigger, Long backfill, String actor) throws SQLException {
        Period p = run.period();
        try (QueueSql.Bound s = QueueSql.prepare(c, "enqueue")) {
            s.text("job", run.jobName()).text("trigger", trigger).text("params", Json.write(run.params()))
                    .text("dedupe_key", run.dedupeKey()).time("run_at", run.runAt())
                    .time("scheduled_at", p == null ? null : p.slot()).time("period_start", p == null ? null : p.start())
                    .time("period_end", p == null ? null : p.end()).text("period_zone", p == null ? null : p.zone().getId())
                    .bigint("parent", run.parentRunId()).bigint("backfill", backfill)
                    .text("actor", actor);
            try (ResultSet rs = s.query()) {
                if (rs.next()) {
                    notify(c, run.jobName());
                    return new Enqueued(rs.getLong(1), true);
                }
            }
        }
        if (run.dedupeKey() != null) {
            Long id = runOfKey(c, run.dedupeKey());
            if (id != null) {
                return new Enqueued(id, false);
            }
        }
        throw new UnknownJobException(run.jobName());
    }

    /**
     * Cancels waiting runs: run {@code id}, or every waiting run of backfill {@code backfill}; they
     * end cancelled with {@code reason}, and {@code actor} when not null. Returns their jobs by id.
     */
    public static Map<Long, String> cancelWaiting(Connection c, Long id, Long backfill, String actor, String reason)
            throws SQLException {
        Map<Long, String> out = new LinkedHashMap<>();
        try (QueueSql.Bound s = QueueSql.prepare(c, "cancel_waiting")) {
            s.bigint("id", id).bigint("backfill", backfill).text("actor", actor).text("reason", reason);
            try (ResultSet rs = s.query()) {
                while (rs.next()) {
                    out.put(rs.getLong(1), rs.getString(2));
                }
            }
        }
        return out;
    }

    /** The run made with {@code dedupeKey}, or null. */
    public static Long runOfKey(Connection c, String dedupeKey) throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepare(c, "run_of_key")) {
            s.text("dedupe_key", dedupeKey);
            try (ResultSet rs = s.query()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    /**
     * A schedule's fire for {@code jobs} (the jobs the fire's overlap policy left to it): one run each
     * for the slot of {@code period}, with the scheduler's dedupe key. Returns each job's outcome:
     * {@code enqueued}, {@code duplicate}, {@code paused} or {@code removed}; NOTIFY when one was made.
     */
    public static Map<String, String> enqueueSlot(Connection c, List<String> jobs, Period period) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (QueueSql.Bound s = QueueSql.prepare(c, "enqueue_slot")) {
            s.texts("jobs", jobs).texts("keys", jobs.stream().map(j -> DedupeKey.schedule(j, period.slot())).toList())
                    .time("slot", period.slot()).time("period_start", period.start()).time("period_end", period.end())
                    .text("period_zone", period.zone().getId());
            try (ResultSet rs = s.query()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        for (Map.Entry<String, String> e : out.entrySet()) {
            if (e.getValue().equals("enqueued")) {
                // one notification for the whole batch: listeners wake on any
                notify(c, e.getKey());
                break;
            }
        }
        return out;
    }

    /** An operator's trigger, in the audit table in the transaction that makes the run. */
    private static void audit(Connection c, NewRun run, long id) throws SQLException {
        if (run.actor() == null) {
            return;
        }
        Map<String, Object> detail = new LinkedHashMap<>();
        if (!run.params().isEmpty()) {
            detail.put("params", run.params());
        }
        if (run.period() != null) {
            detail.put("at", run.period().slot().toString());
        }
        Action action = run.params().containsKey(RunParams.OVERRIDE_GUARDS) ? Action.GUARD_OVERRIDE : Action.TRIGGER;
        AuditLog.record(c, run.actor(), action, run.jobName(), id, null, detail);
    }

    /** Wakes the workers of every node when the caller's transaction commits; the payload is a job name. */
    public static void notify(Connection c, String jobName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify('" + CHANNEL + "', ?)")) {
            ps.setString(1, jobName);
            ps.execute();
        }
    }

    /**
     * Registers the worker connection {@code c} as an owner and takes the owner's lock on its
     * session, where it stays until the session ends. Returns the owner key.
     */
    public long register(Connection c, String node) throws SQLException {
        c.setAutoCommit(true);
        try (QueueSql.Bound s = QueueSql.prepare(c, "register")) {
            s.text("node", node);
            try (ResultSet rs = s.query()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** A worker connection closing cleanly: its owner row goes, and every slot it held is freed. */
    public void unregister(Connection c, long owner) throws SQLException {
        c.setAutoCommit(true);
        freeSlots(c, owner);
        try (QueueSql.Bound s = QueueSql.prepare(c, "unregister")) {
            s.bigint("owner", owner).update();
        }
    }

    /** Frees every slot {@code owner} holds (a worker that stops claiming for now). */
    public void freeSlots(Connection c, long owner) throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepare(c, "free_slots")) {
            s.bigint("owner", owner);
            s.query().close();
        }
    }

    /**
     * Claims a run for {@code owner}, a worker that holds no slot (idle), in a transaction of its own
     * on {@code c} (any connection: the claimer's), or returns null when none is due with room.
     */
    public ClaimedRun claimFirst(Connection c, long owner, String node) throws SQLException {
        return claim(c, owner, node, null, null);
    }

    /**
     * The general claim for the worker that just finished {@code previous} on {@code c} and holds its
     * slot: that slot is kept for a run of the same job, else freed. Null when none is due with room.
     */
    public ClaimedRun claimNext(Connection c, ClaimedRun previous) throws SQLException {
        return claim(c, previous.owner(), previous.node(), previous.jobName(), previous.slot());
    }

    private ClaimedRun claim(Connection c, long owner, String node, String heldJob, Integer heldSlot) throws SQLException {
        c.setAutoCommit(false);
        try (QueueSql.Bound s = QueueSql.prepare(c, "claim")) {
            // a claim lost in a crash leaves its run waiting: it need not wait for the WAL flush
            asyncCommit(c);
            s.bigint("owner", owner).text("node", node).text("held_job", heldJob).integer("held_slot", heldSlot);
            ClaimedRun run;
            try (ResultSet rs = s.query()) {
                run = rs.next() ? claimed(rs, node, owner, false) : null;
                if (rs.next()) {
                    throw new IllegalStateException("a claim of one run returned more");
                }
            }
            c.commit();
            return run;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void asyncCommit(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT set_config('synchronous_commit', 'off', true)")) {
            ps.execute();
        }
    }

    private static ClaimedRun claimed(ResultSet rs, String node, long owner, boolean settingsSet) throws SQLException {
        int slot = rs.getInt("slot");
        Integer s = rs.wasNull() ? null : slot;
        Map<String, String> settings = new LinkedHashMap<>(Json.stringMap(rs.getString("settings")));
        int attempt = rs.getInt("attempt");
        settings.put("nightshift.attempt", Integer.toString(attempt));
        return new ClaimedRun(rs.getLong("id"), rs.getString("job_name"), attempt, rs.getInt("max_attempts"),
                rs.getString("trigger"), Json.stringMap(rs.getString("params")), rs.getTimestamp("created_at").toInstant(),
                rs.getTimestamp("started_at").toInstant(), node, owner, s, Map.copyOf(settings), settingsSet);
    }

    /**
     * Sets {@code run}'s settings on {@code c}, its owner's session, where they differ from the
     * session's; the parameters of {@code clear} (setting names) the run lacks are emptied.
     */
    public void useSettings(Connection c, ClaimedRun run, Collection<String> clear) throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepare(c, "use_settings")) {
            s.text("settings", Json.write(run.settings())).texts("clear", clear);
            s.query().close();
        }
    }

    /** Raised when the run is no longer this attempt's or a cancel was asked (SQLSTATE NS409). */
    public static final class NotCompletedException extends SQLException {
        /** The SQLSTATE nightshift.queue_lost raises. */
        static final String SQLSTATE = "NS409";

        NotCompletedException(SQLException cause) {
            super(cause.getMessage(), SQLSTATE, cause);
        }
    }

    /**
     * Ends the caller's transaction (the one holding the job's work) as the run's success and
     * claims the worker's next run of the same job in its slot, settings set, then commits: one
     * round trip. Returns the next run or null (then the worker still holds the slot: see
     * {@link #claimNext}).
     *
     * @throws NotCompletedException the run is no longer ours or a cancel was asked; the
     *                               transaction is aborted (roll it back), nothing was claimed
     */
    public ClaimedRun completeAndClaimNext(Connection c, ClaimedRun run, Map<String, Long> counts) throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepareThenCommit(c, "complete_and_claim_next")) {
            s.bigint("id", run.id()).bigint("owner", run.owner()).integer("attempt", run.attempt())
                    .text("counts", countsJson(counts)).text("node", run.node()).text("job", run.jobName())
                    .integer("slot", run.slot()).texts("clear", run.paramSettings());
            ClaimedRun next = null;
            try (ResultSet rs = s.execute()) {
                if (rs.next() && rs.getObject("id") != null) {
                    next = claimed(rs, run.node(), run.owner(), true);
                }
            }
            return next;
        } catch (SQLException e) {
            throw notCompleted(e);
        }
    }

    /**
     * Ends the caller's transaction as the run's success without claiming (a run without a
     * transaction of its own, a draining worker), frees its slot, and commits.
     *
     * @throws NotCompletedException as {@link #completeAndClaimNext}
     */
    public void complete(Connection c, ClaimedRun run, Map<String, Long> counts) throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepareThenCommit(c, "complete")) {
            s.bigint("id", run.id()).bigint("owner", run.owner()).integer("attempt", run.attempt())
                    .text("counts", countsJson(counts));
            s.execute().close();
        } catch (SQLException e) {
            throw notCompleted(e);
        }
    }

    private static SQLException notCompleted(SQLException e) {
        return NotCompletedException.SQLSTATE.equals(e.getSQLState()) ? new NotCompletedException(e) : e;
    }

    private static String countsJson(Map<String, ?> counts) {
        return counts == null || counts.isEmpty() ? null : Json.write(counts);
    }

    /** What a failed attempt turned into. */
    public record Failed(String state, Instant runAt) {
    }

    /**
     * A failed attempt: {@code error} and {@code sqlState} recorded, back to the queue after
     * {@code delay}, or dead when attempts are exhausted or the failure is {@code permanent};
     * {@code counts} (a guard's verdict) recorded when not null.
     */
    public record Failure(String error, String sqlState, Duration delay, boolean permanent, Map<String, Object> counts) {
    }

    /** Records a failed attempt (see {@link Failure}); its slot is freed. Null when the run is no longer ours. */
    public Failed fail(ClaimedRun run, Failure f) throws SQLException {
        boolean dead = f.permanent() || run.attempt() >= run.maxAttempts();
        return Tx.call(ds, c -> {
            try (QueueSql.Bound s = QueueSql.prepare(c, "fail")) {
                s.bigint("id", run.id()).bigint("owner", run.owner()).integer("attempt", run.attempt())
                        .bool("dead", dead).bigint("delay_ms", f.delay().toMillis()).text("error", truncate(f.error()))
                        .text("sqlstate", f.sqlState()).text("counts", countsJson(f.counts()));
                try (ResultSet rs = s.query()) {
                    if (!rs.next()) {
                        return null;
                    }
                    Failed out = new Failed(rs.getString(1), rs.getTimestamp(2).toInstant());
                    if (!dead) {
                        notify(c, run.jobName());
                    }
                    return out;
                }
            }
        });
    }

    /** Ends a run whose cancel was requested; its slot is freed. False when it is no longer ours. */
    public boolean markCancelled(ClaimedRun run) throws SQLException {
        return Tx.call(ds, c -> ended(c, "cancelled", run, null));
    }

    /** Whether an operator asked to cancel this run. */
    public boolean cancelRequested(Connection c, long runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT cancel_requested FROM nightshift.running WHERE id = ?")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * Gives a run back without counting the attempt (graceful shutdown aborted it): available
     * again at once, for any node; its slot is freed.
     */
    public boolean release(ClaimedRun run, String reason) throws SQLException {
        return Tx.call(ds, c -> {
            boolean released = ended(c, "release", run, reason);
            if (released) {
                notify(c, run.jobName());
            }
            return released;
        });
    }

    private static boolean ended(Connection c, String statement, ClaimedRun run, String reason) throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepare(c, statement)) {
            s.bigint("id", run.id()).bigint("owner", run.owner()).integer("attempt", run.attempt());
            if (reason != null) {
                s.text("reason", reason);
            }
            try (ResultSet rs = s.query()) {
                return rs.next();
            }
        }
    }

    /** A run a rescue took from a dead owner. */
    public record Rescued(long id, String jobName, String node, int attempt, boolean dead) {
    }

    /**
     * Finds dead owners (registered or recorded on running runs, and whose lock this session can
     * take) and, for each, in one transaction holding its lock: its running runs go back to the queue
     * (or to history as dead after their last attempt), its slots are freed, its row deleted.
     * {@code node} names the rescuer in the runs' last error.
     */
    public List<Rescued> rescue(String node) throws SQLException {
        List<Long> owners = new ArrayList<>();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(true);
            try (QueueSql.Bound s = QueueSql.prepare(c, "orphan_owners"); ResultSet rs = s.query()) {
                while (rs.next()) {
                    owners.add(rs.getLong(1));
                }
            }
        }
        List<Rescued> out = new ArrayList<>();
        for (long owner : owners) {
            out.addAll(Tx.call(ds, c -> rescue(c, owner, node)));
        }
        return out;
    }

    private static List<Rescued> rescue(Connection c, long owner, String node) throws SQLException {
        List<Rescued> out = new ArrayList<>();
        try (QueueSql.Bound s = QueueSql.prepare(c, "try_owner")) {
            s.bigint("owner", owner);
            try (ResultSet rs = s.query()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return out;
                }
            }
        }
        try (QueueSql.Bound s = QueueSql.prepare(c, "rescue")) {
            s.bigint("owner", owner).text("node", node);
            try (ResultSet rs = s.query()) {
                while (rs.next()) {
                    out.add(new Rescued(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getBoolean(5)));
                }
            }
        }
        for (Rescued r : out) {
            if (!r.dead()) {
                notify(c, r.jobName());
            }
        }
        return out;
    }

    /** The listener's check: whether a run is due, and whether an owner may be dead. */
    public record Check(boolean due, boolean orphaned) {
    }

    public static Check check(Connection c) throws SQLException {
        try (QueueSql.Bound s = QueueSql.prepare(c, "check"); ResultSet rs = s.query()) {
            rs.next();
            return new Check(rs.getBoolean(1), rs.getBoolean(2));
        }
    }

    static String truncate(String s) {
        if (s == null) {
            return null;
        }
        return s.length() <= 4000 ? s : s.substring(0, 4000) + "...";
    }
}
