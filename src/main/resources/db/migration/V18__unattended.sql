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
