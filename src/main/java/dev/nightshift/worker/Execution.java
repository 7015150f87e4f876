package dev.nightshift.worker;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.db.SqlStates;
import dev.nightshift.db.Tx;
import dev.nightshift.jobs.Attempt;
import dev.nightshift.jobs.GuardRefusedException;
import dev.nightshift.jobs.JobFailedException;
import dev.nightshift.jobs.JobType;
import dev.nightshift.queue.ClaimedRun;
import dev.nightshift.queue.RunQueue;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One attempt of one claimed run, on a connection that holds the run's lock: do the job's work
 * and record the outcome. For transactional jobs the work, the transition to succeeded and the
 * claim of the worker's next run commit together; the finished run's lock is then kept until the
 * next completion releases it (a succeeded run can never run again, so its lock guards nothing),
 * which saves a round trip per run. Transient database errors are retried inside the attempt.
 * Used by one worker thread; {@link #abort()} may be called from the shutdown thread.
 */
final class Execution implements Attempt {
    private static final Logger log = LoggerFactory.getLogger(Execution.class);

    private final Node node;
    private final ClaimedRun run;
    private final Connection connection;
    private final boolean claimNext;
    /** The lock of the worker's previous run, still held on {@link #connection}; released here. */
    private Long previousLock;
    private ClaimedRun next;
    private boolean lockKept;
    private volatile boolean aborting;
    private volatile boolean cancelSeen;
    private JobDefinition definition;
    private dev.nightshift.runlog.AttemptLog runLog;

    /**
     * @param previousLock the worker's previous run whose lock {@code connection} still holds, or null
     * @param claimNext    whether a successful completion also claims the worker's next run
     */
    Execution(Node node, ClaimedRun run, Connection connection, Long previousLock, boolean claimNext) {
        this.node = node;
        this.run = run;
        this.connection = connection;
        this.previousLock = previousLock;
        this.claimNext = claimNext;
    }

    /** The run claimed with this run's completion, or null. */
    ClaimedRun next() {
        return next;
    }

    /** Whether the completion looked for a next run (so none was due when it found none). */
    boolean claimTried() {
        return claimNext && lockKept;
    }

    /** This run's id when its lock is still held after {@link #execute()} (see the class comment), else null. */
    Long keptLock() {
        return lockKept ? run.id() : null;
    }

    /** Runs the attempt, then releases the run's lock; MDC carries job and run meanwhile. */
    void execute() {
        MDC.put("job", run.jobName());
        MDC.put("run", Long.toString(run.id()));
        runLog = node.runLogs().open(run.id(), run.attempt());
        try {
            attempt(connection);
        } catch (RuntimeException e) {
            log.error("run {} of job {}: unexpected failure in the worker", run.id(), run.jobName(), e);
        } finally {
            runLog.close();
            cleanUp(connection);
            MDC.remove("job");
            MDC.remove("run");
        }
    }

    private void attempt(Connection c) {
        Instant started = Instant.now();
        definition = node.catalog().find(run.jobName()).orElse(null);
        if (definition == null) {
            failed(started, new JobFailedException("job '" + run.jobName() + "' is not in this node's catalog ("
                    + node.settings().jobsDir() + ")"), false);
            return;
        }
        JobType type = node.types();
        boolean tx = type.transactional(definition);
        log.info("run {} of job {} started (attempt {}/{}, trigger {}{})", run.id(), run.jobName(), run.attempt(),
                run.maxAttempts(), run.trigger(),
                run.params().isEmpty() ? "" : ", params " + node.runLogs().scrubber().scrub(run.params().toString()));
        for (int tries = 1; ; tries++) {
            try {
                Map<String, Long> counts = tx ? inTransaction(c, type) : withoutTransaction(c, type);
                if (counts != null) {
                    succeeded(started, counts);
                }
                return;
            } catch (Exception e) {
                rollbackQuietly(c);
                if (aborting) {
                    released(started);
                    return;
                }
                if (cancelRequested()) {
                    cancelled(started);
                    return;
                }
                if (SqlStates.isTransient(e) && tries < Tx.MAX_TRIES) {
                    log.info("run {}: transient failure (SQLSTATE {}), retrying within the attempt ({}/{}): {}",
                            run.id(), SqlStates.of(e), tries, Tx.MAX_TRIES, e.getMessage());
                    Tx.pause(tries);
                    continue;
                }
                failed(started, e, e instanceof JobFailedException);
                return;
            }
        }
    }

    /** Work and completion in one transaction. Null when the run was not completed (lost or cancelled). */
    private Map<String, Long> inTransaction(Connection c, JobType type) throws Exception {
        c.setAutoCommit(false);
        // A run claimed on this session by the previous run's completion has its settings already.
        if (!sessionReady()) {
            session(c, true);
        }
        return complete(c, type.execute(this));
    }

    /** Each statement commits on its own; the completion follows in a transaction of its own. */
    private Map<String, Long> withoutTransaction(Connection c, JobType type) throws Exception {
        c.setAutoCommit(true);
        session(c, false);
        Map<String, Long> counts;
        try {
            counts = type.execute(this);
        } finally {
            resetSession(c);
        }
        c.setAutoCommit(false);
        return complete(c, counts);
    }

    /**
     * Ends the open transaction as the run's success: {@code after:} dependents, the completion, the
     * claim of the worker's next run and the commit, the last three in one round trip. Null when
     * the run was not completed (lost or cancelled): then nothing of the transaction commits.
     */
    private Map<String, Long> complete(Connection c, Map<String, Long> counts) throws Exception {
        // Before the completion, in the same transaction: if the completion fails, they roll back with it.
        for (SuccessHook h : node.successHooks()) {
            h.onSuccess(c, run, definition);
        }
        Long unlock = previousLock;
        previousLock = null;
        try {
            next = node.queue().completeAndClaim(c, run, counts, unlock, claimNext);
        } catch (RunQueue.NotCompletedException e) {
            c.rollback();
            notCompleted(Instant.now());
            return null;
        } catch (SQLException e) {
            if (claimNext) {
                // a claim may have run before the commit failed: its lock outlived its rollback
                c.rollback();
                node.queue().unlockAllBut(c, run.id());
            }
            throw e;
        }
        lockKept = true;
        return counts;
    }

    /** Whether the claim already set this run's settings on the session, with the timeout this node's catalog says. */
    private boolean sessionReady() {
        long timeout = definition.timeout() == null ? 0 : definition.timeout().toMillis();
        return run.sessionTimeoutMs() != null && run.sessionTimeoutMs() == timeout;
    }

    /**
     * The run's logical time as settings, read from its row: {@code nightshift.scheduled_at},
     * {@code .period_start}, {@code .period_end}, written by {@code nightshift.logical_time_text}
     * (R__queue.sql), which the claim uses too; and its actor, {@code nightshift.actor}.
     */
    static final String PERIOD_SETTINGS = """
            SELECT set_config('nightshift.' || t.name, nightshift.logical_time_text(t.at, r.period_zone), ?)
            FROM nightshift.run r
            CROSS JOIN LATERAL (VALUES ('scheduled_at', r.scheduled_at), ('period_start', r.period_start),
                                       ('period_end', r.period_end)) AS t(name, at)
            WHERE r.id = ?
            UNION ALL
            SELECT set_config('nightshift.actor', coalesce(r.actor, ''), ?) FROM nightshift.run r WHERE r.id = ?
            """;

    /** statement_timeout, the run's identity and logical time as session settings readable from SQL. */
    private void session(Connection c, boolean local) throws SQLException {
        List<String> keys = new ArrayList<>(List.of("statement_timeout", "nightshift.run_id", "nightshift.job_name", "nightshift.attempt"));
        List<String> values = new ArrayList<>(List.of(
                definition.timeout() == null ? "0" : Long.toString(definition.timeout().toMillis()),
                Long.toString(run.id()), run.jobName(), Integer.toString(run.attempt())));
        run.params().forEach((k, v) -> {
            keys.add("nightshift.param." + k);
            values.add(v);
        });
        // one round trip: the identity, then the logical time read from the run's row
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT set_config(k, v, ?) FROM unnest(?::text[], ?::text[]) AS t(k, v) UNION ALL " + PERIOD_SETTINGS)) {
            ps.setBoolean(1, local);
            ps.setArray(2, c.createArrayOf("text", keys.toArray()));
            ps.setArray(3, c.createArrayOf("text", values.toArray()));
            ps.setBoolean(4, local);
            ps.setLong(5, run.id());
            ps.setBoolean(6, local);
            ps.setLong(7, run.id());
            ps.execute();
        }
    }

    /** Undoes {@link #session} at session level; a connection where that fails is not reused. */
    private void resetSession(Connection c) {
        resetSession(node, c);
    }

    /**
     * Drops a run's session-level settings (set by {@link #session} or by a claim) from {@code c}:
     * all of them, back to the connection's start-up values. (The nightshift.* custom settings are
     * not listed in pg_settings, so they cannot be found one by one.)
     */
    static void resetSession(Node node, Connection c) {
        try (var st = c.createStatement()) {
            st.execute("RESET ALL");
        } catch (SQLException e) {
            // A session that kept a run's settings must not serve another run: the pool drops it.
            node.database().evict(c);
        }
    }

    private void cleanUp(Connection c) {
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
            if (previousLock != null) {
                node.queue().unlock(c, previousLock);
                previousLock = null;
            }
            if (!lockKept) {
                node.queue().unlock(c, run);
            }
        } catch (SQLException e) {
            // Closing the session is the one sure way to drop a lock we could not release.
            node.database().evict(c);
        }
    }

    private void notCompleted(Instant started) {
        if (cancelRequested()) {
            cancelled(started);
        } else {
            log.error("run {}: this node no longer owns attempt {} (it was rescued elsewhere); its work was rolled back",
                    run.id(), run.attempt());
        }
    }

    private boolean cancelRequested() {
        try {
            cancelSeen = Tx.call(node.database().dataSource(), x -> node.queue().cancelRequested(x, run.id()));
        } catch (SQLException e) {
            log.warn("run {}: could not read its cancel flag: {}", run.id(), e.getMessage());
        }
        return cancelSeen;
    }

    private void succeeded(Instant started, Map<String, Long> counts) {
        Duration d = Duration.between(started, Instant.now());
        node.metrics().attemptFinished(run.jobName(), "succeeded", run.trigger(), d);
        node.metrics().rows(run.jobName(), counts);
        log.info("run {} of job {} succeeded in {} ms{}", run.id(), run.jobName(), d.toMillis(),
                counts.isEmpty() ? "" : " " + counts);
    }

    private void cancelled(Instant started) {
        try {
            node.queue().markCancelled(run);
        } catch (SQLException e) {
            log.warn("run {}: could not record the cancel: {}", run.id(), e.getMessage());
        }
        node.metrics().attemptFinished(run.jobName(), "cancelled", run.trigger(), Duration.between(started, Instant.now()));
        log.info("run {} of job {} cancelled", run.id(), run.jobName());
    }

    private void released(Instant started) {
        try {
            node.queue().release(run, "aborted by the shutdown of node " + run.node() + "; the attempt does not count");
        } catch (SQLException e) {
            log.warn("run {}: could not give it back ({}); the rescuer will", run.id(), e.getMessage());
        }
        node.metrics().attemptFinished(run.jobName(), "aborted", run.trigger(), Duration.between(started, Instant.now()));
        log.info("run {} of job {} aborted by shutdown and rolled back; it is available again", run.id(), run.jobName());
    }

    private void failed(Instant started, Exception e, boolean permanent) {
        Duration d = Duration.between(started, Instant.now());
        String sqlState = SqlStates.of(e);
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Duration delay = Backoff.delay(definition == null ? JobDefinition.DEFAULT_BACKOFF : definition.backoff(), run.attempt());
        RunQueue.Failed f = null;
        try {
            f = node.queue().fail(run, message, sqlState, delay, permanent, guardVerdict(e));
        } catch (SQLException ex) {
            log.warn("run {}: could not record the failure ({}); the rescuer will retry it", run.id(), ex.getMessage());
        }
        String outcome = f != null && f.state().equals("dead") ? "dead" : "failed";
        node.metrics().attemptFinished(run.jobName(), outcome, run.trigger(), d);
        if (f != null && f.state().equals("available")) {
            log.warn("run {} of job {} failed (attempt {}/{}, SQLSTATE {}), retry at {}: {}", run.id(), run.jobName(),
                    run.attempt(), run.maxAttempts(), sqlState, f.runAt(), message);
        } else {
            log.error("run {} of job {} failed for good (attempt {}/{}, SQLSTATE {}): {}", run.id(), run.jobName(),
                    run.attempt(), run.maxAttempts(), sqlState, message);
        }
    }

    /** A guard's refusal: its figures and name, for the run's counts; else null. */
    private static Map<String, Object> guardVerdict(Exception e) {
        return e instanceof GuardRefusedException g ? g.counts() : null;
    }

    private static void rollbackQuietly(Connection c) {
        try {
            if (!c.isClosed() && !c.getAutoCommit()) {
                c.rollback();
            }
        } catch (SQLException ignored) {
            // a broken connection has nothing to roll back; the server already did
        }
    }

    /** Shutdown: interrupt the current statement; the attempt rolls back and gives the run back. */
    void abort() {
        aborting = true;
        try {
            connection.unwrap(PGConnection.class).cancelQuery();
        } catch (SQLException e) {
            log.warn("run {}: could not interrupt its statement: {}", run.id(), e.getMessage());
        }
    }

    @Override
    public long runId() {
        return run.id();
    }

    @Override
    public int attempt() {
        return run.attempt();
    }

    @Override
    public JobDefinition definition() {
        return definition;
    }

    @Override
    public Map<String, String> params() {
        return run.params();
    }

    @Override
    public Connection connection() {
        return connection;
    }

    @Override
    public boolean stopRequested() {
        return aborting || cancelSeen;
    }

    @Override
    public dev.nightshift.metrics.Metrics metrics() {
        return node.metrics();
    }

    @Override
    public dev.nightshift.runlog.RunLog log() {
        return runLog;
    }

    @Override
    public void commitStep() throws SQLException {
        connection.commit();
        session(connection, true);
    }
}
