-- The queue's claim and completion, and the triggers that keep job slots in line: defined here and
-- nowhere else (a repeatable migration: Flyway applies it again whenever this file changes). The
-- tables are those of V1, V5, V8 and V17; architecture.md says why the claim has this shape and what it
-- was measured against.
--
-- No SET clauses on these functions (each costs a settings save and restore per call), so every
-- name is schema-qualified.

-- Claims one due run for p_node, in one statement: the job whose oldest due run waits longest
-- first, the run in a free slot of its job, so no job ever runs more than its concurrency across
-- all nodes (a job without a limit, concurrency 0, takes no slot). Never waits for a lock: slots
-- and runs another claimer has locked are skipped. No row
-- means none is due, or every candidate is locked by other claimers (RunQueue.claim repeats it for
-- as many runs as the caller has idle workers, handing each over as it comes).
-- The claimed run's lock (run_lock_key) is taken, shared, in the claim itself, so no rescuer can
-- see the claimed run unlocked; `locked` is false in the rare case where a rescuer still held it
-- (it had just put that run back to available): the caller must then take the lock itself and
-- check the run is still its own (RunQueue.start) before working on it.
-- p_for_session: the calling session will do the work: its backend pid is recorded and the run's
-- settings, its logical time included, are set for the session (see use_run_settings).
-- p_async: the claim is a transaction of its own, whose loss in a crash is harmless (the run stays
-- available), so it need not wait for the WAL flush.
--
-- The statement has no parameter that changes its plan's cost (the limits are constants), so
-- PostgreSQL plans it once per session and keeps that generic plan: a custom plan per call, as a
-- LIMIT p_max made it choose, cost more to plan than the claim takes to run (architecture.md).
DROP FUNCTION IF EXISTS nightshift.claim(text, integer, boolean, boolean);
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
    IF p_async THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    WITH slot AS MATERIALIZED (
        -- A free slot, locked, of one of the 8 jobs whose oldest due runs wait longest among
        -- those with a due run and room for one more (more than one, so that a claimer skipping
        -- the slots other claimers hold of the first job finds the next). A job without a limit
        -- (concurrency 0, V17) has always room and no slot rows: its slot is null. A few probes per
        -- job, as LIMIT 1 sub-selects (lateral or scalar), so they stay probes whatever the planner
        -- thinks of the tables' sizes: never a hash of all slots or runs. A job still running runs
        -- in slots at or above its concurrency (it was lowered) waits for them to end: its highest
        -- slot row is held (see free_slot).
        SELECT r.name AS job_name, r.timeout_ms, s.slot
        FROM (SELECT j.name, j.concurrency, (j.definition ->> 'timeout_ms')::bigint AS timeout_ms
              FROM nightshift.job j
              CROSS JOIN LATERAL (SELECT a.run_at, a.id FROM nightshift.run a
                                  WHERE a.job_name = j.name AND a.state = 'available' AND a.run_at <= now()
                                  ORDER BY a.job_name, a.run_at, a.id
                                  LIMIT 1) due
              WHERE j.concurrency = 0
                 OR ((SELECT max(js.slot) FROM nightshift.job_slot js WHERE js.job_name = j.name) < j.concurrency
                     AND (SELECT true FROM nightshift.job_slot js
                          WHERE js.job_name = j.name AND js.slot < j.concurrency AND js.run_id IS NULL
                          LIMIT 1))
              ORDER BY due.run_at, due.id
              LIMIT 8) r
        LEFT JOIN LATERAL (SELECT js.slot FROM nightshift.job_slot js
                           WHERE r.concurrency > 0
                             AND js.job_name = r.name AND js.slot < r.concurrency AND js.run_id IS NULL
                           LIMIT 1
                           FOR UPDATE SKIP LOCKED) s ON true
        WHERE r.concurrency = 0 OR s.slot IS NOT NULL
        LIMIT 1),
    picked AS MATERIALIZED (
        -- That job's oldest due run, locked. (The job as a value, not a join: the scan starts
        -- at the job in run_available_idx, not at the oldest due run of all.)
        SELECT a.id
        FROM nightshift.run a
        WHERE a.job_name = (SELECT s.job_name FROM slot s) AND a.state = 'available' AND a.run_at <= now()
        ORDER BY a.job_name, a.run_at, a.id
        LIMIT 1
        FOR UPDATE OF a SKIP LOCKED),
    claimed AS (
        UPDATE nightshift.run r
        SET state = 'running', attempt = r.attempt + 1, node = p_node, slot = s.slot,
            started_at = clock_timestamp(), finished_at = NULL, cancel_requested = false,
            backend_pid = CASE WHEN p_for_session THEN pg_backend_pid() END
        FROM picked p, slot s
        WHERE r.id = p.id
        RETURNING r.id, r.job_name, r.slot, r.attempt, r.max_attempts, r.trigger, r.params, r.created_at, r.started_at,
                  r.scheduled_at, r.period_start, r.period_end, r.period_zone),
    taken AS (
        UPDATE nightshift.job_slot js SET run_id = c.id
        FROM claimed c
        WHERE js.job_name = c.job_name AND js.slot = c.slot)
    SELECT c.id, c.job_name, c.attempt, c.max_attempts, c.trigger, c.params::text, c.created_at, c.started_at,
           s.timeout_ms, pg_try_advisory_lock_shared(nightshift.run_lock_key(c.id)),
           c.scheduled_at, c.period_start, c.period_end, c.period_zone
    INTO id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, timeout_ms, locked,
         v_scheduled_at, v_period_start, v_period_end, v_period_zone
    FROM claimed c, slot s;
    IF NOT FOUND THEN
        RETURN;
    END IF;
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

-- A claimed run's settings for the session that will do its work, so that the attempt needs no
-- round trip to set them: statement_timeout from the job's definition, and the run's id, job,
-- attempt, parameters, logical time and actor, readable in SQL as current_setting('nightshift.run_id'),
-- current_setting('nightshift.period_start') etc. The worker resets the session (RESET ALL) before
-- it goes back to the pool.
DROP FUNCTION IF EXISTS nightshift.use_run_settings(bigint, text, integer, jsonb, bigint);
CREATE OR REPLACE FUNCTION nightshift.use_run_settings(p_run bigint, p_job text, p_attempt integer, p_params jsonb,
                                                       p_timeout_ms bigint, p_scheduled_at timestamptz,
                                                       p_period_start timestamptz, p_period_end timestamptz,
                                                       p_period_zone text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM set_config('statement_timeout', p_timeout_ms::text, false),
            set_config('nightshift.run_id', p_run::text, false),
            set_config('nightshift.job_name', p_job, false),
            set_config('nightshift.attempt', p_attempt::text, false),
            set_config('nightshift.scheduled_at', nightshift.logical_time_text(p_scheduled_at, p_period_zone), false),
            set_config('nightshift.period_start', nightshift.logical_time_text(p_period_start, p_period_zone), false),
            set_config('nightshift.period_end', nightshift.logical_time_text(p_period_end, p_period_zone), false);
    PERFORM set_config('nightshift.param.' || p.key, p.value, false) FROM jsonb_each_text(p_params) p;
    -- who asked for the run (V19): empty for the scheduler's own runs
    PERFORM set_config('nightshift.actor', coalesce(r.actor, ''), false) FROM nightshift.run r WHERE r.id = p_run;
END
$$;

-- A run's slot or period bound as its setting shows it (nightshift.scheduled_at, .period_start,
-- .period_end): ISO-8601 in the period's zone with its offset (e.g. 2026-03-29T00:00:00+01:00),
-- empty for a run without a period. The one place that writes them: the claim (use_run_settings)
-- and a worker setting up a handed-over run (Execution) both call it.
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

-- A worker's completion of a transactional run and the claim of its next one, in the job's own
-- transaction (the caller commits, in the same round trip: see RunQueue.completeAndClaim).
-- Releases p_unlock, the lock of the worker's previous run (committed as finished before). Marks
-- p_run succeeded if it is still this attempt's and no cancel was asked, else raises SQLSTATE NS409,
-- which aborts the transaction: the job's work must not commit without its completion. The run's
-- slot is freed by the run_frees_its_slot trigger. Then, if p_claim, claims one run for this session
-- (its settings replace the finished run's; p_clear_params names the finished run's parameters).
CREATE OR REPLACE FUNCTION nightshift.complete_and_claim(p_run bigint, p_node text, p_attempt integer, p_counts jsonb,
                                                         p_unlock bigint, p_claim boolean, p_clear_params text[])
RETURNS TABLE (id bigint, job_name text, attempt integer, max_attempts integer, trigger text, params text,
               created_at timestamptz, started_at timestamptz, timeout_ms bigint, locked boolean)
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF p_unlock IS NOT NULL THEN
        PERFORM pg_advisory_unlock_shared(nightshift.run_lock_key(p_unlock));
    END IF;
    UPDATE nightshift.run r
    SET state = 'succeeded', finished_at = clock_timestamp(), counts = p_counts, backend_pid = NULL
    WHERE r.id = p_run AND r.state = 'running' AND r.node = p_node AND r.attempt = p_attempt
      AND NOT r.cancel_requested;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % attempt % is no longer owned by node % or its cancel was requested', p_run, p_attempt, p_node
            USING ERRCODE = 'NS409';
    END IF;
    -- READ COMMITTED only: the claim locks rows it must see in their newest committed version.
    IF p_claim AND current_setting('transaction_isolation') = 'read committed' THEN
        -- (custom settings are not listed in pg_settings: the caller names them)
        PERFORM set_config('nightshift.param.' || k, '', false) FROM unnest(p_clear_params) k;
        RETURN QUERY SELECT c.id, c.job_name, c.attempt, c.max_attempts, c.trigger, c.params, c.created_at,
                            c.started_at, c.timeout_ms, c.locked
                     FROM nightshift.claim(p_node, true, false) c;
    END IF;
END
$$;

-- Whatever ends a running run (completion, failure, cancel, release at shutdown, rescue, a delete)
-- frees its slot, in the same transaction: the one place that does so. A slot at or above the job's
-- concurrency (it was lowered while the run ran) goes, so the job's highest slot is below it again.
CREATE OR REPLACE FUNCTION nightshift.free_slot() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.slot < (SELECT j.concurrency FROM nightshift.job j WHERE j.name = OLD.job_name) THEN
        UPDATE nightshift.job_slot s SET run_id = NULL
        WHERE s.job_name = OLD.job_name AND s.slot = OLD.slot AND s.run_id = OLD.id;
    ELSE
        DELETE FROM nightshift.job_slot s WHERE s.job_name = OLD.job_name AND s.slot = OLD.slot AND s.run_id = OLD.id;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS run_frees_its_slot ON nightshift.run;
CREATE TRIGGER run_frees_its_slot AFTER UPDATE OF state ON nightshift.run
    FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state <> 'running' AND OLD.slot IS NOT NULL)
    EXECUTE FUNCTION nightshift.free_slot();

DROP TRIGGER IF EXISTS running_run_deleted_frees_its_slot ON nightshift.run;
CREATE TRIGGER running_run_deleted_frees_its_slot AFTER DELETE ON nightshift.run
    FOR EACH ROW WHEN (OLD.state = 'running' AND OLD.slot IS NOT NULL)
    EXECUTE FUNCTION nightshift.free_slot();

-- A job's slot rows follow its concurrency: missing ones are added, free ones at or above it are
-- dropped (a held one stays until its run ends; claims never take it). A job without a limit
-- (concurrency 0) keeps none but those still held. When a job gets a limit, its running runs
-- claimed without one get a slot each past those held, as V8 did for runs older than slots, so
-- that they count against it until they end.
CREATE OR REPLACE FUNCTION nightshift.sync_slots() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.concurrency > 0 THEN
        WITH numbered AS (
            SELECT r.id,
                   (SELECT coalesce(max(b.slot) + 1, 0) FROM nightshift.run b
                    WHERE b.job_name = NEW.name AND b.state = 'running')
                       + row_number() OVER (ORDER BY r.id) - 1 AS slot
            FROM nightshift.run r
            WHERE r.job_name = NEW.name AND r.state = 'running' AND r.slot IS NULL),
        given AS (
            UPDATE nightshift.run r SET slot = n.slot FROM numbered n WHERE r.id = n.id RETURNING r.id, r.slot)
        INSERT INTO nightshift.job_slot AS s (job_name, slot, run_id)
        SELECT NEW.name, g.slot, g.id FROM given g
        ON CONFLICT (job_name, slot) DO UPDATE SET run_id = excluded.run_id;
    END IF;
    INSERT INTO nightshift.job_slot (job_name, slot)
    SELECT NEW.name, g.slot FROM generate_series(0, NEW.concurrency - 1) AS g(slot)
    ON CONFLICT DO NOTHING;
    DELETE FROM nightshift.job_slot s WHERE s.job_name = NEW.name AND s.slot >= NEW.concurrency AND s.run_id IS NULL;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS job_has_its_slots ON nightshift.job;
CREATE TRIGGER job_has_its_slots AFTER INSERT OR UPDATE OF concurrency ON nightshift.job
    FOR EACH ROW EXECUTE FUNCTION nightshift.sync_slots();
