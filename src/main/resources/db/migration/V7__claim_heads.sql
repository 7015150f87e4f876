-- One index of available runs, not two; claims that start at this session's last claim.
--
-- The claim picks a job's oldest due run through run_available_idx (job_name, run_at, id), which
-- returns it in order after one descent. With statistics older than the runs in the table (a large
-- enqueue, then claims before autovacuum's analyze), the planner estimated the range of run_at
-- values above its histogram at one row and took run_available_due_idx (run_at) instead: every
-- claim then read and sorted all available runs. Measured on PostgreSQL 15 with 40,000 runs enqueued
-- in one transaction: 24-26 ms and ~610 buffers per claim, a drain of 148-530 runs/s. Without the
-- index the planner has no such choice; the oldest-available metric probes run_available_idx once
-- per job instead.
--
-- The claim below differs from V5's in three places: the job scan starts at the session's heads,
-- the claimed run's head is recorded, and plans are generic.
DROP INDEX run_available_due_idx;

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
BEGIN
    -- No SET clauses on these functions (each costs a settings save and restore per call), so
    -- names are schema-qualified. JIT off for the rest of the transaction, which is this claim or
    -- the tail of a completion: a generic plan's row estimates can cross the JIT threshold, and
    -- compiling costs a hundred claims. Generic plans always: the statements below are planned
    -- once per session, not per call, and never from the values of one call against statistics
    -- that may predate the runs (see above).
    PERFORM set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true);
    IF p_async THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    -- This session's heads: per job, the (run_at, id) of the run it claimed last. A job's runs are
    -- claimed in that order, so its oldest due run is usually past its head, and the probe below
    -- starts there rather than at the start of the job's index range, where the entries of every
    -- run claimed since the last vacuum lie (the probe would read them all, one more per claim).
    -- A run can become available behind a head (a rescue, a retry by hand, an enqueue that commits
    -- after a later one): every 64th claim of a session ignores the heads, and so does the probe of
    -- a job with no due run past its head.
    v_claims := coalesce(nullif(current_setting('nightshift.claims', true), '')::bigint, 0) + 1;
    v_heads := CASE WHEN v_claims % 64 = 0 THEN '{}'
                    ELSE coalesce(nullif(current_setting('nightshift.heads', true), ''), '{}')::jsonb END;
    PERFORM set_config('nightshift.claims', v_claims::text, false);
    -- Jobs with a due run and (by this snapshot) a free slot, the one waiting longest first, with
    -- their taken slots. One probe of the partial indexes per job (never a hash of all runs).
    FOR v_job IN
        SELECT j.name, j.concurrency, (j.definition ->> 'timeout_ms')::bigint AS timeout_ms, busy.slots,
               due.run_at AS due_at, due.id AS due_id
        FROM nightshift.job j
        CROSS JOIN LATERAL (
            -- the second probe runs only when the first finds nothing
            (SELECT a.run_at, a.id FROM nightshift.run a
             WHERE a.job_name = j.name AND a.state = 'available' AND a.run_at <= now()
               AND (a.run_at, a.id) >= ((v_heads -> j.name ->> 0)::timestamptz, (v_heads -> j.name ->> 1)::bigint)
             ORDER BY a.run_at, a.id LIMIT 1)
            UNION ALL
            (SELECT a.run_at, a.id FROM nightshift.run a
             WHERE a.job_name = j.name AND a.state = 'available' AND a.run_at <= now()
             ORDER BY a.run_at, a.id LIMIT 1)
            LIMIT 1) due
        CROSS JOIN LATERAL (SELECT count(*) AS running, coalesce(array_agg(b.slot), '{}') AS slots
                            FROM nightshift.run b WHERE b.job_name = j.name AND b.state = 'running') busy
        WHERE j.concurrency > busy.running
        ORDER BY due.run_at, j.name
    LOOP
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
            -- retry or a rescue, waits for the next claim).
            WHERE r.id = (SELECT a.id FROM nightshift.run a
                          WHERE a.job_name = v_job.name AND a.state = 'available' AND a.run_at <= now()
                            AND (a.run_at, a.id) >= (v_job.due_at, v_job.due_id)
                          ORDER BY a.run_at, a.id
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
            v_heads := jsonb_set(v_heads, ARRAY[job_name], jsonb_build_array(v_run_at, id));
            PERFORM set_config('nightshift.heads', v_heads::text, false);
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
END
$$;

