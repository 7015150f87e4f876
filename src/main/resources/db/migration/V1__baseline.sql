-- The nightshift schema, version 1: the baseline every database starts from. Released migrations
-- are never edited: a change of the schema is a new file V<highest + 1>__what.sql (see
-- architecture.md, "Migrations"). Functions, triggers and the view `run` are in the repeatable
-- migrations R__*.sql, which Flyway re-applies whenever they change; the statements that move runs
-- between the queue's tables are in db/queue.sql.
--
-- Groups: the queue; jobs and schedules; imports and data-aware jobs; batch time (backfills);
-- notifications; run logs; audit; Quartz's job store.

---------------------------------------------------------------------------------------------------
-- The queue. A run is in exactly one of queue (waiting), running (claimed) and run_history
-- (ended); a claim moves it from queue to running (DELETE, INSERT), a completion from running to
-- run_history, so no row is updated on the hot path. Liveness is the worker's connection: it holds
-- pg_advisory_lock(owner) for life. architecture.md ("The queue") says why this shape.
---------------------------------------------------------------------------------------------------

-- Run ids: the enqueue takes one before its insert, as the run's settings name it.
CREATE SEQUENCE run_seq;

-- Owner keys are the advisory lock keys themselves: "ns" (0x6E73) in the top 16 bits, so they never
-- collide with the single-bigint advisory locks of other software in the database (Flyway's).
CREATE SEQUENCE worker_owner_seq START WITH 7958704966493798401 MINVALUE 7958704966493798401;

-- worker: one row per worker connection, keyed by the advisory lock its connection holds.
CREATE TABLE worker (
    owner       bigint PRIMARY KEY,
    node        text NOT NULL,
    backend_pid integer NOT NULL,
    since       timestamptz NOT NULL DEFAULT now()
);

-- queue: the waiting runs (available, also a failed attempt waiting for its backoff).
-- No foreign keys on the hot tables (each costs a probe per moved row); job rows are never deleted.
CREATE TABLE queue (
    id                  bigint PRIMARY KEY,
    job_name            text NOT NULL,
    trigger             text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'after', 'backfill', 'arrival')),
    params              jsonb NOT NULL DEFAULT '{}',
    scheduled_at        timestamptz,
    -- the period the run covers: the slot before scheduled_at in its schedule, and the slot itself,
    -- written in the run's settings in period_zone; all three null for a run without a period
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

-- running: the runs being worked on, each with its owner (the worker connection's key) and slot.
-- Its columns are the queue's (the same checks, under the queue's names), then its own.
CREATE TABLE running (LIKE queue INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE running
    ADD PRIMARY KEY (id),
    ADD COLUMN owner            bigint NOT NULL,
    ADD COLUMN node             text NOT NULL,
    ADD COLUMN slot             integer,
    ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false,
    ALTER COLUMN started_at SET NOT NULL;

-- run_history: one row per ended run, written once by whatever ends it, never updated.
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

-- run_key: the dedupe keys, written once at enqueue. run_id is unique too: the view `run` joins it
-- only when a reader asks for dedupe_key (join removal).
CREATE TABLE run_key (
    dedupe_key text PRIMARY KEY,
    run_id     bigint NOT NULL
);
CREATE UNIQUE INDEX run_key_run_idx ON run_key (run_id);

---------------------------------------------------------------------------------------------------
-- Jobs and schedules
---------------------------------------------------------------------------------------------------

-- job: the catalog's jobs as the nodes last synced them.
CREATE TABLE job (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    type          text NOT NULL,
    description   text,
    concurrency   integer NOT NULL DEFAULT 1 CHECK (concurrency >= 0),
    max_attempts  integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    definition    jsonb NOT NULL DEFAULT '{}',
    paused        boolean NOT NULL DEFAULT false,
    -- set when the job left the catalog; its runs stay as history
    removed_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- what the schedule's Quartz trigger was made from; null for a job without a schedule
    schedule_key  text
);
COMMENT ON COLUMN job.concurrency IS 'runs at once across all nodes; 0: no limit (no slot rows)';
CREATE INDEX job_schedule_key_idx ON job (schedule_key) WHERE schedule_key IS NOT NULL;

-- job_slot: a job's concurrency slots (0 .. concurrency - 1, kept by the trigger job_has_its_slots
-- of R__queue.sql), held by owners: a free one has no owner. Updated in place: half-full pages.
CREATE TABLE job_slot (
    job_name text NOT NULL REFERENCES job (name),
    slot     integer NOT NULL CHECK (slot >= 0),
    owner    bigint,
    PRIMARY KEY (job_name, slot)
) WITH (fillfactor = 50);

-- slot_overlap: a schedule slot that found the job's previous run still going, and what was done
-- (skipped, or coalesced into that run).
CREATE TABLE slot_overlap (
    job_name     text NOT NULL,
    scheduled_at timestamptz NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('skipped', 'coalesced')),
    run_id       bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_name, scheduled_at)
);
CREATE INDEX slot_overlap_created_idx ON slot_overlap (created_at);
CREATE INDEX slot_overlap_run_idx ON slot_overlap (run_id);

---------------------------------------------------------------------------------------------------
-- Imports and data-aware jobs (functions: R__imports.sql)
---------------------------------------------------------------------------------------------------

-- import_file: each file a batch-import job applied, so that the same content is not imported
-- twice; with a remote source's validators (ETag, Last-Modified), sent back as If-None-Match /
-- If-Modified-Since.
CREATE TABLE import_file (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name      text NOT NULL,
    target        text NOT NULL,
    file_name     text NOT NULL,
    checksum      text NOT NULL,
    run_id        bigint NOT NULL,
    counts        jsonb NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now(),
    source_path   text,
    etag          text,
    last_modified text
);
CREATE INDEX import_file_path_idx ON import_file (job_name, source_path, id);

-- import_reject: the lines of an imported file that were refused, with why (raw is bounded).
CREATE TABLE import_reject (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     bigint NOT NULL,
    job_name   text NOT NULL,
    file_name  text NOT NULL,
    line       bigint NOT NULL,
    reason     text NOT NULL,
    raw        text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_reject_run_idx ON import_reject (run_id, file_name, line);

-- source_mark: what a skip_if_unchanged job read when it last succeeded, so that a run whose
-- sources have not changed since can succeed at once.
CREATE TABLE source_mark (
    job_name   text PRIMARY KEY,
    -- {"server_started": ..., "tables": {"<oid>": {"name", "filenode", "changes"}}, "view": <oid>}
    marks      jsonb NOT NULL,
    run_id     bigint NOT NULL,
    taken_at   timestamptz NOT NULL DEFAULT now()
);

---------------------------------------------------------------------------------------------------
-- Batch time: backfills of past periods
---------------------------------------------------------------------------------------------------

-- backfill: one run per slot of [range_from, range_to) of a job's schedule, with the dedupe key the
-- scheduler gives that slot, so a slot never gets two runs. Its runs point to it (backfill_id);
-- slots wait in pending, in the order they are to run, while it has max_active runs waiting or
-- running.
CREATE TABLE backfill (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name     text NOT NULL REFERENCES job (name),
    range_from   timestamptz NOT NULL,
    range_to     timestamptz NOT NULL CHECK (range_from < range_to),
    reprocess    text NOT NULL CHECK (reprocess IN ('none', 'failed', 'all')),
    max_active   integer CHECK (max_active >= 1),
    reverse      boolean NOT NULL,
    slots        integer NOT NULL,
    pending      timestamptz[] NOT NULL,
    -- slots left alone: their run had succeeded (none, failed), had failed (none), or was waiting or running
    skipped      integer NOT NULL,
    state        text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'done', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    actor        text
);
CREATE INDEX backfill_active_idx ON backfill (id) WHERE state = 'active';

---------------------------------------------------------------------------------------------------
-- Notifications (functions and triggers: R__notify.sql, run_notifies in R__queue.sql)
---------------------------------------------------------------------------------------------------

-- notification: the outbox of notifications (a dead run, a late slot, a recovery), delivered by
-- the nodes' notification loops with retries; idempotency_key is sent with each delivery.
CREATE TABLE notification (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name        text NOT NULL,
    event           text NOT NULL CHECK (event IN ('dead', 'late', 'recovered')),
    run_id          bigint,
    slot            timestamptz,
    period_start    timestamptz,
    period_end      timestamptz,
    error           text,
    url             text,
    format          text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
    idempotency_key text NOT NULL UNIQUE,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_at         timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX notification_due_idx ON notification (next_at) WHERE state = 'pending';
CREATE INDEX notification_created_idx ON notification (created_at);

-- notify_state: the jobs that are failing, since when: a recovery is sent when one succeeds again.
CREATE TABLE notify_state (
    job_name      text PRIMARY KEY,
    failing_since timestamptz NOT NULL
);

---------------------------------------------------------------------------------------------------
-- Run logs
---------------------------------------------------------------------------------------------------

-- run_log: the lines a run's job wrote (its server notices and nightshift's own), per attempt.
CREATE TABLE run_log (
    run_id    bigint NOT NULL,
    attempt   integer NOT NULL,
    line      integer NOT NULL,
    seq       bigint GENERATED ALWAYS AS IDENTITY,
    logged_at timestamptz NOT NULL,
    level     text NOT NULL CHECK (level IN ('DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR')),
    text      text NOT NULL,
    PRIMARY KEY (run_id, attempt, line)
);
CREATE INDEX run_log_logged_at_idx ON run_log USING brin (logged_at);

---------------------------------------------------------------------------------------------------
-- Audit (append-only: the triggers of R__audit.sql refuse UPDATE, DELETE and TRUNCATE)
---------------------------------------------------------------------------------------------------

-- audit: who did what through the API or the CLI (triggers, cancels, pauses, backfills, ...).
CREATE TABLE audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL CHECK (actor <> ''),
    role        text NOT NULL CHECK (role IN ('admin', 'operator', 'read')),
    action      text NOT NULL CHECK (action IN ('trigger', 'cancel', 'retry', 'pause', 'resume', 'backfill',
                                                'backfill-cancel', 'guard-override', 'settings')),
    job_name    text,
    run_id      bigint,
    backfill_id bigint,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_job_idx ON audit (job_name, id DESC);
CREATE INDEX audit_actor_idx ON audit (actor, id DESC);

---------------------------------------------------------------------------------------------------
-- Quartz's clustered JDBC job store, in the nightshift schema with the prefix qrtz_.
-- Quartz names the tables in upper case (e.g. nightshift.qrtz_TRIGGERS) without quotes, so
-- PostgreSQL folds them to these lower-case names. Times are epoch milliseconds, as Quartz
-- writes them. Written for this schema, not copied from the script in the Quartz jar (which
-- starts with DROPs and ends with a COMMIT of its own).

CREATE TABLE qrtz_job_details (
    sched_name        varchar(120) NOT NULL,
    job_name          varchar(200) NOT NULL,
    job_group         varchar(200) NOT NULL,
    description       varchar(250),
    job_class_name    varchar(250) NOT NULL,
    is_durable        boolean      NOT NULL,
    is_nonconcurrent  boolean      NOT NULL,
    is_update_data    boolean      NOT NULL,
    requests_recovery boolean      NOT NULL,
    job_data          bytea,
    PRIMARY KEY (sched_name, job_name, job_group)
);

CREATE TABLE qrtz_triggers (
    sched_name     varchar(120) NOT NULL,
    trigger_name   varchar(200) NOT NULL,
    trigger_group  varchar(200) NOT NULL,
    job_name       varchar(200) NOT NULL,
    job_group      varchar(200) NOT NULL,
    description    varchar(250),
    next_fire_time bigint,
    prev_fire_time bigint,
    priority       integer,
    trigger_state  varchar(16)  NOT NULL,
    trigger_type   varchar(8)   NOT NULL,
    start_time     bigint       NOT NULL,
    end_time       bigint,
    calendar_name  varchar(200),
    misfire_instr  smallint,
    job_data       bytea,
    PRIMARY KEY (sched_name, trigger_name, trigger_group),
    FOREIGN KEY (sched_name, job_name, job_group) REFERENCES qrtz_job_details (sched_name, job_name, job_group)
);

CREATE TABLE qrtz_cron_triggers (
    sched_name      varchar(120) NOT NULL,
    trigger_name    varchar(200) NOT NULL,
    trigger_group   varchar(200) NOT NULL,
    cron_expression varchar(120) NOT NULL,
    time_zone_id    varchar(80),
    PRIMARY KEY (sched_name, trigger_name, trigger_group),
    FOREIGN KEY (sched_name, trigger_name, trigger_group) REFERENCES qrtz_triggers (sched_name, trigger_name, trigger_group)
);

-- nightshift schedules only cron triggers, but Quartz's delegate queries these tables too
-- (recovery triggers after a node crash are simple triggers).
CREATE TABLE qrtz_simple_triggers (
    sched_name      varchar(120) NOT NULL,
    trigger_name    varchar(200) NOT NULL,
    trigger_group   varchar(200) NOT NULL,
    repeat_count    bigint       NOT NULL,
    repeat_interval bigint       NOT NULL,
    times_triggered bigint       NOT NULL,
    PRIMARY KEY (sched_name, trigger_name, trigger_group),
    FOREIGN KEY (sched_name, trigger_name, trigger_group) REFERENCES qrtz_triggers (sched_name, trigger_name, trigger_group)
);

CREATE TABLE qrtz_simprop_triggers (
    sched_name    varchar(120)   NOT NULL,
    trigger_name  varchar(200)   NOT NULL,
    trigger_group varchar(200)   NOT NULL,
    str_prop_1    varchar(512),
    str_prop_2    varchar(512),
    str_prop_3    varchar(512),
    int_prop_1    integer,
    int_prop_2    integer,
    long_prop_1   bigint,
    long_prop_2   bigint,
    dec_prop_1    numeric(13, 4),
    dec_prop_2    numeric(13, 4),
    bool_prop_1   boolean,
    bool_prop_2   boolean,
    PRIMARY KEY (sched_name, trigger_name, trigger_group),
    FOREIGN KEY (sched_name, trigger_name, trigger_group) REFERENCES qrtz_triggers (sched_name, trigger_name, trigger_group)
);

CREATE TABLE qrtz_blob_triggers (
    sched_name    varchar(120) NOT NULL,
    trigger_name  varchar(200) NOT NULL,
    trigger_group varchar(200) NOT NULL,
    blob_data     bytea,
    PRIMARY KEY (sched_name, trigger_name, trigger_group),
    FOREIGN KEY (sched_name, trigger_name, trigger_group) REFERENCES qrtz_triggers (sched_name, trigger_name, trigger_group)
);

CREATE TABLE qrtz_calendars (
    sched_name    varchar(120) NOT NULL,
    calendar_name varchar(200) NOT NULL,
    calendar      bytea        NOT NULL,
    PRIMARY KEY (sched_name, calendar_name)
);

CREATE TABLE qrtz_paused_trigger_grps (
    sched_name    varchar(120) NOT NULL,
    trigger_group varchar(200) NOT NULL,
    PRIMARY KEY (sched_name, trigger_group)
);

CREATE TABLE qrtz_fired_triggers (
    sched_name        varchar(120) NOT NULL,
    entry_id          varchar(95)  NOT NULL,
    trigger_name      varchar(200) NOT NULL,
    trigger_group     varchar(200) NOT NULL,
    instance_name     varchar(200) NOT NULL,
    fired_time        bigint       NOT NULL,
    sched_time        bigint       NOT NULL,
    priority          integer      NOT NULL,
    state             varchar(16)  NOT NULL,
    job_name          varchar(200),
    job_group         varchar(200),
    is_nonconcurrent  boolean,
    requests_recovery boolean,
    PRIMARY KEY (sched_name, entry_id)
);

CREATE TABLE qrtz_scheduler_state (
    sched_name        varchar(120) NOT NULL,
    instance_name     varchar(200) NOT NULL,
    last_checkin_time bigint       NOT NULL,
    checkin_interval  bigint       NOT NULL,
    PRIMARY KEY (sched_name, instance_name)
);

CREATE TABLE qrtz_locks (
    sched_name varchar(120) NOT NULL,
    lock_name  varchar(40)  NOT NULL,
    PRIMARY KEY (sched_name, lock_name)
);

-- The two row locks clustered Quartz serializes on. Quartz would insert a missing row itself,
-- but two nodes doing so at their first start race on the primary key.
INSERT INTO qrtz_locks (sched_name, lock_name) VALUES ('nightshift', 'TRIGGER_ACCESS'), ('nightshift', 'STATE_ACCESS');

-- Acquisition: the next waiting triggers, and the misfire scan.
CREATE INDEX qrtz_t_nft_st_idx ON qrtz_triggers (sched_name, trigger_state, next_fire_time);
CREATE INDEX qrtz_t_nft_misfire_idx ON qrtz_triggers (sched_name, misfire_instr, next_fire_time, trigger_state);
-- Lookups of a job's triggers and of a group's triggers (sync lists the nightshift group).
CREATE INDEX qrtz_t_j_idx ON qrtz_triggers (sched_name, job_name, job_group);
CREATE INDEX qrtz_t_g_st_idx ON qrtz_triggers (sched_name, trigger_group, trigger_state);
-- Cluster recovery reads a failed instance's fired triggers.
CREATE INDEX qrtz_ft_inst_idx ON qrtz_fired_triggers (sched_name, instance_name, requests_recovery);
CREATE INDEX qrtz_ft_trig_idx ON qrtz_fired_triggers (sched_name, trigger_name, trigger_group);
CREATE INDEX qrtz_ft_job_idx ON qrtz_fired_triggers (sched_name, job_name, job_group);
