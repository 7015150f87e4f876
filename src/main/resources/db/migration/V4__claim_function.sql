-- The claim as one server-side call. Its two statements each take a fresh snapshot (a VOLATILE
-- PL/pgSQL function in READ COMMITTED), so the running counts read by the second one include
-- every claim committed before the first one got its job locks; and the job row locks are held
-- for the function's execution only, not across client round trips.
CREATE FUNCTION claim_runs(p_node text, p_max integer, p_for_session boolean)
RETURNS TABLE (id bigint, job_name text, attempt integer, max_attempts integer, trigger text, params text,
               created_at timestamptz, started_at timestamptz)
LANGUAGE plpgsql VOLATILE
SET search_path = nightshift, pg_catalog
AS $$
DECLARE
    v_jobs text[];
BEGIN
    -- A claim lost in a crash leaves its runs available, which is harmless: no need to wait for
    -- the WAL flush. A claimer never queues long behind a stuck one. Both last until commit.
    PERFORM set_config('synchronous_commit', 'off', true), set_config('lock_timeout', '2s', true);

    -- 1. Lock the jobs that have due runs and a free slot, in name order (no deadlock between
    --    claimers): holding a job's row makes this the only transaction claiming its runs.
    --    (Scalar sub-selects, not EXISTS: each is one probe of the partial index per job, where
    --    the planner would otherwise hash all available runs to find the jobs.)
    SELECT array_agg(l.name ORDER BY l.name) INTO v_jobs
    FROM (SELECT j.name
          FROM job j
          WHERE (SELECT 1 FROM run a
                 WHERE a.job_name = j.name AND a.state = 'available' AND a.run_at <= now() LIMIT 1) IS NOT NULL
            AND j.concurrency > (SELECT count(*) FROM run b WHERE b.job_name = j.name AND b.state = 'running')
          ORDER BY j.name
          FOR NO KEY UPDATE OF j) l;
    IF v_jobs IS NULL THEN
        RETURN;
    END IF;

    -- 2. Claim, per job at most its free slots, in all at most p_max, oldest first. The candidates
    --    are MATERIALIZED, evaluated once: a rescanned SKIP LOCKED sub-select could claim more.
    --    Per job, one walk of the partial index from its oldest due run. Each run's lock is taken,
    --    shared, inside the claim: no rescuer ever sees it unlocked.
    RETURN QUERY
    WITH picked AS MATERIALIZED (
        SELECT x.id
        FROM job j
        CROSS JOIN LATERAL (
            SELECT a.id, a.run_at FROM run a
            WHERE a.job_name = j.name AND a.state = 'available' AND a.run_at <= now()
            ORDER BY a.run_at, a.id
            LIMIT least(p_max, greatest(j.concurrency - (SELECT count(*) FROM run b
                                                          WHERE b.job_name = j.name AND b.state = 'running'), 0))
            FOR UPDATE OF a SKIP LOCKED
        ) x
        WHERE j.name = ANY (v_jobs)
        ORDER BY x.run_at, x.id
        LIMIT p_max),
    claimed AS (
        UPDATE run r
        SET state = 'running', attempt = r.attempt + 1, node = p_node, started_at = clock_timestamp(),
            finished_at = NULL, backend_pid = CASE WHEN p_for_session THEN pg_backend_pid() END,
            cancel_requested = false
        FROM picked
        WHERE r.id = picked.id AND r.state = 'available'
        RETURNING r.id, r.job_name, r.attempt, r.max_attempts, r.trigger, r.params::text, r.created_at, r.started_at,
                  pg_advisory_lock_shared((x'6E73'::bigint << 48) | r.id) AS locked)
    SELECT k.id, k.job_name, k.attempt, k.max_attempts, k.trigger, k.params, k.created_at, k.started_at
    FROM claimed k;
END
$$;
