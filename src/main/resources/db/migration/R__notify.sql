-- The notification outbox's functions (the tables are in V1__baseline.sql).
--
-- notification_wake: wakes every node's notification loop when notifications are written (dead
-- run, late slot, recovery), at the commit of the transaction that wrote them: the loops otherwise only look again
-- at the next retry's time or after a long backstop, so an idle node does not poll the outbox.
CREATE OR REPLACE FUNCTION nightshift.notification_wake() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nightshift_outbox', '');
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS notification_wake ON nightshift.notification;
CREATE TRIGGER notification_wake AFTER INSERT ON nightshift.notification
    FOR EACH STATEMENT EXECUTE FUNCTION nightshift.notification_wake();

-- Writes the notifications of one event, one per target of the job's notify: (none written: one
-- row for the node's default targets; notify: [] written: no row at all), each keyed p_key:N; a
-- key already there (the same event again) adds nothing. The job's bad news is remembered either
-- way, so that a recovery is still known.
CREATE OR REPLACE FUNCTION nightshift.notify_enqueue(p_job text, p_event text, p_run bigint, p_slot timestamptz,
                                                     p_period_start timestamptz, p_period_end timestamptz,
                                                     p_error text, p_key text)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO nightshift.notification (job_name, event, run_id, slot, period_start, period_end, error, url, format,
                                         idempotency_key)
    SELECT p_job, p_event, p_run, p_slot, p_period_start, p_period_end, left(p_error, 2000), t.target ->> 'url',
           coalesce(t.target ->> 'format', 'json'), p_key || ':' || coalesce(t.n, 0)
    FROM nightshift.job j
    LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(j.definition -> 'notify') = 'array'
                                                THEN j.definition -> 'notify' END)
              WITH ORDINALITY AS t(target, n) ON true
    WHERE j.name = p_job AND (j.definition -> 'notify') IS DISTINCT FROM '[]'::jsonb
    ON CONFLICT (idempotency_key) DO NOTHING;
    INSERT INTO nightshift.notify_state (job_name, failing_since)
    SELECT p_job, now() WHERE p_event IN ('dead', 'late')
    ON CONFLICT (job_name) DO NOTHING;
$$;
