-- Logical time: the period a run covers, and backfills of past periods.
--
-- scheduled_at (V1) is the run's slot. period_start is the slot before it in the schedule (its
-- cron, time zone and calendar), period_end the slot itself; period_zone is the schedule's time
-- zone, in which the run's settings nightshift.scheduled_at, .period_start and .period_end are
-- written (ISO-8601 with that zone's offset). All three are null for a run without a period.
ALTER TABLE run
    ADD COLUMN period_start timestamptz,
    ADD COLUMN period_end   timestamptz,
    ADD COLUMN period_zone  text,
    ADD CONSTRAINT run_period_check CHECK (period_start <= period_end);

-- A backfill: one run per slot of [range_from, range_to) of a job's schedule, with the dedupe key
-- the scheduler gives that slot, so a slot never gets two runs. Its runs point to it
-- (run.backfill_id); its progress is read from them. Slots wait in pending, in the order they are
-- to run, while the backfill has max_active runs waiting or running.
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
    finished_at  timestamptz
);

CREATE INDEX backfill_active_idx ON backfill (id) WHERE state = 'active';

ALTER TABLE run
    ADD COLUMN backfill_id bigint REFERENCES backfill (id),
    DROP CONSTRAINT run_trigger_check,
    ADD CONSTRAINT run_trigger_check CHECK (trigger IN ('schedule', 'manual', 'after', 'backfill'));

CREATE INDEX run_backfill_idx ON run (backfill_id, state) WHERE backfill_id IS NOT NULL;
