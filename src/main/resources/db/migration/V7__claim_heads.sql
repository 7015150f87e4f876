-- Claims whose cost depends neither on the backlog nor on the number of jobs.
--
-- 1. Large backlogs. The claim picked a job's oldest due run through run_available_idx
--    (job_name, run_at, id). With statistics older than the runs in the table (a large enqueue,
--    then claims before autovacuum's analyze), the planner estimated the range of run_at values
--    above its histogram at one row and took run_available_due_idx (run_at) instead: every claim
--    then read and sorted all available runs. Measured on PostgreSQL 15 with 40,000 runs enqueued
--    in one transaction: 24-26 ms and ~610 buffers per claim, a drain of 171-530 runs/s. Now the
--    statements are planned once per session (generic plans) with no sorts or bitmap scans, and
--    each is written so that one index alone returns its rows in order: the per-job probes and the
--    pick order by the full key of run_available_idx, the walk over all jobs by that of
--    run_available_order_idx.
-- 2. Many jobs. The claim probed every job for a due run and sorted them, on every claim: with
--    1,000 jobs, 9 ms per claim (EXPLAIN ANALYZE) and a drain of 229 runs/s. Now it first takes
--    the jobs of the 64 oldest due runs from one walk of run_available_order_idx, and probes every
--    job only when those jobs cannot give it a run.
-- 3. Walks start at the session's heads (see the function), not at the start of an index range
--    where the entries of every run claimed since the last vacuum lie.
--
-- The new index is built inside this migration's transaction: writes to run wait until it is
-- built (one scan of the table).
DROP INDEX run_available_due_idx;
CREATE INDEX run_available_order_idx ON run (run_at, id) INCLUDE (job_name) WHERE state = 'available';

CREATE OR REPLACE FUNCTION nightshift.claim(p_node text, p_max integer, p_for_session boolean, p_async boolean)
RETURNS TABLE (id bigint, job_name text, attempt integer, max_attempts integer, trigger text, params text,
               created_at timestamptz, started_at timestamptz, timeout_ms bigint)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    v_job record;
    v_slot integer;
    v_start integer;
    v_left integer := p_max;
    v_heads jsonb;
    v_claims bigint;
    v_run_at timestamptz;
    v_jobs refcursor;
    v_pass integer;
    v_first_at timestamptz;
    v_first_id bigint;
BEGIN
    -- No SET clauses on these functions (each costs a settings save and restore per call), so
    -- names are schema-qualified. JIT off for the rest of the transaction, which is this claim or
    -- the tail of a completion: a generic plan's row estimates can cross the JIT threshold, and
    -- compiling costs a hundred claims. Generic plans always: the statements below are planned
    -- once per session, not per call, and never from the values of one call against statistics
    -- that may predate the runs (see above). No sorts and no bitmap scans of runs: every walk of
    -- the available runs below has an index that returns them in order, and a plan that fetches
    -- them all and sorts them, chosen when the statistics say there are few, reads the whole
    -- backlog on every claim (measured: a generic plan of the 64-run walk read 5,261 runs).
    PERFORM set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true),
            set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true);
    IF p_async THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    -- This session's heads, kept in a session setting: under '*', where the last claim found the
    -- oldest due run of all; under a job's name, the (run_at, id) of the job's run this session's
    -- second pass (below) claimed last. Walks of the available runs start there rather than at
    -- the start, where the index entries of every run claimed since the last vacuum lie (a walk
    -- would read them all, one more per claim). A run can become available behind a head (a rescue, a retry by hand, an
    -- enqueue that commits after a later one): a walk that finds nothing past its head starts over,
    -- and every 64th claim of a session ignores the heads.
    v_claims := coalesce(nullif(current_setting('nightshift.claims', true), '')::bigint, 0) + 1;
    v_heads := CASE WHEN v_claims % 64 = 0 THEN '{}'
                    ELSE coalesce(nullif(current_setting('nightshift.heads', true), ''), '{}')::jsonb END;
    PERFORM set_config('nightshift.claims', v_claims::text, false);
    -- The oldest due run of all.
    LOOP
        SELECT a.run_at, a.id INTO v_first_at, v_first_id
        FROM nightshift.run a
        WHERE a.state = 'available' AND a.run_at <= now()
          AND (a.run_at, a.id) >= (coalesce((v_heads -> '*' ->> 0)::timestamptz, '-infinity'),
                                   coalesce((v_heads -> '*' ->> 1)::bigint, 0))
        ORDER BY a.run_at, a.id
        LIMIT 1;
        EXIT WHEN v_first_id IS NOT NULL OR NOT v_heads ? '*';
        v_heads := v_heads - '*';
    END LOOP;
    IF v_first_id IS NULL THEN
        -- none, by this snapshot
        PERFORM set_config('nightshift.heads', v_heads::text, false);
        RETURN;
    END IF;
    v_heads := jsonb_set(v_heads, '{*}', jsonb_build_array(v_first_at, v_first_id));
    -- Two passes over jobs with a due run and (by this snapshot) a free slot, the one waiting
    -- longest first, with their taken slots. The first takes the jobs of the 64 oldest due runs,
    -- one walk of run_available_order_idx whatever the number of jobs. The second, when the first
    -- claimed less than asked (those jobs are at their concurrency, or their runs are locked by
    -- other claimers), probes every job once.
    FOR v_pass IN 1 .. 2 LOOP
        EXIT WHEN v_left = 0;
        IF v_pass = 1 THEN
            OPEN v_jobs FOR
                WITH due AS MATERIALIZED (
                    SELECT a.job_name, a.run_at, a.id FROM nightshift.run a
                    WHERE a.state = 'available' AND a.run_at <= now() AND (a.run_at, a.id) >= (v_first_at, v_first_id)
                    ORDER BY a.run_at, a.id
                    LIMIT 64),
                oldest AS (SELECT DISTINCT ON (d.job_name) d.job_name, d.run_at, d.id FROM due d
                           ORDER BY d.job_name, d.run_at, d.id)
                SELECT j.name, j.concurrency, (j.definition ->> 'timeout_ms')::bigint AS timeout_ms, busy.slots,
                       o.run_at AS due_at, o.id AS due_id
                FROM oldest o
                JOIN nightshift.job j ON j.name = o.job_name
                CROSS JOIN LATERAL (SELECT count(*) AS running, coalesce(array_agg(b.slot), '{}') AS slots
                                    FROM nightshift.run b WHERE b.job_name = j.name AND b.state = 'running') busy
                WHERE j.concurrency > busy.running
                ORDER BY o.run_at, o.id;
        ELSE
            OPEN v_jobs FOR
                SELECT j.name, j.concurrency, (j.definition ->> 'timeout_ms')::bigint AS timeout_ms, busy.slots,
                       due.run_at AS due_at, due.id AS due_id
                FROM nightshift.job j
                CROSS JOIN LATERAL (
                    -- From the job's head (or its start), then, only when that finds nothing and
                    -- there was a head, from its start. Bounded as the pick is (see there): with
                    -- job_name = j.name instead, the scan would start at the job's first entry.
                    (SELECT a.run_at, a.id FROM nightshift.run a
                     WHERE a.state = 'available' AND a.run_at <= now()
                       AND (a.job_name, a.run_at, a.id) >= (j.name,
                                                            coalesce((v_heads -> j.name ->> 0)::timestamptz, '-infinity'),
                                                            coalesce((v_heads -> j.name ->> 1)::bigint, 0))
                       AND a.job_name <= j.name
                     ORDER BY a.job_name, a.run_at, a.id LIMIT 1)
                    UNION ALL
                    (SELECT a.run_at, a.id FROM nightshift.run a
                     WHERE v_heads ? j.name AND a.state = 'available' AND a.run_at <= now()
                       AND (a.job_name, a.run_at, a.id) >= (j.name, '-infinity', 0) AND a.job_name <= j.name
                     ORDER BY a.job_name, a.run_at, a.id LIMIT 1)
                    LIMIT 1) due
                CROSS JOIN LATERAL (SELECT count(*) AS running, coalesce(array_agg(b.slot), '{}') AS slots
                                    FROM nightshift.run b WHERE b.job_name = j.name AND b.state = 'running') busy
                WHERE j.concurrency > busy.running
                ORDER BY due.run_at, j.name;
        END IF;
        LOOP
            FETCH v_jobs INTO v_job;
            EXIT WHEN NOT FOUND;
            -- Start at a random slot so that claimers of a busy job try different ones.
            v_start := floor(random() * v_job.concurrency)::integer;
            FOR i IN 0 .. v_job.concurrency - 1 LOOP
                EXIT WHEN v_left = 0;
                v_slot := (v_start + i) % v_job.concurrency;
                CONTINUE WHEN v_slot = ANY (v_job.slots)
                              OR NOT pg_try_advisory_xact_lock(hashtext('nightshift.slot:' || v_job.name), v_slot);
                -- A new statement, so a new snapshot, taken after the slot's lock: any claim of this
                -- slot committed before we got the lock is visible to the NOT EXISTS. Slotless running
                -- runs (claimed before V5) are counted too.
                UPDATE nightshift.run r
                SET state = 'running', attempt = r.attempt + 1, node = p_node, slot = v_slot,
                    started_at = clock_timestamp(), finished_at = NULL, cancel_requested = false,
                    backend_pid = CASE WHEN p_for_session THEN pg_backend_pid() END
                -- The pick starts at the oldest due run the job scan saw, not at the start of the
                -- job's index range: index entries of runs claimed since the last vacuum lie there, and
                -- a locking scan visits each one's row (an older run made available meanwhile, by a
                -- retry or a rescue, waits for the next claim). The bound is the full key of
                -- run_available_idx and the job is kept by job_name <= the job's name: with an
                -- equality on job_name the scan would start at the job's first entry, not the bound.
                WHERE r.id = (SELECT a.id FROM nightshift.run a
                              WHERE a.state = 'available' AND a.run_at <= now()
                                AND (a.job_name, a.run_at, a.id) >= (v_job.name, v_job.due_at, v_job.due_id)
                                AND a.job_name <= v_job.name
                              ORDER BY a.job_name, a.run_at, a.id
                              LIMIT 1
                              FOR UPDATE SKIP LOCKED)
                  AND r.state = 'available'
                  AND NOT EXISTS (SELECT 1 FROM nightshift.run b WHERE b.job_name = v_job.name AND b.state = 'running' AND b.slot = v_slot)
                  -- Running runs in distinct slots below the concurrency cannot exceed it; only runs
                  -- outside those slots (slotless ones from before V5, or slots left by a lowered
                  -- concurrency) need the full count, so the common case costs two index probes.
                  AND (NOT EXISTS (SELECT 1 FROM nightshift.run b
                                   WHERE b.job_name = v_job.name AND b.state = 'running'
                                     AND (b.slot IS NULL OR b.slot >= v_job.concurrency))
                       OR (SELECT count(*) FROM nightshift.run b WHERE b.job_name = v_job.name AND b.state = 'running')
                          < v_job.concurrency)
                RETURNING r.id, r.job_name, r.attempt, r.max_attempts, r.trigger, r.params::text, r.created_at, r.started_at,
                          v_job.timeout_ms, r.run_at
                INTO id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, timeout_ms, v_run_at;
                -- no due run left that another claimer has not locked, or the slot went meanwhile
                EXIT WHEN NOT FOUND;
                -- A job's head serves the second pass only: keeping the heads of the jobs the first
                -- pass claims from would grow the setting, parsed on every claim, with every job.
                IF v_pass = 2 THEN
                    v_heads := jsonb_set(v_heads, ARRAY[job_name], jsonb_build_array(v_run_at, id));
                END IF;
                PERFORM pg_advisory_lock_shared(nightshift.run_lock_key(id));
                IF p_for_session AND p_max = 1 THEN
                    timeout_ms := coalesce(timeout_ms, 0);
                    PERFORM set_config('statement_timeout', timeout_ms::text, false),
                            set_config('nightshift.run_id', id::text, false),
                            set_config('nightshift.job_name', job_name, false),
                            set_config('nightshift.attempt', attempt::text, false);
                    PERFORM set_config('nightshift.param.' || p.key, p.value, false)
                    FROM jsonb_each_text(params::jsonb) p;
                ELSE
                    timeout_ms := NULL;
                END IF;
                RETURN NEXT;
                v_left := v_left - 1;
            END LOOP;
            EXIT WHEN v_left = 0;
        END LOOP;
        CLOSE v_jobs;
    END LOOP;
    PERFORM set_config('nightshift.heads', v_heads::text, false);
END
$$;

