-- The queue's statements: how a run is made, claimed, owned, completed, failed, given back and
-- rescued, in one file (read by dev.nightshift.queue.QueueSql; RunQueue runs the lock path). Each
-- statement follows a "-- name:" line; :word is a bind parameter, passed by that name. The tables
-- are in V1__baseline.sql, the functions in R__queue.sql; architecture.md says why each has this shape.
--
-- Ownership. A worker's connection registers an owner key and holds pg_advisory_lock(owner) for as
-- long as it lives (register). A claim moves a run from queue to running with that owner; every
-- statement that ends or gives back a running run names its id, owner and attempt, so an owner that
-- lost a run (rescued after its connection died) can never end the new attempt. The rescuer
-- try-locks the owner keys it finds: a lock it gets is a dead owner's.
--
-- Slots. A job's concurrency is its job_slot rows, held by owners. A worker keeps its slot across
-- its consecutive runs of one job (complete_and_claim_next writes no slot row); every other way a
-- run ends frees the slot of that run, and a general claim frees the slot it was told is held when
-- it claims another job's run or nothing. A slot at or above a lowered concurrency is dropped, not
-- freed, and no claim takes a slot while the job's highest one is at or above its concurrency.

-- name: register
-- A worker connection's owner key, locked for the session's life. The row is visible only once the
-- statement commits, by which time the lock is held: a rescuer never sees it unlocked.
WITH o AS (INSERT INTO nightshift.worker (owner, node, backend_pid)
           VALUES (nextval('nightshift.worker_owner_seq'), :node, pg_backend_pid())
           RETURNING owner)
SELECT o.owner, pg_advisory_lock(o.owner) IS NOT NULL AS locked FROM o

-- name: unregister
-- A worker connection closing cleanly: its row goes (its lock goes with the session).
DELETE FROM nightshift.worker WHERE owner = :owner

-- name: enqueue
-- One run, in the caller's transaction. The dedupe key is written first (ON CONFLICT DO NOTHING);
-- the run only when the key was new. An after: run without a period of its own inherits its parent's
-- period and actor. No row: the job is unknown or removed, or the key existed (see run_of_key).
WITH j AS (
    SELECT name, max_attempts FROM nightshift.job WHERE name = :job AND removed_at IS NULL),
p AS (
    SELECT scheduled_at, period_start, period_end, period_zone, actor FROM nightshift.run WHERE id = :parent::bigint),
n AS (
    SELECT nextval('nightshift.run_seq') AS id, j.name, j.max_attempts,
           CASE WHEN :scheduled_at::timestamptz IS NULL THEN p.scheduled_at ELSE :scheduled_at END AS scheduled_at,
           CASE WHEN :scheduled_at::timestamptz IS NULL THEN p.period_start ELSE :period_start::timestamptz END AS period_start,
           CASE WHEN :scheduled_at::timestamptz IS NULL THEN p.period_end ELSE :period_end::timestamptz END AS period_end,
           CASE WHEN :scheduled_at::timestamptz IS NULL THEN p.period_zone ELSE :period_zone::text END AS period_zone,
           coalesce(:actor::text, p.actor) AS actor
    FROM j LEFT JOIN p ON true),
k AS (
    INSERT INTO nightshift.run_key (dedupe_key, run_id)
    SELECT :dedupe_key::text, n.id FROM n WHERE :dedupe_key::text IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING run_id),
ins AS (
    INSERT INTO nightshift.queue (id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone,
                                  parent_run_id, backfill_id, actor, max_attempts, run_at, settings)
    SELECT n.id, n.name, :trigger, :params::jsonb, n.scheduled_at, n.period_start, n.period_end, n.period_zone,
           :parent::bigint, :backfill::bigint, n.actor, n.max_attempts, coalesce(:run_at::timestamptz, clock_timestamp()),
           nightshift.run_settings(n.id, n.name, :params::jsonb, n.scheduled_at, n.period_start, n.period_end,
                                   n.period_zone, n.actor)
    FROM n
    WHERE :dedupe_key::text IS NULL OR EXISTS (SELECT 1 FROM k)
    RETURNING id)
SELECT id FROM ins

-- name: run_of_key
SELECT run_id FROM nightshift.run_key WHERE dedupe_key = :dedupe_key

-- name: enqueue_slot
-- A schedule's fire: one run per current, unpaused job of the schedule (:jobs, each with its dedupe
-- key in :keys), all for one slot and period; what the fire did for each job. A job paused or
-- removed by a concurrent transaction is seen as it was when the statement started.
WITH jobs AS (
    SELECT j.name, j.max_attempts, j.paused, j.removed_at IS NOT NULL AS removed, a.dedupe_key,
           nextval('nightshift.run_seq') AS id
    FROM unnest(:jobs::text[], :keys::text[]) AS a(name, dedupe_key)
    JOIN nightshift.job j ON j.name = a.name),
k AS (
    INSERT INTO nightshift.run_key (dedupe_key, run_id)
    SELECT dedupe_key, id FROM jobs WHERE NOT paused AND NOT removed
    ON CONFLICT DO NOTHING
    RETURNING run_id),
ins AS (
    INSERT INTO nightshift.queue (id, job_name, trigger, scheduled_at, period_start, period_end, period_zone,
                                  max_attempts, run_at, settings)
    SELECT j.id, j.name, 'schedule', :slot, :period_start, :period_end, :period_zone, j.max_attempts, now(),
           nightshift.run_settings(j.id, j.name, '{}', :slot, :period_start, :period_end, :period_zone, NULL)
    FROM jobs j JOIN k ON k.run_id = j.id
    RETURNING job_name)
SELECT j.name,
       CASE WHEN j.removed THEN 'removed' WHEN j.paused THEN 'paused'
            WHEN i.job_name IS NOT NULL THEN 'enqueued' ELSE 'duplicate' END
FROM jobs j LEFT JOIN ins i ON i.job_name = j.name
ORDER BY j.name

-- name: coalesce
-- A coalescing slot stretches the job's newest waiting scheduled run of an earlier slot to its
-- period's end (and its settings with it). SKIP LOCKED: a run a claimer holds is being taken now;
-- then the slot gets a run of its own.
UPDATE nightshift.queue q
SET period_end = greatest(q.period_end, :period_end),
    settings = nightshift.run_settings(q.id, q.job_name, q.params, q.scheduled_at, q.period_start,
                                       greatest(q.period_end, :period_end), q.period_zone, q.actor)
WHERE q.id = (SELECT w.id FROM nightshift.queue w
              WHERE w.job_name = :job AND w.trigger = 'schedule' AND w.backfill_id IS NULL AND w.scheduled_at < :slot
              ORDER BY w.id DESC
              LIMIT 1
              FOR UPDATE SKIP LOCKED)
RETURNING q.id

-- name: claim
-- The general claim, for one owner: of the 8 jobs whose oldest due runs wait longest among those
-- with a due run and room for one more, the first whose free slot is not locked by another claimer
-- (or the job of the slot the owner holds, :held_job/:held_slot, which it keeps), and that job's
-- oldest due run, moved to running. A job without a limit (concurrency 0) takes no slot. Never
-- waits for a lock. The held slot is freed (or dropped, at or above a lowered concurrency) unless
-- the claim kept it. Probes are LIMIT 1 sub-selects, so they stay probes whatever the planner
-- thinks of the tables' sizes; the limits are constants, so the plan is generic.
WITH held AS MATERIALIZED (
    SELECT :held_job::text AS job_name, :held_slot::integer AS slot WHERE :held_job::text IS NOT NULL),
jobs AS MATERIALIZED (
    SELECT j.name, j.concurrency, due.run_at, due.id, h.slot AS kept, h.job_name IS NOT NULL AS same
    FROM nightshift.job j
    LEFT JOIN held h ON h.job_name = j.name AND (j.concurrency = 0 OR h.slot < j.concurrency)
    CROSS JOIN LATERAL (SELECT q.run_at, q.id FROM nightshift.queue q
                        WHERE q.job_name = j.name AND q.run_at <= statement_timestamp()
                        ORDER BY q.job_name, q.run_at, q.id
                        LIMIT 1) due
    WHERE j.concurrency = 0 OR h.job_name IS NOT NULL
       OR ((SELECT max(js.slot) FROM nightshift.job_slot js WHERE js.job_name = j.name) < j.concurrency
           AND (SELECT true FROM nightshift.job_slot js
                WHERE js.job_name = j.name AND js.slot < j.concurrency AND js.owner IS NULL
                LIMIT 1))
    ORDER BY due.run_at, due.id
    LIMIT 8),
pick AS MATERIALIZED (
    SELECT c.name AS job_name, c.run_at, c.id, CASE WHEN c.same THEN c.kept ELSE s.slot END AS slot, c.same
    FROM jobs c
    LEFT JOIN LATERAL (SELECT js.slot FROM nightshift.job_slot js
                       WHERE NOT c.same AND c.concurrency > 0
                         AND js.job_name = c.name AND js.slot < c.concurrency AND js.owner IS NULL
                       LIMIT 1
                       FOR UPDATE SKIP LOCKED) s ON true
    WHERE c.concurrency = 0 OR c.same OR s.slot IS NOT NULL
    LIMIT 1),
picked AS MATERIALIZED (
    -- (the job as a bound of the key: the scan starts at the job in queue_job_idx)
    SELECT q.id FROM pick p, nightshift.queue q
    WHERE q.job_name = p.job_name AND (q.job_name, q.run_at, q.id) >= (p.job_name, p.run_at, p.id)
      AND q.run_at <= statement_timestamp()
    ORDER BY q.job_name, q.run_at, q.id
    LIMIT 1
    FOR UPDATE OF q SKIP LOCKED),
w AS (
    DELETE FROM nightshift.queue q USING picked x WHERE q.id = x.id
    RETURNING q.*),
claimed AS (
    INSERT INTO nightshift.running (id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone,
                                    parent_run_id, backfill_id, actor, attempt, max_attempts, run_at, created_at,
                                    counts, last_error, last_error_sqlstate, settings, owner, node, slot, started_at)
    SELECT w.id, w.job_name, w.trigger, w.params, w.scheduled_at, w.period_start, w.period_end, w.period_zone,
           w.parent_run_id, w.backfill_id, w.actor, w.attempt + 1, w.max_attempts, w.run_at, w.created_at,
           w.counts, w.last_error, w.last_error_sqlstate, w.settings, :owner, :node, p.slot, clock_timestamp()
    FROM w, pick p
    RETURNING id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, slot, settings),
taken AS (
    UPDATE nightshift.job_slot js SET owner = :owner
    FROM claimed c, pick p
    WHERE NOT p.same AND js.job_name = c.job_name AND js.slot = c.slot),
freed AS (
    UPDATE nightshift.job_slot js SET owner = NULL
    FROM held h, nightshift.job j
    WHERE js.job_name = h.job_name AND js.slot = h.slot AND js.owner = :owner
      AND j.name = h.job_name AND h.slot < j.concurrency
      AND NOT EXISTS (SELECT 1 FROM claimed c, pick p WHERE p.same)),
dropped AS (
    DELETE FROM nightshift.job_slot js
    USING held h, nightshift.job j
    WHERE js.job_name = h.job_name AND js.slot = h.slot AND js.owner = :owner
      AND j.name = h.job_name AND h.slot >= j.concurrency)
SELECT c.id, c.job_name, c.attempt, c.max_attempts, c.trigger, c.params::text, c.created_at, c.started_at, c.slot,
       c.settings::text
FROM claimed c

-- name: complete_and_claim_next
-- The end of a transactional run's own transaction (the caller sends COMMIT in the same round
-- trip): the run moves to run_history as succeeded if it is still this owner's attempt and no
-- cancel was asked, else SQLSTATE NS409 (queue_lost) aborts the transaction, so the job's work never
-- commits without its completion. Then the fast claim: the oldest due run of all, if it is of this
-- worker's job and the worker's slot is still below the job's concurrency, moves to running in that
-- same slot (no slot row written) and its settings are set on this session where they differ (the
-- finished run's parameters the next one lacks, :clear, are emptied). Nothing claimed: the worker
-- makes a general claim (claim) with its slot as the held one. READ COMMITTED only: the claim must
-- see the rows it locks in their newest version.
WITH at AS MATERIALIZED (
    -- one instant for the end of this run and the start of the next
    SELECT clock_timestamp() AS t),
done AS (
    DELETE FROM nightshift.running r
    WHERE r.id = :id AND r.owner = :owner AND r.attempt = :attempt AND NOT r.cancel_requested
    RETURNING r.*),
hist AS (
    INSERT INTO nightshift.run_history (id, job_name, state, trigger, params, scheduled_at, period_start, period_end,
                                        period_zone, parent_run_id, backfill_id, actor, attempt, max_attempts, run_at,
                                        created_at, started_at, finished_at, node, slot, counts, last_error,
                                        last_error_sqlstate)
    SELECT d.id, d.job_name, 'succeeded', d.trigger, d.params, d.scheduled_at, d.period_start, d.period_end,
           d.period_zone, d.parent_run_id, d.backfill_id, d.actor, d.attempt, d.max_attempts, d.run_at, d.created_at,
           d.started_at, at.t, d.node, d.slot, :counts::jsonb, d.last_error, d.last_error_sqlstate
    FROM done d, at
    RETURNING id),
w AS (
    DELETE FROM nightshift.queue q
    WHERE q.id = (SELECT n.id FROM nightshift.queue n
                  WHERE n.run_at <= statement_timestamp()
                  ORDER BY n.run_at, n.id
                  LIMIT 1
                  FOR UPDATE SKIP LOCKED)
      AND q.job_name = :job
      AND current_setting('transaction_isolation') = 'read committed'
      AND EXISTS (SELECT 1 FROM nightshift.job j
                  WHERE j.name = :job AND (j.concurrency = 0 OR :slot::integer < j.concurrency))
    RETURNING q.*),
claimed AS (
    INSERT INTO nightshift.running (id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone,
                                    parent_run_id, backfill_id, actor, attempt, max_attempts, run_at, created_at,
                                    counts, last_error, last_error_sqlstate, settings, owner, node, slot, started_at)
    SELECT w.id, w.job_name, w.trigger, w.params, w.scheduled_at, w.period_start, w.period_end, w.period_zone,
           w.parent_run_id, w.backfill_id, w.actor, w.attempt + 1, w.max_attempts, w.run_at, w.created_at,
           w.counts, w.last_error, w.last_error_sqlstate, w.settings, :owner, :node, :slot, at.t
    FROM w, at
    RETURNING id, job_name, attempt, max_attempts, trigger, params, created_at, started_at, slot, settings)
SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM hist) THEN nightshift.queue_lost(:id, :attempt) END AS lost,
       c.id, c.job_name, c.attempt, c.max_attempts, c.trigger, c.params::text, c.created_at, c.started_at, c.slot,
       c.settings::text,
       (SELECT count(set_config(s.key, s.value, false))
        FROM jsonb_each_text(c.settings || jsonb_build_object('nightshift.attempt', c.attempt::text)) s
        WHERE current_setting(s.key, true) IS DISTINCT FROM s.value) AS set,
       (SELECT count(set_config(k.name, '', false)) FROM unnest(:clear::text[]) k(name) WHERE NOT jsonb_exists(c.settings, k.name))
           AS cleared
FROM (VALUES (1)) one
LEFT JOIN claimed c ON true

-- name: complete
-- A run's success without a next claim (a run without a transaction of its own, a draining
-- worker): as complete_and_claim_next, and the run's slot is freed (or dropped above a lowered
-- concurrency).
WITH done AS (
    DELETE FROM nightshift.running r
    WHERE r.id = :id AND r.owner = :owner AND r.attempt = :attempt AND NOT r.cancel_requested
    RETURNING r.*),
hist AS (
    INSERT INTO nightshift.run_history (id, job_name, state, trigger, params, scheduled_at, period_start, period_end,
                                        period_zone, parent_run_id, backfill_id, actor, attempt, max_attempts, run_at,
                                        created_at, started_at, finished_at, node, slot, counts, last_error,
                                        last_error_sqlstate)
    SELECT d.id, d.job_name, 'succeeded', d.trigger, d.params, d.scheduled_at, d.period_start, d.period_end,
           d.period_zone, d.parent_run_id, d.backfill_id, d.actor, d.attempt, d.max_attempts, d.run_at, d.created_at,
           d.started_at, clock_timestamp(), d.node, d.slot, :counts::jsonb, d.last_error, d.last_error_sqlstate
    FROM done d
    RETURNING id),
freed AS (
    UPDATE nightshift.job_slot js SET owner = NULL
    FROM done d, nightshift.job j
    WHERE js.job_name = d.job_name AND js.slot = d.slot AND js.owner = d.owner
      AND j.name = d.job_name AND d.slot < j.concurrency),
dropped AS (
    DELETE FROM nightshift.job_slot js
    USING done d, nightshift.job j
    WHERE js.job_name = d.job_name AND js.slot = d.slot AND js.owner = d.owner
      AND j.name = d.job_name AND d.slot >= j.concurrency)
SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM hist) THEN nightshift.queue_lost(:id, :attempt) END AS lost

-- name: use_settings
-- A run's settings on the session that works on it, each where it differs from the session's (a
-- run claimed by the claimer or the general claim; the fast claim sets them itself); the previous
-- run's parameters the run lacks (:clear) are emptied.
SELECT (SELECT count(set_config(s.key, s.value, false)) FROM jsonb_each_text(:settings::jsonb) s
        WHERE current_setting(s.key, true) IS DISTINCT FROM s.value) AS set,
       (SELECT count(set_config(k.name, '', false)) FROM unnest(:clear::text[]) k(name)
        WHERE NOT jsonb_exists(:settings::jsonb, k.name)) AS cleared

-- name: fail
-- A failed attempt of this owner's run: back to the queue after its backoff, or to history as dead
-- (:dead: attempts exhausted or a permanent failure; the dead row notifies, run_notifies). Frees the
-- run's slot. No row: the run is no longer this owner's attempt.
WITH done AS (
    DELETE FROM nightshift.running r
    WHERE r.id = :id AND r.owner = :owner AND r.attempt = :attempt
    RETURNING r.*),
back AS (
    INSERT INTO nightshift.queue (id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone,
                                  parent_run_id, backfill_id, actor, attempt, max_attempts, run_at, created_at, started_at,
                                  counts, last_error, last_error_sqlstate, settings)
    SELECT d.id, d.job_name, d.trigger, d.params, d.scheduled_at, d.period_start, d.period_end, d.period_zone,
           d.parent_run_id, d.backfill_id, d.actor, d.attempt, d.max_attempts,
           clock_timestamp() + :delay_ms * interval '1 millisecond', d.created_at, d.started_at,
           coalesce(:counts::jsonb, d.counts),
           :error, :sqlstate, d.settings
    FROM done d
    WHERE NOT :dead
    RETURNING run_at),
dead AS (
    INSERT INTO nightshift.run_history (id, job_name, state, trigger, params, scheduled_at, period_start, period_end,
                                        period_zone, parent_run_id, backfill_id, actor, attempt, max_attempts, run_at,
                                        created_at, started_at, finished_at, node, slot, counts, last_error,
                                        last_error_sqlstate)
    SELECT d.id, d.job_name, 'dead', d.trigger, d.params, d.scheduled_at, d.period_start, d.period_end, d.period_zone,
           d.parent_run_id, d.backfill_id, d.actor, d.attempt, d.max_attempts, d.run_at, d.created_at, d.started_at,
           clock_timestamp(), d.node, d.slot, coalesce(:counts::jsonb, d.counts), :error, :sqlstate
    FROM done d
    WHERE :dead
    RETURNING run_at),
freed AS (
    UPDATE nightshift.job_slot js SET owner = NULL
    FROM done d, nightshift.job j
    WHERE js.job_name = d.job_name AND js.slot = d.slot AND js.owner = d.owner
      AND j.name = d.job_name AND d.slot < j.concurrency),
dropped AS (
    DELETE FROM nightshift.job_slot js
    USING done d, nightshift.job j
    WHERE js.job_name = d.job_name AND js.slot = d.slot AND js.owner = d.owner
      AND j.name = d.job_name AND d.slot >= j.concurrency)
SELECT CASE WHEN :dead THEN 'dead' ELSE 'available' END AS state,
       coalesce((SELECT run_at FROM back), (SELECT run_at FROM dead)) AS run_at
FROM done

-- name: cancelled
-- This owner's run whose cancel was asked ends cancelled; frees its slot. No row: not ours any more.
WITH done AS (
    DELETE FROM nightshift.running r
    WHERE r.id = :id AND r.owner = :owner AND r.attempt = :attempt
    RETURNING r.*),
hist AS (
    INSERT INTO nightshift.run_history (id, job_name, state, trigger, params, scheduled_at, period_start, period_end,
                                        period_zone, parent_run_id, backfill_id, actor, attempt, max_attempts, run_at,
                                        created_at, started_at, finished_at, node, slot, counts, last_error,
                                        last_error_sqlstate)
    SELECT d.id, d.job_name, 'cancelled', d.trigger, d.params, d.scheduled_at, d.period_start, d.period_end,
           d.period_zone, d.parent_run_id, d.backfill_id, d.actor, d.attempt, d.max_attempts, d.run_at, d.created_at,
           d.started_at, clock_timestamp(), d.node, d.slot, d.counts, coalesce(d.last_error, 'cancelled'),
           d.last_error_sqlstate
    FROM done d
    RETURNING id),
freed AS (
    UPDATE nightshift.job_slot js SET owner = NULL
    FROM done d, nightshift.job j
    WHERE js.job_name = d.job_name AND js.slot = d.slot AND js.owner = d.owner
      AND j.name = d.job_name AND d.slot < j.concurrency),
dropped AS (
    DELETE FROM nightshift.job_slot js
    USING done d, nightshift.job j
    WHERE js.job_name = d.job_name AND js.slot = d.slot AND js.owner = d.owner
      AND j.name = d.job_name AND d.slot >= j.concurrency)
SELECT id FROM hist

-- name: release
-- This owner's run given back without counting the attempt (a graceful shutdown aborted it): due
-- again at once, for any node; frees its slot. No row: not ours any more.
WITH done AS (
    DELETE FROM nightshift.running r
    WHERE r.id = :id AND r.owner = :owner AND r.attempt = :attempt
    RETURNING r.*),
back AS (
    INSERT INTO nightshift.queue (id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone,
                                  parent_run_id, backfill_id, actor, attempt, max_attempts, run_at, created_at, started_at,
                                  counts, last_error, last_error_sqlstate, settings)
    SELECT d.id, d.job_name, d.trigger, d.params, d.scheduled_at, d.period_start, d.period_end, d.period_zone,
           d.parent_run_id, d.backfill_id, d.actor, d.attempt - 1, d.max_attempts, now(), d.created_at, d.started_at, d.counts,
           :reason, NULL, d.settings
    FROM done d
    RETURNING id),
freed AS (
    UPDATE nightshift.job_slot js SET owner = NULL
    FROM done d, nightshift.job j
    WHERE js.job_name = d.job_name AND js.slot = d.slot AND js.owner = d.owner
      AND j.name = d.job_name AND d.slot < j.concurrency),
dropped AS (
    DELETE FROM nightshift.job_slot js
    USING done d, nightshift.job j
    WHERE js.job_name = d.job_name AND js.slot = d.slot AND js.owner = d.owner
      AND j.name = d.job_name AND d.slot >= j.concurrency)
SELECT id FROM back

-- name: free_slots
-- Every slot an owner holds, freed (or dropped above a lowered concurrency): a worker that stops
-- claiming (draining, or nothing was due for it).
WITH freed AS (
    UPDATE nightshift.job_slot js SET owner = NULL
    FROM nightshift.job j
    WHERE js.owner = :owner AND j.name = js.job_name AND js.slot < j.concurrency
    RETURNING js.slot),
dropped AS (
    DELETE FROM nightshift.job_slot js USING nightshift.job j
    WHERE js.owner = :owner AND j.name = js.job_name AND js.slot >= j.concurrency
    RETURNING js.slot)
SELECT (SELECT count(*) FROM freed) + (SELECT count(*) FROM dropped)

-- name: orphan_owners
-- Owners that may be dead: registered or recorded on a running run, and whose lock no session
-- holds right now (a pre-filter; the rescue's try-lock decides). Owners on running runs without a
-- worker row are there for a claim that committed after a rescue of its owner had read the runs.
SELECT o.owner
FROM (SELECT w.owner FROM nightshift.worker w UNION SELECT r.owner FROM nightshift.running r) o
WHERE NOT EXISTS (SELECT 1 FROM pg_locks l
                  WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                    AND l.classid = (o.owner >> 32)::oid AND l.objid = (o.owner & 4294967295)::oid
                    AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))
ORDER BY o.owner

-- name: check
-- The listener's check, one round trip: whether a run is due, and whether an owner may be dead.
SELECT EXISTS (SELECT 1 FROM nightshift.queue WHERE run_at <= now()) AS due,
       EXISTS (SELECT 1
               FROM (SELECT w.owner FROM nightshift.worker w UNION SELECT r.owner FROM nightshift.running r) o
               WHERE NOT EXISTS (SELECT 1 FROM pg_locks l
                                 WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                                   AND l.classid = (o.owner >> 32)::oid AND l.objid = (o.owner & 4294967295)::oid
                                   AND l.database = (SELECT d.oid FROM pg_database d
                                                     WHERE d.datname = current_database()))) AS orphaned

-- name: try_owner
-- In the rescue's transaction: the owner's lock, if no session holds it (released at commit).
SELECT pg_try_advisory_xact_lock(:owner)

-- name: rescue
-- In the transaction holding a dead owner's lock (try_owner): its running runs go back to the queue
-- (the attempt counts), or to history as dead when it was their last; its slots are freed, its row
-- deleted.
WITH gone AS (
    DELETE FROM nightshift.running r WHERE r.owner = :owner
    RETURNING r.*),
back AS (
    INSERT INTO nightshift.queue (id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone,
                                  parent_run_id, backfill_id, actor, attempt, max_attempts, run_at, created_at, started_at,
                                  counts, last_error, last_error_sqlstate, settings)
    SELECT g.id, g.job_name, g.trigger, g.params, g.scheduled_at, g.period_start, g.period_end, g.period_zone,
           g.parent_run_id, g.backfill_id, g.actor, g.attempt, g.max_attempts, now(), g.created_at, g.started_at, g.counts,
           'node ' || g.node || ' lost the run (its database session ended); rescued by ' || :node, NULL, g.settings
    FROM gone g
    WHERE g.attempt < g.max_attempts
    RETURNING id),
dead AS (
    INSERT INTO nightshift.run_history (id, job_name, state, trigger, params, scheduled_at, period_start, period_end,
                                        period_zone, parent_run_id, backfill_id, actor, attempt, max_attempts, run_at,
                                        created_at, started_at, finished_at, node, slot, counts, last_error,
                                        last_error_sqlstate)
    SELECT g.id, g.job_name, 'dead', g.trigger, g.params, g.scheduled_at, g.period_start, g.period_end, g.period_zone,
           g.parent_run_id, g.backfill_id, g.actor, g.attempt, g.max_attempts, g.run_at, g.created_at, g.started_at,
           clock_timestamp(), g.node, g.slot, g.counts,
           'node ' || g.node || ' lost the run (its database session ended); rescued by ' || :node, NULL
    FROM gone g
    WHERE g.attempt >= g.max_attempts
    RETURNING id),
freed AS (
    UPDATE nightshift.job_slot js SET owner = NULL
    FROM nightshift.job j
    WHERE js.owner = :owner AND j.name = js.job_name AND js.slot < j.concurrency),
dropped AS (
    DELETE FROM nightshift.job_slot js USING nightshift.job j
    WHERE js.owner = :owner AND j.name = js.job_name AND js.slot >= j.concurrency),
unregistered AS (
    DELETE FROM nightshift.worker w WHERE w.owner = :owner)
SELECT g.id, g.job_name, g.node, g.attempt, g.attempt >= g.max_attempts AS dead FROM gone g ORDER BY g.id

-- name: cancel_waiting
-- An operator's cancel of a waiting run (:id), or of a backfill's waiting runs (:backfill): to
-- history as cancelled.
WITH done AS (
    DELETE FROM nightshift.queue q
    WHERE q.id = :id::bigint OR q.backfill_id = :backfill::bigint
    RETURNING q.*),
hist AS (
    INSERT INTO nightshift.run_history (id, job_name, state, trigger, params, scheduled_at, period_start, period_end,
                                        period_zone, parent_run_id, backfill_id, actor, attempt, max_attempts, run_at,
                                        created_at, started_at, finished_at, node, slot, counts, last_error,
                                        last_error_sqlstate)
    SELECT d.id, d.job_name, 'cancelled', d.trigger, d.params, d.scheduled_at, d.period_start, d.period_end,
           d.period_zone, d.parent_run_id, d.backfill_id, coalesce(:actor::text, d.actor), d.attempt, d.max_attempts,
           d.run_at, d.created_at, d.started_at, clock_timestamp(), NULL, NULL, d.counts, :reason, NULL
    FROM done d
    RETURNING id, job_name)
SELECT id, job_name FROM hist ORDER BY id

-- name: request_cancel
-- An operator's cancel of a running run: flagged (its completion then fails with NS409), and the
-- backend of its owner's connection, to interrupt with pg_cancel_backend once this commits.
UPDATE nightshift.running r SET cancel_requested = true, actor = :actor
FROM nightshift.worker w
WHERE r.id = :id AND w.owner = r.owner
RETURNING r.job_name, w.backend_pid

-- name: rerun
-- A finished run (:states) back to the queue with fresh attempts, due now: an operator's retry, or
-- a backfill re-running its slot (:backfill, trigger backfill). Its settings are made again (the
-- actor is among them). A waiting run is made due now. No row: not in one of those states.
WITH h AS (
    DELETE FROM nightshift.run_history h WHERE h.id = :id AND h.state = ANY (:states::text[])
    RETURNING h.*),
back AS (
    INSERT INTO nightshift.queue (id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone,
                                  parent_run_id, backfill_id, actor, attempt, max_attempts, run_at, created_at, started_at,
                                  counts, last_error, last_error_sqlstate, settings)
    SELECT h.id, h.job_name, CASE WHEN :backfill::bigint IS NULL THEN h.trigger ELSE 'backfill' END, h.params,
           h.scheduled_at, h.period_start, h.period_end, h.period_zone, h.parent_run_id,
           coalesce(:backfill::bigint, h.backfill_id), :actor, 0, h.max_attempts, now(), h.created_at, NULL, h.counts,
           h.last_error, h.last_error_sqlstate,
           nightshift.run_settings(h.id, h.job_name, h.params, h.scheduled_at, h.period_start, h.period_end,
                                   h.period_zone, :actor)
    FROM h
    RETURNING id, job_name),
waiting AS (
    UPDATE nightshift.queue q
    SET run_at = now(), actor = :actor,
        settings = nightshift.run_settings(q.id, q.job_name, q.params, q.scheduled_at, q.period_start, q.period_end,
                                           q.period_zone, :actor)
    WHERE q.id = :id AND 'available' = ANY (:states::text[])
    RETURNING id, job_name)
SELECT id, job_name FROM back UNION ALL SELECT id, job_name FROM waiting

-- name: prune
-- Ended runs older than :retention_s, in batches, but each job's newest success (its last-success
-- time outlives the retention); their dedupe keys go with them.
WITH gone AS (
    DELETE FROM nightshift.run_history
    WHERE id IN (SELECT h.id FROM nightshift.run_history h
                 WHERE h.finished_at < now() - :retention_s * interval '1 second'
                   AND h.id NOT IN (SELECT s.id FROM nightshift.job j
                                    CROSS JOIN LATERAL (SELECT r.id FROM nightshift.run_history r
                                                        WHERE r.job_name = j.name AND r.state = 'succeeded'
                                                        ORDER BY r.id DESC LIMIT 1) s)
                 LIMIT :batch)
    RETURNING id),
keys AS (
    DELETE FROM nightshift.run_key k USING gone g WHERE k.run_id = g.id)
SELECT count(*) FROM gone
