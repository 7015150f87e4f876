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
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One attempt of one claimed run, on the connection of the worker that owns it (whose session
 * holds the owner's lock): do the job's work and record the outcome. For transactional jobs the
 * work, the transition to succeeded and the claim of the worker's next run of the same job commit
 * together, in one round trip. Transient database errors are retried inside the attempt. Used by
 * one worker thread; {@link #abort()} may be called from the shutdown thread.
 */
final class Execution implements Attempt {
    private static final Logger log = LoggerFactory.getLogger(Execution.class);

    private final Node node;
    private final ClaimedRun run;
    private final Connection connection;
    private final boolean claimNext;
    /** The parameters (as setting names) the session has from the worker's previous run. */
    private final List<String> previousParams;
    private ClaimedRun next;
    private boolean slotKept;
    private boolean lost;
    private boolean broken;
    private volatile boolean aborting;
    private volatile boolean cancelSeen;
    private JobDefinition definition;
    private dev.nightshift.runlog.AttemptLog runLog;

    /**
     * @param previousParams the parameters (setting names) the worker's previous run left on the session
     * @param claimNext      whether a successful completion also claims the worker's next run
     */
    Execution(Node node, ClaimedRun run, Connection connection, List<String> previousParams, boolean claimNext) {
        this.node = node;
        this.run = run;
        this.connection = connection;
        this.previousParams = previousParams;
        this.claimNext = claimNext;
    }

    /** The run claimed with this run's completion, or null. */
    ClaimedRun next() {
        return next;
    }

    /** Whether the worker still holds this run's slot: it succeeded in its transaction and no next run was claimed in it. */
    boolean slotKept() {
        return slotKept && next == null;
    }

    /** Whether the run was found not this worker's any more at its completion (its slot may be held still). */
    boolean lost() {
        return lost;
    }

    /** Whether the worker's connection can no longer be trusted (the worker opens another). */
    boolean broken() {
        return broken;
    }

    /** Runs the attempt; MDC carries job and run meanwhile. */
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
        if (!run.settingsSet() && !settingsUsed(c, started)) {
            return;
        }
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

    /**
     * Sets the run's settings on the worker's session, committed on their own (a job's rollback
     * would take back session settings set in its transaction). A session found gone here (the
     * database restarted since the worker last used it) has done nothing of the run: the run is
     * given back without counting the attempt, and the worker opens another connection.
     */
    private boolean settingsUsed(Connection c, Instant started) {
        try {
            c.setAutoCommit(true);
            node.queue().useSettings(c, run, previousParams);
            return true;
        } catch (SQLException e) {
            broken = true;
            if (SqlStates.isConnectionError(e)) {
                try {
                    node.queue().release(run, "the worker's connection was gone before the run started; the attempt does not count");
                } catch (SQLException again) {
                    log.warn("run {}: could not give it back ({}); the rescuer will", run.id(), again.getMessage());
                }
                log.info("run {} of job {}: the worker's connection was gone before it started; given back", run.id(), run.jobName());
            } else {
                failed(started, e, false);
            }
            return false;
        }
    }

    /** Work and completion in one transaction. Null when the run was not completed (lost or cancelled). */
    private Map<String, Long> inTransaction(Connection c, JobType type) throws Exception {
        c.setAutoCommit(false);
        return complete(c, type.execute(this), claimNext);
    }

    /**
     * Each statement commits on its own; the completion follows in a transaction of its own
     * (at least once: a crash between the work and the completion runs the work again).
     */
    private Map<String, Long> withoutTransaction(Connection c, JobType type) throws Exception {
        c.setAutoCommit(true);
        Map<String, Long> counts = type.execute(this);
        c.setAutoCommit(false);
        return complete(c, counts, false);
    }

    /**
     * Ends the open transaction as the run's success: {@code after:} dependents, the completion,
     * the claim of the worker's next run when {@code claim}, and the commit, the last three in one
     * round trip. Null when the run was not completed (lost or cancelled): then nothing of the
     * transaction commits.
     */
    private Map<String, Long> complete(Connection c, Map<String, Long> counts, boolean claim) throws Exception {
        // Before the completion, in the same transaction: if the completion fails, they roll back with it.
        for (SuccessHook h : node.successHooks()) {
            h.onSuccess(c, run, definition);
        }
        try {
            if (claim) {
                next = node.queue().completeAndClaimNext(c, run, counts);
                slotKept = true;
            } else {
                node.queue().complete(c, run, counts);
            }
        } catch (RunQueue.NotCompletedException e) {
            c.rollback();
            lost = true;
            notCompleted(Instant.now());
            return null;
        }
        return counts;
    }

    private void cleanUp(Connection c) {
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            // the worker closes the connection (its lock goes with it) and opens another
            broken = true;
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
            f = node.queue().fail(run, new RunQueue.Failure(message, sqlState, delay, permanent, guardVerdict(e)));
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
        // (the run's settings are the session's: they outlive the commit)
        connection.commit();
    }
}
