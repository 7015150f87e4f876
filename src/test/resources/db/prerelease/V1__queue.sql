-- nightshift core schema: job definitions and the run table (the queue and its history).

CREATE TABLE job (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    type          text NOT NULL,
    description   text,
    concurrency   integer NOT NULL DEFAULT 1 CHECK (concurrency >= 1),
    max_attempts  integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    definition    jsonb NOT NULL DEFAULT '{}',
    paused        boolean NOT NULL DEFAULT false,
    -- set when the job left the catalog; its runs stay as history
    removed_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE run (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name            text NOT NULL REFERENCES job (name),
    state               text NOT NULL DEFAULT 'available'
                        CHECK (state IN ('available', 'running', 'succeeded', 'dead', 'cancelled')),
    trigger             text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'after')),
    params              jsonb NOT NULL DEFAULT '{}',
    -- job + scheduled fire time for scheduled runs, job + idempotency key for manual ones
    dedupe_key          text UNIQUE,
    scheduled_at        timestamptz,
    parent_run_id       bigint,
    attempt             integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL CHECK (max_attempts >= 1),
    run_at              timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at          timestamptz,
    finished_at         timestamptz,
    node                text,
    backend_pid         integer,
    cancel_requested    boolean NOT NULL DEFAULT false,
    counts              jsonb,
    last_error          text,
    last_error_sqlstate text,
    CHECK (state <> 'running' OR node IS NOT NULL)
);

-- the claim: due runs of one job, oldest first
CREATE INDEX run_available_idx ON run (job_name, run_at, id) WHERE state = 'available';
-- the next due time and the oldest-available metric
CREATE INDEX run_available_due_idx ON run (run_at) WHERE state = 'available';
-- per-job concurrency counts and the rescuer
CREATE INDEX run_running_idx ON run (job_name) WHERE state = 'running';
-- pruning of finished runs
CREATE INDEX run_finished_idx ON run (finished_at) WHERE state IN ('succeeded', 'dead', 'cancelled');
-- listings per job, newest first
CREATE INDEX run_job_idx ON run (job_name, id DESC);
