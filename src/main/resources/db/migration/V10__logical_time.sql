-- Logical time: the period a run covers.
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
