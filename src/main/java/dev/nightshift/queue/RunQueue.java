package dev.nightshift.queue;

import dev.nightshift.audit.Action;
import dev.nightshift.audit.AuditLog;
import dev.nightshift.json.Json;
import dev.nightshift.db.Tx;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The run table as a work queue: enqueue, claim, start, complete, fail, release. Every update of a
 * running run names its id, node and attempt, so a node that lost a run (rescued after its lock
 * vanished) can never complete or fail the new attempt. Stateless apart from the data source;
 * thread-safe.
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
        // An after: run without a period of its own inherits its parent's.
        String insert = """
                INSERT INTO nightshift.run (job_name, trigger, params, dedupe_key, max_attempts, run_at, scheduled_at,
                                            period_start, period_end, period_zone, parent_run_id, actor)
                SELECT j.name, ?, ?::jsonb, ?, j.max_attempts, coalesce(?, clock_timestamp()),
                       CASE WHEN ? THEN ? ELSE p.scheduled_at END,
                       CASE WHEN ? THEN ? ELSE p.period_start END,
                       CASE WHEN ? THEN ? ELSE p.period_end END,
                       CASE WHEN ? THEN ? ELSE p.period_zone END, ?, coalesce(?, p.actor)
                FROM nightshift.job j
                LEFT JOIN nightshift.run p ON p.id = ?
                WHERE j.name = ? AND j.removed_at IS NULL
                ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
                RETURNING id
                """;
        Period period = run.period();
        boolean own = period != null;
        try (PreparedStatement ps = c.prepareStatement(insert)) {
            ps.setString(1, run.trigger().dbName());                            // trigger
            ps.setString(2, Json.write(run.params()));                          // params
            ps.setString(3, run.dedupeKey());                                   // dedupe_key
            ps.setTimestamp(4, ts(run.runAt()));                                // run_at
            ps.setBoolean(5, own);
            ps.setTimestamp(6, own ? ts(period.slot()) : null);                 // scheduled_at
            ps.setBoolean(7, own);
            ps.setTimestamp(8, own ? ts(period.start()) : null);                // period_start
            ps.setBoolean(9, own);
            ps.setTimestamp(10, own ? ts(period.end()) : null);                 // period_end
            ps.setBoolean(11, own);
            ps.setString(12, own ? period.zone().getId() : null);               // period_zone
            ps.setObject(13, run.parentRunId(), java.sql.Types.BIGINT);         // parent_run_id
            ps.setString(14, run.actor() == null ? null : run.actor().name());  // actor (else the parent's)
            ps.setObject(15, run.parentRunId(), java.sql.Types.BIGINT);         // the parent, for its period
            ps.setString(16, run.jobName());                                    // job.name
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    long id = rs.getLong(1);
                    audit(c, run, id);
                    notify(c, run.jobName());
                    return new Enqueued(id, true);
                }
            }
        }
        if (run.dedupeKey() != null) {
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM nightshift.run WHERE dedupe_key = ?")) {
                ps.setString(1, run.dedupeKey());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return new Enqueued(rs.getLong(1), false);
                    }
                }
            }
        }
        throw new UnknownJobException(run.jobName());
    }

    /** An operator's trigger, in the audit table in the transaction that makes the run. */
    private static void audit(Connection c, NewRun run, long id) throws SQLException {
        if (run.actor() == null) {
            return;
        }
        Map<String, Object> detail = new java.util.LinkedHashMap<>();
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
     * Claims up to {@code max} due runs for {@code node}, respecting each job's concurrency across
     * all nodes, and takes each run's {@link RunLock} in shared mode on {@code c} inside the claim,
     * so that no rescuer can see a claimed run without its lock.
     *
     * @param forThisSession true when {@code c} is the connection that will do the work (a worker
     *                       claiming its next run, {@code max} 1): the lock and backend pid are
     *                       already right, and the run's settings are set on the session (with
     *                       {@code max} above 1, the last run's).
     *                       Otherwise the caller hands each run to a worker, which takes the lock
     *                       on its own connection ({@link #start}), and then calls {@link #releaseHandoff}.
     */
    public List<ClaimedRun> claim(Connection c, String node, int max, boolean forThisSession) throws SQLException {
        // One run per call, each call its own transaction (autocommit): see R__queue.sql.
        c.setAutoCommit(true);
        List<ClaimedRun> runs = new ArrayList<>();
        List<ClaimedRun> unlocked = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, timeout_ms, locked
                FROM nightshift.claim(?, ?, true)
                """)) {
            ps.setString(1, node);                  // owner node
            ps.setBoolean(2, forThisSession);       // backend_pid known now, settings for this session?
            while (runs.size() < max) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        break;
                    }
                    ClaimedRun run = claimed(rs, 1, node);
                    runs.add(run);
                    if (!rs.getBoolean(10)) {
                        unlocked.add(run);
                    }
                    if (rs.next()) {
                        throw new IllegalStateException("a claim of one run returned more");
                    }
                }
            }
        }
        // A run whose lock the claim could not take (a rescuer that had just put it back to available
        // still held it): the worker takes it now and checks the run is still this attempt's; if
        // not, the run is not worked on (the rescuer finds it). The claimer's hand-offs do the same.
        if (forThisSession) {
            for (ClaimedRun run : unlocked) {
                if (!start(c, run)) {
                    runs.remove(run);
                }
            }
        }
        return runs;
    }

    private static ClaimedRun claimed(ResultSet rs, int from, String node) throws SQLException {
        long timeoutMs = rs.getLong(from + 8);
        Long sessionTimeout = rs.wasNull() ? null : timeoutMs;
        return new ClaimedRun(rs.getLong(from), rs.getString(from + 1), rs.getInt(from + 2), rs.getInt(from + 3),
                rs.getString(from + 4), Json.stringMap(rs.getString(from + 5)), rs.getTimestamp(from + 6).toInstant(),
                rs.getTimestamp(from + 7).toInstant(), node, sessionTimeout);
    }

    /** Raised by {@link #completeAndClaim} when the run is no longer this attempt's or a cancel was asked. */
    public static final class NotCompletedException extends SQLException {
        /** The SQLSTATE nightshift.complete_and_claim raises. */
        static final String SQLSTATE = "NS409";

        NotCompletedException(SQLException cause) {
            super(cause.getMessage(), SQLSTATE, cause);
        }
    }

    /**
     * Ends the caller's transaction (the one holding the job's work, for transactional jobs) as the
     * run's success, in one round trip: marks the run succeeded, releases {@code unlock} (the lock
     * of the worker's previous, finished run, or null), claims the worker's next run on {@code c}
     * when {@code claimNext} (its lock taken, its settings set on the session), and commits.
     * Every update names the run's id, node and attempt. Returns the next run or null.
     *
     * @throws NotCompletedException the run is no longer ours or a cancel was asked; the
     *                               transaction is aborted (roll it back), nothing was claimed
     * @throws SQLException          anything else; then, if a claim happened, its session lock
     *                               stays: call {@link #unlockAllBut} after rolling back
     */
    public ClaimedRun completeAndClaim(Connection c, ClaimedRun run, Map<String, Long> counts, Long unlock,
                                       boolean claimNext) throws SQLException {
        // Two statements, one round trip: pgjdbc sends them in one batch, and after an error the
        // server skips the rest, so a failed completion never reaches the COMMIT.
        String sql = """
                SELECT id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, timeout_ms, locked
                FROM nightshift.complete_and_claim(?, ?, ?, ?::jsonb, ?, ?, ?::text[]);
                COMMIT
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, run.id());                                                            // id
            ps.setString(2, run.node());                                                        // node
            ps.setInt(3, run.attempt());                                                        // attempt
            ps.setString(4, counts == null || counts.isEmpty() ? null : Json.write(counts));   // counts
            ps.setObject(5, unlock, java.sql.Types.BIGINT);                                    // previous run's lock
            ps.setBoolean(6, claimNext);                                                        // claim the next run?
            ps.setArray(7, c.createArrayOf("text", run.params().keySet().toArray()));          // this run's params, dropped
            ps.execute();
            ClaimedRun next = null;
            boolean locked = true;
            try (ResultSet rs = ps.getResultSet()) {
                if (rs.next()) {
                    next = claimed(rs, 1, run.node());
                    locked = rs.getBoolean(10);
                }
                if (rs.next()) {
                    throw new IllegalStateException("completion of run " + run.id() + " claimed more than one run");
                }
            }
            // (after the COMMIT, which the same round trip carried; see claim for an unlocked run)
            return next == null || locked || start(c, next) ? next : null;
        } catch (SQLException e) {
            if (NotCompletedException.SQLSTATE.equals(e.getSQLState())) {
                throw new NotCompletedException(e);
            }
            throw e;
        }
    }

    /**
     * Releases every run lock this session holds except {@code keep}'s: after a failed
     * {@link #completeAndClaim}, whose claim rolled back but whose lock (not transactional) did not.
     */
    public void unlockAllBut(Connection c, long keep) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT pg_advisory_unlock_shared(k)
                FROM (SELECT (l.classid::bigint << 32) | l.objid::bigint AS k
                      FROM pg_locks l
                      WHERE l.pid = pg_backend_pid() AND l.locktype = 'advisory' AND l.objsubid = 1
                        AND l.mode = 'ShareLock' AND l.granted) held
                WHERE k <> ? AND k >> 48 = nightshift.run_lock_key(0) >> 48
                """)) {
            ps.setLong(1, RunLock.key(keep));
            ps.execute();
        }
    }

    /** Drops the claim-time locks on the claimer's connection once the workers hold their own. */
    public void releaseHandoff(Connection c, List<ClaimedRun> runs) throws SQLException {
        if (runs.isEmpty()) {
            return;
        }
        Long[] keys = runs.stream().map(r -> RunLock.key(r.id())).toArray(Long[]::new);
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock_shared(k) FROM unnest(?::bigint[]) k")) {
            Array a = c.createArrayOf("bigint", keys);
            ps.setArray(1, a);
            ps.execute();
        }
    }

    /**
     * Called by the worker on the connection that will do the run's work: takes the run's lock
     * there, checks the run is still this node's attempt, and records the backend pid for
     * operators. False means the run was lost in the hand-off and must not be executed.
     */
    public boolean start(Connection c, ClaimedRun run) throws SQLException {
        c.setAutoCommit(true);
        // set_config(..., true) lasts for this statement's own transaction: the pid need not be durable.
        String sql = """
                WITH s AS (SELECT set_config('synchronous_commit', 'off', true) AS v),
                     l AS (SELECT pg_try_advisory_lock_shared(?) AS locked)
                UPDATE nightshift.run r SET backend_pid = pg_backend_pid()
                FROM s, l
                WHERE l.locked AND r.id = ? AND r.state = 'running' AND r.node = ? AND r.attempt = ?
                """;
        // A rescuer that has just put this run back to available (its previous attempt's owner was
        // gone) holds the run's lock exclusively for a round trip or two after its update commits,
        // and a claim can take the run within that window (its lock then comes back false). Giving
        // up then would leave the run running with no owner, for the next rescue to take an attempt
        // from it; so while the run is still this node's, the lock is tried again for a while.
        long deadline = System.nanoTime() + START_LOCK_PATIENCE.toNanos();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, RunLock.key(run.id()));   // the run's lock, shared
            ps.setLong(2, run.id());                // id
            ps.setString(3, run.node());            // node
            ps.setInt(4, run.attempt());            // attempt
            while (true) {
                if (ps.executeUpdate() == 1) {
                    return true;
                }
                if (System.nanoTime() > deadline || !stillOwned(c, run)) {
                    break;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    // an abort of the node: give the run up as if it were taken; the rescuer has it
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        // Not ours any more; drop the lock if the statement took it (a no-op with a warning if not).
        unlock(c, run);
        return false;
    }

    /** How long {@link #start} tries for the lock of a run that is still its own. */
    private static final java.time.Duration START_LOCK_PATIENCE = java.time.Duration.ofSeconds(2);

    private static boolean stillOwned(Connection c, ClaimedRun run) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM nightshift.run WHERE id = ? AND state = 'running' AND node = ? AND attempt = ?")) {
            ps.setLong(1, run.id());                // id
            ps.setString(2, run.node());            // node
            ps.setInt(3, run.attempt());            // attempt
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Releases the run's lock on the worker's connection; call after the run's last update. */
    public void unlock(Connection c, ClaimedRun run) throws SQLException {
        unlock(c, run.id());
    }

    /** Releases the lock of run {@code runId} held by the session of {@code c}. */
    public void unlock(Connection c, long runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock_shared(?)")) {
            ps.setLong(1, RunLock.key(runId));
            ps.execute();
        }
    }

    /** What a failed attempt turned into. */
    public record Failed(String state, Instant runAt) {
    }

    /**
     * Records a failed attempt: back to {@code available} after {@code delay}, or {@code dead}
     * when attempts are exhausted or {@code permanent}. Null when the run is no longer ours.
     */
    public Failed fail(ClaimedRun run, String error, String sqlState, Duration delay, boolean permanent) throws SQLException {
        return fail(run, error, sqlState, delay, permanent, null);
    }

    /** As {@link #fail(ClaimedRun, String, String, Duration, boolean)}, recording {@code counts} (a guard's verdict) when not null. */
    public Failed fail(ClaimedRun run, String error, String sqlState, Duration delay, boolean permanent, Map<String, Object> counts)
            throws SQLException {
        boolean dead = permanent || run.attempt() >= run.maxAttempts();
        String sql = """
                UPDATE nightshift.run
                SET state = ?,
                    run_at = CASE WHEN ? THEN run_at ELSE clock_timestamp() + ? * interval '1 millisecond' END,
                    finished_at = CASE WHEN ? THEN clock_timestamp() END,
                    last_error = ?, last_error_sqlstate = ?, backend_pid = NULL, counts = coalesce(?::jsonb, counts)
                WHERE id = ? AND state = 'running' AND node = ? AND attempt = ?
                RETURNING state, run_at
                """;
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, dead ? "dead" : "available");   // state
                ps.setBoolean(2, dead);                         // keep run_at when dead
                ps.setLong(3, delay.toMillis());                // backoff
                ps.setBoolean(4, dead);                         // finished_at when dead
                ps.setString(5, truncate(error));               // last_error
                ps.setString(6, sqlState);                      // last_error_sqlstate
                ps.setString(7, counts == null ? null : Json.write(counts));   // counts
                ps.setLong(8, run.id());                        // id
                ps.setString(9, run.node());                    // node
                ps.setInt(10, run.attempt());                   // attempt
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    Failed f = new Failed(rs.getString(1), rs.getTimestamp(2).toInstant());
                    if (!dead) {
                        notify(c, run.jobName());
                    }
                    return f;
                }
            }
        });
    }

    /** Ends a run whose cancel was requested. False when it is no longer ours. */
    public boolean markCancelled(ClaimedRun run) throws SQLException {
        String sql = """
                UPDATE nightshift.run
                SET state = 'cancelled', finished_at = clock_timestamp(), backend_pid = NULL,
                    last_error = coalesce(last_error, 'cancelled')
                WHERE id = ? AND state = 'running' AND node = ? AND attempt = ?
                """;
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, run.id());
                ps.setString(2, run.node());
                ps.setInt(3, run.attempt());
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Whether an operator asked to cancel this run. */
    public boolean cancelRequested(Connection c, long runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT cancel_requested FROM nightshift.run WHERE id = ?")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * Gives a run back without counting the attempt (graceful shutdown aborted it): available
     * again at once, for any node.
     */
    public boolean release(ClaimedRun run, String reason) throws SQLException {
        String sql = """
                UPDATE nightshift.run
                SET state = 'available', attempt = attempt - 1, run_at = now(), backend_pid = NULL,
                    last_error = ?, last_error_sqlstate = NULL
                WHERE id = ? AND state = 'running' AND node = ? AND attempt = ?
                """;
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, reason);
                ps.setLong(2, run.id());
                ps.setString(3, run.node());
                ps.setInt(4, run.attempt());
                boolean released = ps.executeUpdate() == 1;
                if (released) {
                    notify(c, run.jobName());
                }
                return released;
            }
        });
    }

    static String truncate(String s) {
        if (s == null) {
            return null;
        }
        return s.length() <= 4000 ? s : s.substring(0, 4000) + "...";
    }

    static Timestamp ts(Instant i) {
        return i == null ? null : Timestamp.from(i);
    }
}
