-- Variant "hot": claimable runs in a narrow table of their own (run_queue), so that no index of run
-- names a column the claim or the completion changes and both updates of run are HOT. Not what
-- nightshift does (see architecture.md): the claim below is R__queue.sql's with its two probes of
-- run_available_idx turned into probes of run_queue, and the run's pick a DELETE there.
DROP INDEX nightshift.run_available_idx;
DROP INDEX nightshift.run_available_order_idx;
DROP INDEX nightshift.run_running_slot_idx;
DROP INDEX nightshift.run_finished_idx;
DROP INDEX nightshift.run_backfill_idx;
CREATE INDEX run_backfill_idx ON nightshift.run (backfill_id) WHERE backfill_id IS NOT NULL;
ALTER TABLE nightshift.run SET (fillfactor = 50);
CREATE TABLE nightshift.run_queue (id bigint PRIMARY KEY, job_name text NOT NULL, run_at timestamptz NOT NULL);
CREATE INDEX run_queue_due_idx ON nightshift.run_queue (job_name, run_at, id);
CREATE OR REPLACE FUNCTION nightshift.claim(p_node text, p_for_session boolean, p_async boolean)
RETURNS TABLE (id bigint, job_name text, attempt integer, max_attempts integer, trigger text, params text,
               created_at timestamptz, started_at timestamptz, timeout_ms bigint, locked boolean)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    v_scheduled_at timestamptz;
    v_period_start timestamptz;
    v_period_end   timestamptz;
    v_period_zone  text;
BEGIN
    WITH slot AS MATERIALIZED (
        SELECT r.name AS job_name, r.timeout_ms, s.slot
        FROM (SELECT j.name, j.concurrency, (j.definition ->> 'timeout_ms')::bigint AS timeout_ms
              FROM nightshift.job j
              CROSS JOIN LATERAL (SELECT q.run_at, q.id FROM nightshift.run_queue q
                                  WHERE q.job_name = j.name AND q.run_at <= now()
                                  ORDER BY q.job_name, q.run_at, q.id LIMIT 1) due
              WHERE j.concurrency = 0
                 OR ((SELECT max(js.slot) FROM nightshift.job_slot js WHERE js.job_name = j.name) < j.concurrency
                     AND (SELECT true FROM nightshift.job_slot js
                          WHERE js.job_name = j.name AND js.slot < j.concurrency AND js.run_id IS NULL LIMIT 1))
              ORDER BY due.run_at, due.id
              LIMIT 8) r
        LEFT JOIN LATERAL (SELECT js.slot FROM nightshift.job_slot js
                           WHERE r.concurrency > 0
                             AND js.job_name = r.name AND js.slot < r.concurrency AND js.run_id IS NULL
                           LIMIT 1 FOR UPDATE SKIP LOCKED) s ON true
        WHERE r.concurrency = 0 OR s.slot IS NOT NULL
        LIMIT 1),
    picked AS (
        DELETE FROM nightshift.run_queue q
        WHERE q.id = (SELECT q2.id FROM nightshift.run_queue q2
                      WHERE q2.job_name = (SELECT s.job_name FROM slot s) AND q2.run_at <= now()
                      ORDER BY q2.job_name, q2.run_at, q2.id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING q.id),
    claimed AS (
        UPDATE nightshift.run r
        SET state = 'running', attempt = r.attempt + 1, node = p_node, slot = s.slot,
            started_at = clock_timestamp(), finished_at = NULL, cancel_requested = false,
            backend_pid = CASE WHEN p_for_session THEN pg_backend_pid() END
        FROM picked p, slot s WHERE r.id = p.id
        RETURNING r.id, r.job_name, r.slot, r.attempt, r.max_attempts, r.trigger, r.params, r.created_at, r.started_at,
                  r.scheduled_at, r.period_start, r.period_end, r.period_zone),
    taken AS (
        UPDATE nightshift.job_slot js SET run_id = c.id FROM claimed c
        WHERE js.job_name = c.job_name AND js.slot = c.slot)
    SELECT c.id, c.job_name, c.attempt, c.max_attempts, c.trigger, c.params::text, c.created_at, c.started_at,
           s.timeout_ms, pg_try_advisory_lock_shared(nightshift.run_lock_key(c.id)),
           c.scheduled_at, c.period_start, c.period_end, c.period_zone
    INTO id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, timeout_ms, locked,
         v_scheduled_at, v_period_start, v_period_end, v_period_zone
    FROM claimed c, slot s;
    IF NOT FOUND THEN RETURN; END IF;
    IF p_for_session THEN
        timeout_ms := coalesce(timeout_ms, 0);
        PERFORM nightshift.use_run_settings(id, job_name, attempt, params::jsonb, timeout_ms, v_scheduled_at,
                                            v_period_start, v_period_end, v_period_zone);
    ELSE
        timeout_ms := NULL;
    END IF;
    RETURN NEXT;
END
$$;
