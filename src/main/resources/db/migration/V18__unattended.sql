-- Unattended operation (issue 20). Additive only: new tables, no change to the run table.

-- What a schedule's slot did when it fired while an earlier run of its job was pending
-- (schedule.overlap): 'skipped' (no run; run_id is the pending run it yielded to) or 'coalesced'
-- (merged into run_id, the job's waiting run, whose period_end now reaches this slot). A slot
-- recorded here is settled (neither late nor missing) once run_id succeeds. The primary key makes
-- a repeated fire of the slot (Quartz recovery) a no-op, as the runs' dedupe keys do. No foreign
-- key to run: runs are pruned by retention, and these rows with them (Maintenance).
CREATE TABLE slot_overlap (
    job_name     text NOT NULL,
    scheduled_at timestamptz NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('skipped', 'coalesced')),
    run_id       bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_name, scheduled_at)
);
CREATE INDEX slot_overlap_run_idx ON slot_overlap (run_id);
CREATE INDEX slot_overlap_created_idx ON slot_overlap (created_at);

-- The notification outbox: one row per event and target, written in the transaction that changes
-- the state it reports (a run made dead, a job recovering: the trigger below; a slot turning late:
-- DeadlineWatch, under the key late:JOB:SLOT). Any node delivers a due row at least once
-- (Notifier), sending idempotency_key as the Idempotency-Key header on every try. url NULL: the
-- delivering node's default targets (the notify setting), for a job without notify: of its own.
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
    -- when the next try is due; a node taking a row moves it past its own try (a lease), so a node
    -- killed while delivering leaves the row to another once that has passed
    next_at         timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX notification_due_idx ON notification (next_at) WHERE state = 'pending';
CREATE INDEX notification_created_idx ON notification (created_at);

-- Jobs whose last news was bad (a dead run or a late slot), since when: the next success of the job
-- is its recovery, and notifies once.
CREATE TABLE notify_state (
    job_name      text PRIMARY KEY,
    failing_since timestamptz NOT NULL
);

-- Writes the notifications of one event, one per target of the job's notify: (none: one row for the
-- default targets), each keyed p_key:N; a key already there (the same event again) adds nothing.
CREATE FUNCTION notify_enqueue(p_job text, p_event text, p_run bigint, p_slot timestamptz, p_period_start timestamptz,
                               p_period_end timestamptz, p_error text, p_key text)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO nightshift.notification (job_name, event, run_id, slot, period_start, period_end, error, url, format,
                                         idempotency_key)
    SELECT p_job, p_event, p_run, p_slot, p_period_start, p_period_end, left(p_error, 2000), t.target ->> 'url',
           coalesce(t.target ->> 'format', 'json'), p_key || ':' || coalesce(t.n, 0)
    FROM nightshift.job j
    LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(j.definition -> 'notify') = 'array'
                                                THEN j.definition -> 'notify' END)
              WITH ORDINALITY AS t(target, n) ON true
    WHERE j.name = p_job
    ON CONFLICT (idempotency_key) DO NOTHING;
    INSERT INTO nightshift.notify_state (job_name, failing_since)
    SELECT p_job, now() WHERE p_event IN ('dead', 'late')
    ON CONFLICT (job_name) DO NOTHING;
$$;

-- A run made dead notifies; the first success after bad news notifies the recovery. In the
-- transaction of the state change, whichever code path makes it.
CREATE FUNCTION run_notifies() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.state = 'dead' THEN
        PERFORM nightshift.notify_enqueue(NEW.job_name, 'dead', NEW.id, NEW.scheduled_at, NEW.period_start, NEW.period_end,
                                          NEW.last_error,
                                          -- a run retried by hand may die again: each death is news of its own
                                          'dead:' || NEW.id || '@' || (extract(epoch FROM coalesce(NEW.finished_at, clock_timestamp())) * 1000000)::bigint);
    ELSIF EXISTS (SELECT 1 FROM nightshift.notify_state s WHERE s.job_name = NEW.job_name) THEN
        PERFORM nightshift.notify_enqueue(NEW.job_name, 'recovered', NEW.id, NEW.scheduled_at, NEW.period_start,
                                          NEW.period_end, NULL, 'recovered:' || NEW.id);
        DELETE FROM nightshift.notify_state s WHERE s.job_name = NEW.job_name;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER run_notifies AFTER UPDATE OF state ON run
    FOR EACH ROW WHEN (NEW.state IN ('dead', 'succeeded') AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION run_notifies();
