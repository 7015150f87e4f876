-- The queue's functions, triggers and the view `run`: defined here and nowhere else (a repeatable
-- migration: Flyway applies it again whenever this file changes). The tables are in
-- V1__baseline.sql; the statements that claim, complete and fail runs are in
-- src/main/resources/db/queue.sql, read by RunQueue. No PL/pgSQL runs on a claim or a completion
-- but the failure branch (queue_lost).
--
-- No SET clauses on these functions (each costs a settings save and restore per call), so every
-- name is schema-qualified.

-- A run's slot or period bound as its setting shows it (nightshift.scheduled_at, .period_start,
-- .period_end): ISO-8601 in the period's zone with its offset (e.g. 2026-03-29T00:00:00+01:00),
-- empty for a run without a period.
CREATE OR REPLACE FUNCTION nightshift.logical_time_text(p_at timestamptz, p_zone text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_local timestamp := p_at AT TIME ZONE coalesce(p_zone, 'UTC');
    v_secs  integer := extract(epoch FROM v_local - (p_at AT TIME ZONE 'UTC'))::integer;
BEGIN
    IF p_at IS NULL THEN
        RETURN '';
    END IF;
    RETURN to_char(v_local, 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN v_secs = 0 THEN 'Z'
                   ELSE CASE WHEN v_secs < 0 THEN '-' ELSE '+' END
                        || to_char(abs(v_secs) / 3600, 'FM00') || ':' || to_char(abs(v_secs) % 3600 / 60, 'FM00') END;
END
$$;

-- A run's session settings, the one place that says what they are: statement_timeout from the
-- job's definition (at enqueue: a job whose timeout changes applies it to runs enqueued after),
-- nightshift.run_id, .job_name, its logical time (.scheduled_at, .period_start, .period_end), its
-- actor (empty for the scheduler's own runs) and its parameters (.param.NAME). Written into
-- queue.settings when the run is made (and again when a coalesced slot stretches its period); a
-- claim sets each one that differs from the session's, and nightshift.attempt.
CREATE OR REPLACE FUNCTION nightshift.run_settings(p_id bigint, p_job text, p_params jsonb, p_scheduled_at timestamptz,
                                                   p_period_start timestamptz, p_period_end timestamptz,
                                                   p_period_zone text, p_actor text)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
               'statement_timeout', coalesce((SELECT j.definition ->> 'timeout_ms' FROM nightshift.job j WHERE j.name = p_job), '0'),
               'nightshift.run_id', p_id::text,
               'nightshift.job_name', p_job,
               'nightshift.scheduled_at', nightshift.logical_time_text(p_scheduled_at, p_period_zone),
               'nightshift.period_start', nightshift.logical_time_text(p_period_start, p_period_zone),
               'nightshift.period_end', nightshift.logical_time_text(p_period_end, p_period_zone),
               'nightshift.actor', coalesce(p_actor, ''))
           || coalesce((SELECT jsonb_object_agg('nightshift.param.' || p.key, p.value) FROM jsonb_each_text(p_params) p),
                       '{}');
$$;

-- Only on the failure path of a completion (a CASE calls it when nothing was deleted): aborts the
-- job's transaction, so that its work never commits without its completion.
CREATE OR REPLACE FUNCTION nightshift.queue_lost(p_run bigint, p_attempt integer)
RETURNS bigint
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'run % attempt % is no longer this worker''s or its cancel was requested', p_run, p_attempt
        USING ERRCODE = 'NS409';
END
$$;

-- A run made dead notifies; the first success after bad news notifies the recovery. Whatever ends
-- a run writes its history row, so this fires in the transaction of the end, whichever path it took
-- (completion, failure, cancel, rescue).
CREATE OR REPLACE FUNCTION nightshift.run_notifies() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.state = 'dead' THEN
        PERFORM nightshift.notify_enqueue(NEW.job_name, 'dead', NEW.id, NEW.scheduled_at, NEW.period_start, NEW.period_end,
                                          NEW.last_error,
                                          -- a run retried by hand may die again: each death is news of its own
                                          'dead:' || NEW.id || '@' || (extract(epoch FROM NEW.finished_at) * 1000000)::bigint);
    ELSIF EXISTS (SELECT 1 FROM nightshift.notify_state s WHERE s.job_name = NEW.job_name) THEN
        PERFORM nightshift.notify_enqueue(NEW.job_name, 'recovered', NEW.id, NEW.scheduled_at, NEW.period_start,
                                          NEW.period_end, NULL, 'recovered:' || NEW.id);
        DELETE FROM nightshift.notify_state s WHERE s.job_name = NEW.job_name;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS run_notifies ON nightshift.run_history;
CREATE TRIGGER run_notifies AFTER INSERT ON nightshift.run_history
    FOR EACH ROW WHEN (NEW.state IN ('dead', 'succeeded'))
    EXECUTE FUNCTION nightshift.run_notifies();

-- A job's slot rows follow its concurrency: missing ones are added, free ones at or above it are
-- dropped (a held one stays until its owner lets it go; claims never take it). A job without a
-- limit (concurrency 0) keeps none but those still held. A job given a limit while runs it started
-- without one are running: each of those gets a slot past the held ones, held by its owner, so they
-- count against the limit until they end.
CREATE OR REPLACE FUNCTION nightshift.job_slots_follow_concurrency() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.concurrency > 0 THEN
        WITH numbered AS (
            SELECT r.id, r.owner,
                   (SELECT coalesce(max(s.slot) + 1, 0) FROM nightshift.job_slot s WHERE s.job_name = NEW.name)
                       + row_number() OVER (ORDER BY r.id) - 1 AS slot
            FROM nightshift.running r
            WHERE r.job_name = NEW.name AND r.slot IS NULL),
        given AS (
            UPDATE nightshift.running r SET slot = n.slot FROM numbered n WHERE r.id = n.id RETURNING r.owner, r.slot)
        INSERT INTO nightshift.job_slot AS s (job_name, slot, owner)
        SELECT NEW.name, g.slot, g.owner FROM given g
        ON CONFLICT (job_name, slot) DO UPDATE SET owner = excluded.owner;
    END IF;
    INSERT INTO nightshift.job_slot (job_name, slot)
    SELECT NEW.name, g.slot FROM generate_series(0, NEW.concurrency - 1) AS g(slot)
    ON CONFLICT DO NOTHING;
    DELETE FROM nightshift.job_slot s WHERE s.job_name = NEW.name AND s.slot >= NEW.concurrency AND s.owner IS NULL;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS job_has_its_slots ON nightshift.job;
CREATE TRIGGER job_has_its_slots AFTER INSERT OR UPDATE OF concurrency ON nightshift.job
    FOR EACH ROW EXECUTE FUNCTION nightshift.job_slots_follow_concurrency();

-- The runs as readers have always seen them: one row per run with its state, whichever table holds
-- it. Writers use the tables (queue.sql); nothing writes through this view.
CREATE OR REPLACE VIEW nightshift.run AS
SELECT u.id, u.job_name, u.state, u.trigger, u.params, k.dedupe_key, u.scheduled_at, u.parent_run_id, u.attempt,
       u.max_attempts, u.run_at, u.created_at, u.started_at, u.finished_at, u.node, u.backend_pid, u.cancel_requested,
       u.counts, u.last_error, u.last_error_sqlstate, u.period_start, u.period_end, u.period_zone, u.backfill_id,
       u.slot, u.actor, u.owner
FROM (SELECT q.id, q.job_name, 'available'::text AS state, q.trigger, q.params, q.scheduled_at, q.parent_run_id,
             q.attempt, q.max_attempts, q.run_at, q.created_at, q.started_at,
             NULL::timestamptz AS finished_at, NULL::text AS node, NULL::integer AS backend_pid,
             false AS cancel_requested, q.counts, q.last_error, q.last_error_sqlstate, q.period_start, q.period_end,
             q.period_zone, q.backfill_id, NULL::integer AS slot, q.actor, NULL::bigint AS owner
      FROM nightshift.queue q
      UNION ALL
      SELECT r.id, r.job_name, 'running', r.trigger, r.params, r.scheduled_at, r.parent_run_id, r.attempt,
             r.max_attempts, r.run_at, r.created_at, r.started_at, NULL, r.node,
             (SELECT w.backend_pid FROM nightshift.worker w WHERE w.owner = r.owner), r.cancel_requested, r.counts,
             r.last_error, r.last_error_sqlstate, r.period_start, r.period_end, r.period_zone, r.backfill_id, r.slot,
             r.actor, r.owner
      FROM nightshift.running r
      UNION ALL
      SELECT h.id, h.job_name, h.state, h.trigger, h.params, h.scheduled_at, h.parent_run_id, h.attempt,
             h.max_attempts, h.run_at, h.created_at, h.started_at, h.finished_at, h.node, NULL, false, h.counts,
             h.last_error, h.last_error_sqlstate, h.period_start, h.period_end, h.period_zone, h.backfill_id, h.slot,
             h.actor, NULL
      FROM nightshift.run_history h) u
LEFT JOIN nightshift.run_key k ON k.run_id = u.id;
