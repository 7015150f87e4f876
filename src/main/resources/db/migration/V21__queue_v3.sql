-- Queue core v3 (issue 21): the run table is split by what a run is doing, and liveness moves from
-- the run to the worker's connection. architecture.md ("The queue") says why, and what each choice
-- was measured against. The statements that move runs between these tables are in
-- src/main/resources/db/queue.sql; the functions and triggers, and the view `run` that readers use,
-- in R__queue.sql.
--
--   queue        the waiting runs (available, also a failed attempt waiting for its backoff)
--   running      the runs being worked on, each with its owner (the worker connection's key) and slot
--   run_history  one row per ended run, written once by whatever ends it, never updated
--   run_key      the dedupe keys, written once at enqueue
--   worker       one row per worker connection; the connection holds pg_advisory_lock(owner) for life
--   job_slot     a job's slots, now held by owners (a worker keeps its slot across its runs of one job)
--
-- A claim moves a run from queue to running (DELETE, INSERT), a completion from running to
-- run_history: no row is updated on the hot path, and a claimer whose snapshot still sees a run
-- another claimer took finds it deleted and passes it without a lock (an updated row it would
-- follow and lock: EvalPlanQual).

-- Run ids: from the identity of the old table on; the enqueue takes one before its insert, as the
-- run's settings name it.
CREATE SEQUENCE run_seq;
SELECT setval('run_seq', coalesce((SELECT max(id) FROM run), 0) + 1, false);

-- Owner keys are the advisory lock keys themselves: "ns" (0x6E73) in the top 16 bits, so they never
-- collide with the single-bigint advisory locks of other software in the database (Flyway's).
CREATE SEQUENCE worker_owner_seq START WITH 7958704966493798401 MINVALUE 7958704966493798401;

CREATE TABLE worker (
    owner       bigint PRIMARY KEY,
    node        text NOT NULL,
    backend_pid integer NOT NULL,
    since       timestamptz NOT NULL DEFAULT now()
);

-- No foreign keys on the hot tables (each costs a probe per moved row); job rows are never deleted.
CREATE TABLE queue (
    id                  bigint PRIMARY KEY,
    job_name            text NOT NULL,
    trigger             text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'after', 'backfill', 'arrival')),
    params              jsonb NOT NULL DEFAULT '{}',
    scheduled_at        timestamptz,
    period_start        timestamptz,
    period_end          timestamptz,
    period_zone         text,
    parent_run_id       bigint,
    backfill_id         bigint,
    actor               text,
    attempt             integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL CHECK (max_attempts >= 1),
    run_at              timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- of the failed attempt before, shown while the run waits for its backoff
    started_at          timestamptz,
    counts              jsonb,
    last_error          text,
    last_error_sqlstate text,
    -- the run's session settings, prepared at enqueue (nightshift.run_settings)
    settings            jsonb NOT NULL,
    CHECK (period_start <= period_end)
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000);
-- the claim of one job: its oldest due run
CREATE INDEX queue_job_idx ON queue (job_name, run_at, id);
-- the oldest due run of all: the fast claim, the listener, lateness
CREATE INDEX queue_due_idx ON queue (run_at, id);
CREATE INDEX queue_backfill_idx ON queue (backfill_id) WHERE backfill_id IS NOT NULL;

CREATE TABLE running (LIKE queue INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE running
    ADD PRIMARY KEY (id),
    ADD COLUMN owner            bigint NOT NULL,
    ADD COLUMN node             text NOT NULL,
    ADD COLUMN slot             integer,
    ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false,
    ALTER COLUMN started_at SET NOT NULL;

CREATE TABLE run_history (
    id                  bigint PRIMARY KEY,
    job_name            text NOT NULL,
    state               text NOT NULL CHECK (state IN ('succeeded', 'dead', 'cancelled')),
    trigger             text NOT NULL,
    params              jsonb NOT NULL,
    scheduled_at        timestamptz,
    period_start        timestamptz,
    period_end          timestamptz,
    period_zone         text,
    parent_run_id       bigint,
    backfill_id         bigint,
    actor               text,
    attempt             integer NOT NULL,
    max_attempts        integer NOT NULL,
    run_at              timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    started_at          timestamptz,
    finished_at         timestamptz NOT NULL,
    node                text,
    slot                integer,
    counts              jsonb,
    last_error          text,
    last_error_sqlstate text
);
CREATE INDEX run_history_job_idx ON run_history (job_name, id DESC);
CREATE INDEX run_history_finished_idx ON run_history USING brin (finished_at);
CREATE INDEX run_history_backfill_idx ON run_history (backfill_id, state) WHERE backfill_id IS NOT NULL;

-- run_id is unique too: the view joins it only when a reader asks for dedupe_key (join removal)
CREATE TABLE run_key (
    dedupe_key text PRIMARY KEY,
    run_id     bigint NOT NULL
);
CREATE UNIQUE INDEX run_key_run_idx ON run_key (run_id);

-- Slots are held by owners: free ones have no owner.
DROP TRIGGER IF EXISTS job_has_its_slots ON job;
ALTER TABLE job_slot DROP COLUMN run_id, ADD COLUMN owner bigint;
INSERT INTO job_slot (job_name, slot)
SELECT j.name, g.slot FROM job j CROSS JOIN LATERAL generate_series(0, j.concurrency - 1) AS g(slot)
ON CONFLICT DO NOTHING;

-- The runs of the old table, each where it now belongs. A running run goes back to the queue with
-- its attempt given back, as at a graceful shutdown: the nodes that ran it are of the old version.
INSERT INTO run_key (dedupe_key, run_id) SELECT dedupe_key, id FROM run WHERE dedupe_key IS NOT NULL;
INSERT INTO run_history (id, job_name, state, trigger, params, scheduled_at, period_start, period_end, period_zone,
                         parent_run_id, backfill_id, actor, attempt, max_attempts, run_at, created_at, started_at,
                         finished_at, node, slot, counts, last_error, last_error_sqlstate)
SELECT id, job_name, state, trigger, params, scheduled_at, period_start, period_end, period_zone, parent_run_id,
       backfill_id, actor, attempt, max_attempts, run_at, created_at, started_at, coalesce(finished_at, created_at),
       node, slot, counts, last_error, last_error_sqlstate
FROM run WHERE state IN ('succeeded', 'dead', 'cancelled');
INSERT INTO queue (id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone, parent_run_id,
                   backfill_id, actor, attempt, max_attempts, run_at, created_at, started_at, counts, last_error,
                   last_error_sqlstate, settings)
SELECT id, job_name, trigger, params, scheduled_at, period_start, period_end, period_zone, parent_run_id, backfill_id,
       actor, CASE WHEN state = 'running' THEN greatest(attempt - 1, 0) ELSE attempt END, max_attempts, run_at,
       created_at, started_at, counts, last_error, last_error_sqlstate, '{}'
FROM run WHERE state IN ('available', 'running');

-- The old table and everything of the old lock path (per-run locks, claim functions, slot triggers).
DROP TABLE run;
DROP FUNCTION IF EXISTS claim(text, boolean, boolean);
DROP FUNCTION IF EXISTS complete_and_claim(bigint, text, integer, jsonb, bigint, boolean, text[]);
DROP FUNCTION IF EXISTS use_run_settings(bigint, text, integer, jsonb, bigint, timestamptz, timestamptz, timestamptz, text);
DROP FUNCTION IF EXISTS free_slot();
DROP FUNCTION IF EXISTS sync_slots();
DROP FUNCTION IF EXISTS run_lock_key(bigint);
DROP FUNCTION IF EXISTS claim_runs(text, integer, boolean);
DROP FUNCTION IF EXISTS run_notifies();
