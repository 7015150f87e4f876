-- Claims without a job-wide lock, and a completion that claims the worker's next run in the same
-- transaction.
--
-- V4 made every claim lock the row of each job it claimed from, so all claimers of one job queued
-- behind each other. Now a job's concurrency is a set of numbered slots, 0 .. concurrency - 1: a
-- running run holds one (run.slot), and the unique index below makes two running runs of one job
-- in one slot impossible. A claimer reserves a slot with a transaction-scoped advisory try-lock,
-- then checks in a statement of its own (so with a snapshot taken after the lock) that no running
-- run holds it; a claimer of another slot never waits for it. A crashed node's running run keeps
-- its slot until the rescuer puts it back to available.

ALTER TABLE run ADD COLUMN slot integer CHECK (slot >= 0);

-- Every state change of a run writes a new row version into each index whose predicate it
-- matches. Runs without a dedupe key (most manual runs) need no entry in the dedupe index.
ALTER TABLE run DROP CONSTRAINT run_dedupe_key_key;
CREATE UNIQUE INDEX run_dedupe_key_idx ON run (dedupe_key) WHERE dedupe_key IS NOT NULL;

DROP INDEX run_running_idx;
-- per-job running counts, the free-slot check and the rescuer
CREATE UNIQUE INDEX run_running_slot_idx ON run (job_name, slot) WHERE state = 'running';

-- A queue table: every run is updated twice within seconds of its insert, and each update leaves
-- dead entries in the partial indexes that claims walk until a vacuum removes them. Vacuum it
-- after 1,000 changes plus 2 % of its rows rather than autovacuum's default 20 %.
ALTER TABLE run SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000,
                     autovacuum_analyze_scale_factor = 0.05);

DROP FUNCTION claim_runs(text, integer, boolean);

-- The lock key of a run (RunLock.key in Java).
CREATE FUNCTION nightshift.run_lock_key(p_run bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (x'6E73'::bigint << 48) | p_run $$;

-- Claims up to p_max due runs for p_node, oldest first across jobs, each in a free slot of its job.
-- Each claimed run's lock is taken, shared, inside the claim: no rescuer ever sees it unlocked.
-- p_for_session: the calling session will do the work: its backend pid is recorded and, when it
-- claims one run, the run's settings (statement_timeout from the job's definition, run id, job,
-- attempt, parameters) are set for the session, so the attempt needs no round trip to set them.
-- p_async: the claim is a transaction of its own, whose loss in a crash is harmless (the runs stay
-- available), so it need not wait for the WAL flush. Never waits for a lock.
CREATE FUNCTION nightshift.claim(p_node text, p_max integer, p_for_session boolean, p_async boolean)
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
BEGIN
    -- No SET clauses on these functions (each costs a settings save and restore per call), so
    -- names are schema-qualified. JIT off for the rest of the transaction, which is this claim or
    -- the tail of a completion: a generic plan's row estimates can cross the JIT threshold, and
    -- compiling costs a hundred claims.
    PERFORM set_config('jit', 'off', true);
    IF p_async THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    -- Jobs with a due run and (by this snapshot) a free slot, the one waiting longest first, with
    -- their taken slots. One probe of the partial indexes per job (never a hash of all runs).
    FOR v_job IN
        SELECT j.name, j.concurrency, (j.definition ->> 'timeout_ms')::bigint AS timeout_ms, busy.slots,
               due.run_at AS due_at, due.id AS due_id
        FROM nightshift.job j
        CROSS JOIN LATERAL (SELECT a.run_at, a.id FROM nightshift.run a
                            WHERE a.job_name = j.name AND a.state = 'available' AND a.run_at <= now()
                            ORDER BY a.run_at, a.id LIMIT 1) due
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
                      v_job.timeout_ms
            INTO id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, timeout_ms;
            -- no due run left that another claimer has not locked, or the slot went meanwhile
            EXIT WHEN NOT FOUND;
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

-- A worker's completion of a transactional run and the claim of its next one, in the job's own
-- transaction (the caller commits, in the same round trip: see RunQueue.completeAndClaim).
-- Releases p_unlock, the lock of the worker's previous run (committed as finished before). Marks
-- p_run succeeded if it is still this attempt's and no cancel was asked, else raises SQLSTATE NS409,
-- which aborts the transaction: the job's work must not commit without its completion. Then, if
-- p_claim, claims one run for this session (see claim: its settings replace the finished run's;
-- the finished run's parameters, named in p_clear_params, are emptied first). The claim commits
-- with the completion, so it is as durable as it. Returns one row: the next run, or nulls.
CREATE FUNCTION nightshift.complete_and_claim(p_run bigint, p_node text, p_attempt integer, p_counts jsonb,
                                              p_unlock bigint, p_claim boolean, p_clear_params text[])
RETURNS TABLE (id bigint, job_name text, attempt integer, max_attempts integer, trigger text,
               params text, created_at timestamptz, started_at timestamptz, timeout_ms bigint)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
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
    -- READ COMMITTED only: the claim's checks need a fresh snapshot per statement.
    IF p_claim AND current_setting('transaction_isolation') = 'read committed' THEN
        -- (custom settings are not listed in pg_settings: the caller names them)
        PERFORM set_config('nightshift.param.' || k, '', false) FROM unnest(p_clear_params) k;
        SELECT c.id, c.job_name, c.attempt, c.max_attempts, c.trigger, c.params, c.created_at, c.started_at, c.timeout_ms
        INTO id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, timeout_ms
        FROM nightshift.claim(p_node, 1, true, false) c;
    END IF;
    RETURN NEXT;
END
$$;
