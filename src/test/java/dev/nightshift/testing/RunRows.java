package dev.nightshift.testing;

import java.sql.SQLException;

/**
 * Test set-ups that put runs in a state directly, on the queue's tables (V21): a run waiting or
 * running moved to history as if it had ended. Stateless.
 */
public final class RunRows {
    private static final String COLUMNS = "id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone,"
            + " parent_run_id, backfill_id, actor, attempt, max_attempts, run_at, created_at, started_at, counts, last_error,"
            + " last_error_sqlstate";

    private RunRows() {
    }

    /** The waiting and running runs matching {@code where} (an SQL condition on their columns) end in {@code state} now. */
    public static void finish(TestDatabase db, String where, String state) throws SQLException {
        db.execute("""
                WITH q AS (DELETE FROM nightshift.queue WHERE %1$s RETURNING %2$s, NULL::text AS node, NULL::integer AS slot),
                     r AS (DELETE FROM nightshift.running WHERE %1$s RETURNING %2$s, node, slot)
                INSERT INTO nightshift.run_history (%2$s, node, slot, state, finished_at)
                SELECT %2$s, node, slot, '%3$s', now() FROM (SELECT * FROM q UNION ALL SELECT * FROM r) x
                """.formatted(where, COLUMNS, state));
    }
}
