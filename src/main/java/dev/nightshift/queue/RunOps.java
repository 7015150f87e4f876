package dev.nightshift.queue;

import dev.nightshift.audit.Action;
import dev.nightshift.audit.Actor;
import dev.nightshift.audit.AuditLog;
import dev.nightshift.db.Tx;
import java.sql.Connection;
import java.util.List;
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
                String job = RunQueue.cancelWaiting(c, runId, null, actor.name(), "cancelled before it started").get(runId);
                if (job == null) {
                    return false;
                }
                AuditLog.record(c, actor, Action.CANCEL, job, runId, null, Map.of("was", "available"));
                return true;
            });
            return done ? new Outcome(true, "cancelled", "run " + runId + " cancelled before it started")
                    : cancel(runId, actor, tries - 1);
        }
        if (!state.equals("running")) {
            return new Outcome(false, state, "run " + runId + " is " + state + "; only available or running runs can be cancelled");
        }
        Integer backend = Tx.call(ds, c -> {
            try (QueueSql.Bound s = QueueSql.prepare(c, "request_cancel")) {
                s.bigint("id", runId).text("actor", actor.name());
                try (ResultSet rs = s.query()) {
                    if (!rs.next()) {
                        return null;
                    }
                    AuditLog.record(c, actor, Action.CANCEL, rs.getString(1), runId, null, Map.of("was", "running"));
                    return rs.getInt(2);
                }
            }
        });
        if (backend == null) {
            return cancel(runId, actor, tries - 1);
        }
        // After the flag is committed, so that the worker sees it when its statement fails: the
        // backend of the owner's connection, which works on nothing but this run meanwhile.
        int signalled = Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT count(*) FILTER (WHERE pg_cancel_backend(w.backend_pid))
                    FROM nightshift.running r JOIN nightshift.worker w ON w.owner = r.owner
                    WHERE r.id = ?
                    """)) {
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
            String job = RunQueue.rerun(c, runId, List.of("dead", "cancelled", "available"), null, actor.name());
            if (job == null) {
                return false;
            }
            AuditLog.record(c, actor, Action.RETRY, job, runId, null, Map.of("was", state));
            return true;
        });
        return done ? new Outcome(true, "available", "run " + runId + " is available again")
                : new Outcome(false, currentState(runId), "run " + runId + " changed state meanwhile; nothing done");
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
