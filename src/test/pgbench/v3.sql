-- Variant "v3": the data model of the queue core's third version (issue 21), for the gate before the Java is
-- wired. Not what nightshift does yet: architecture.md, "Queue core v3", says what it is and why.
--   queue        the waiting runs only. A claim moves a run to running (DELETE here, INSERT there) rather
--                than updating it: a claimer whose snapshot still sees a run another claimer took meanwhile
--                finds it deleted and passes (SKIP LOCKED); were it updated, the claimer would follow it to
--                its running version and keep a lock on that row after re-checking it (EvalPlanQual), and the
--                owner's completion would wait for that claimer's commit (or deadlock with it).
--   running      the runs being worked on, each with its owner key and slot; a completion DELETEs it.
--   run_history  written once, by whatever ends a run (append-only, pruned by retention).
--   run_key      the dedupe key, written once at enqueue, never touched by a claim or a completion.
--   worker       one row per worker connection (its owner key), written when the connection starts;
--                the connection holds pg_advisory_lock(owner) for its whole life, a claimed run records
--                its owner, and the rescuer try-locks the registered owners to find dead ones.
--   job_slot     a job's slots, held by owners (not runs): a worker keeps its slot across consecutive
--                runs of the same job, so a chain of one job writes no slot row.
-- The run's settings (statement_timeout, job, logical time, parameters) are prepared at enqueue as two
-- arrays and set by the claim's own statement (plain SQL, no PL/pgSQL on the hot path).
CREATE SCHEMA v3;
CREATE SEQUENCE v3.owner_seq;
CREATE TABLE v3.worker (owner bigint PRIMARY KEY, node text NOT NULL, since timestamptz NOT NULL DEFAULT now());
CREATE TABLE v3.queue (
    id               bigint PRIMARY KEY,
    job_name         text NOT NULL,
    run_at           timestamptz NOT NULL,
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL,
    trigger          text NOT NULL,
    params           jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    setting_names    text[] NOT NULL,
    setting_values   text[] NOT NULL)
    WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000);
CREATE INDEX queue_job_idx ON v3.queue (job_name, run_at, id);
CREATE INDEX queue_due_idx ON v3.queue (run_at, id);
CREATE TABLE v3.running (
    id               bigint PRIMARY KEY,
    job_name         text NOT NULL,
    run_at           timestamptz NOT NULL,
    attempt          integer NOT NULL,
    max_attempts     integer NOT NULL,
    owner            bigint NOT NULL,
    slot             integer,
    cancel_requested boolean NOT NULL DEFAULT false,
    trigger          text NOT NULL,
    params           jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz NOT NULL,
    setting_names    text[] NOT NULL,
    setting_values   text[] NOT NULL);
CREATE TABLE v3.run_history (
    id           bigint PRIMARY KEY,
    job_name     text NOT NULL,
    state        text NOT NULL,
    trigger      text NOT NULL,
    params       jsonb NOT NULL,
    attempt      integer NOT NULL,
    max_attempts integer NOT NULL,
    node         text,
    run_at       timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    started_at   timestamptz,
    finished_at  timestamptz NOT NULL,
    counts       jsonb,
    last_error   text);
CREATE INDEX run_history_job_idx ON v3.run_history (job_name, id DESC);
CREATE INDEX run_history_finished_idx ON v3.run_history USING brin (finished_at);
CREATE TABLE v3.run_key (dedupe_key text PRIMARY KEY, run_id bigint NOT NULL);
CREATE TABLE v3.job_slot (job_name text NOT NULL, slot integer NOT NULL, owner bigint,
                          PRIMARY KEY (job_name, slot)) WITH (fillfactor = 50);
INSERT INTO v3.job_slot (job_name, slot) SELECT name, g FROM nightshift.job, generate_series(0, concurrency - 1) g;
-- Only on the failure path (a CASE calls it when the completion found its run gone, cancelled or
-- another's): aborts the job's transaction, so that its work never commits without its completion.
CREATE FUNCTION v3.lost(p_run bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'run % is no longer this worker''s or its cancel was requested', p_run USING ERRCODE = 'NS409';
END $$;
