package dev.nightshift.queue;

import dev.nightshift.audit.Action;
import dev.nightshift.audit.Actor;
import dev.nightshift.audit.AuditLog;
import dev.nightshift.db.Tx;
import java.sql.Connection;
import java.util.Map;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Operator actions on one run: cancel and retry, each recording its actor on the run and in the
 * audit table in the transaction of the change. Shared by the CLI and the HTTP API. Thread-safe.
 */
public final class RunOps {
    private final DataSource ds;

    public RunOps(DataSource ds) {
        this.ds = ds;
    }

    /** What an operator action did, in words fit to print. */
    public record Outcome(boolean changed, String state, String message) {
    }

    /**
     * Cancels a run: an available run becomes cancelled at once; a running run is flagged and its
     * current statement is cancelled with pg_cancel_backend on the backend that holds its lock.
     */
    public Outcome cancel(long runId, Actor actor) throws SQLException {
        return cancel(runId, actor, 3);
    }

    /** {@code tries} bounds the re-reads when the run changes state between our read and our update. */
    private Outcome cancel(long runId, Actor actor, int tries) throws SQLException {
        String state = currentState(runId);
        if (tries == 0) {
            return new Outcome(false, state, "run " + runId + " keeps changing state; try again");
        }
        if (state == null) {
            return null;
        }
        if (state.equals("available")) {
            boolean done = Tx.call(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE nightshift.run SET state = 'cancelled', finished_at = clock_timestamp(),
                            last_error = 'cancelled before it started', actor = ?
                        WHERE id = ? AND state = 'available'
                        RETURNING job_name
                        """)) {
                    ps.setString(1, actor.name());   // actor
                    ps.setLong(2, runId);            // id
                    return audited(c, ps, actor, Action.CANCEL, runId, Map.of("was", "available"));
                }
            });
            return done ? new Outcome(true, "cancelled", "run " + runId + " cancelled before it started")
                    : cancel(runId, actor, tries - 1);
        }
        if (!state.equals("running")) {
            return new Outcome(false, state, "run " + runId + " is " + state + "; only available or running runs can be cancelled");
        }
        boolean flagged = Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE nightshift.run SET cancel_requested = true, actor = ? WHERE id = ? AND state = 'running'
                    RETURNING job_name
                    """)) {
                ps.setString(1, actor.name());   // actor
                ps.setLong(2, runId);            // id
                return audited(c, ps, actor, Action.CANCEL, runId, Map.of("was", "running"));
            }
        });
        if (!flagged) {
            return cancel(runId, actor, tries - 1);
        }
        // After the flag is committed, so that the worker sees it when its statement fails. Only the
        // backend doing the work (its pid recorded by the worker, and holding the run's lock): during
        // a hand-off the claimer holds the lock too, and its statement is another run's claim.
        int signalled = Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT count(*) FILTER (WHERE pg_cancel_backend(l.pid))
                    FROM nightshift.run r JOIN pg_locks l ON %s AND l.pid = r.backend_pid
                    WHERE r.id = ? AND l.mode = 'ShareLock' AND l.granted
                    """.formatted(RunLock.PG_LOCKS_MATCH))) {
                ps.setLong(1, runId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getInt(1) : 0;
                }
            }
        });
        return new Outcome(true, "running", "run " + runId + ": cancel requested"
                + (signalled > 0 ? ", its statement was interrupted" : ", it stops before its next statement commits"));
    }

    /** Puts a dead or cancelled run back to available with fresh attempts; an available run is made due now. */
    public Outcome retry(long runId, Actor actor) throws SQLException {
        String state = currentState(runId);
        if (state == null) {
            return null;
        }
        if (!(state.equals("dead") || state.equals("cancelled") || state.equals("available"))) {
            return new Outcome(false, state, "run " + runId + " is " + state
                    + "; only dead, cancelled or waiting runs can be retried (use trigger for a new run)");
        }
        boolean done = Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE nightshift.run
                    SET state = 'available', run_at = now(), finished_at = NULL, cancel_requested = false,
                        attempt = CASE WHEN state = 'available' THEN attempt ELSE 0 END, actor = ?
                    WHERE id = ? AND state IN ('dead', 'cancelled', 'available')
                    RETURNING job_name
                    """)) {
                ps.setString(1, actor.name());   // actor
                ps.setLong(2, runId);            // id
                return audited(c, ps, actor, Action.RETRY, runId, Map.of("was", state));
            }
        });
        return done ? new Outcome(true, "available", "run " + runId + " is available again")
                : new Outcome(false, currentState(runId), "run " + runId + " changed state meanwhile; nothing done");
    }

    /**
     * Runs an update of one run that returns its job name and, when it touched the run, records the
     * action in the audit table in the same transaction (a retry also wakes the workers).
     */
    private static boolean audited(Connection c, PreparedStatement ps, Actor actor, Action action, long runId,
                                   Map<String, ?> detail) throws SQLException {
        String job;
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return false;
            }
            job = rs.getString(1);
        }
        AuditLog.record(c, actor, action, job, runId, null, detail);
        if (action == Action.RETRY) {
            RunQueue.notify(c, job);
        }
        return true;
    }

    private String currentState(long runId) throws SQLException {
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT state FROM nightshift.run WHERE id = ?")) {
                ps.setLong(1, runId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }
}
