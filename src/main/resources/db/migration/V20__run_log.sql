-- Per-run logs (issue 20, part 3): server notices, statement tags and counts, import phases,
-- retries and the daemon's own lines about a run. Written by each node's run log writer on a
-- connection of its own, in batches, so a rolled-back attempt keeps its lines. Additive only.
--
-- No foreign key to run: the run's storage may change (a view over queue and history tables),
-- and a log line must never hold up a run's deletion; the prune deletes the lines of runs that
-- are gone (RunLogStore.prune).
CREATE TABLE run_log (
    run_id    bigint NOT NULL,
    attempt   integer NOT NULL,
    -- numbered by the writer within the attempt, from 1 (continued when a retried run reuses an attempt number)
    line      integer NOT NULL,
    -- the order of a run's lines across attempts; what GET /api/runs/N/log?after= pages by
    seq       bigint GENERATED ALWAYS AS IDENTITY,
    logged_at timestamptz NOT NULL,
    level     text NOT NULL CHECK (level IN ('DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR')),
    text      text NOT NULL,
    PRIMARY KEY (run_id, attempt, line)
);
-- Readers ask for one run's lines after a seq: the primary key finds the run's lines (a few
-- thousand at most, the cap), no second btree to keep on every insert. The prune looks for old
-- lines: BRIN, since lines are appended in time order, a tiny index at almost no cost per insert.
CREATE INDEX run_log_logged_at_idx ON run_log USING brin (logged_at);
