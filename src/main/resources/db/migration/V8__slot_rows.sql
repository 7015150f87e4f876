-- A job's concurrency as rows: job_slot holds one row per slot, 0 .. concurrency - 1, and the id of
-- the running run that holds it (null: free). A claim locks free slot rows with FOR UPDATE SKIP
-- LOCKED, as it locks runs: two claimers never take one slot, a claimer never waits for another,
-- and a slot taken by a claim that committed after the claimer's snapshot is seen when the row is
-- locked (PostgreSQL re-reads a locked row's newest version and re-checks run_id IS NULL). This
-- replaces V5's advisory slot locks and the per-slot loop of the claim, which needed a statement of
-- its own per slot to see such claims. The claim and the triggers that keep the rows in line live
-- in R__queue.sql.
--
-- run_id is in no index and the table keeps free space in each page: taking and freeing a slot are
-- HOT updates, which write no index entry.
CREATE TABLE job_slot (
    job_name text NOT NULL REFERENCES job (name),
    slot     integer NOT NULL CHECK (slot >= 0),
    run_id   bigint,
    PRIMARY KEY (job_name, slot)
) WITH (fillfactor = 50);

-- Running runs claimed before V5 have no slot: each gets a number past those its job's running
-- runs hold, so that it keeps a slot row until it ends (a number at or above the concurrency is
-- never taken by a claim; see R__queue.sql).
UPDATE run r
SET slot = n.slot
FROM (SELECT a.id,
             (SELECT coalesce(max(b.slot) + 1, 0) FROM run b WHERE b.job_name = a.job_name AND b.state = 'running')
                 + row_number() OVER (PARTITION BY a.job_name ORDER BY a.id) - 1 AS slot
      FROM run a
      WHERE a.state = 'running' AND a.slot IS NULL) n
WHERE r.id = n.id;

INSERT INTO job_slot (job_name, slot)
SELECT j.name, g.slot FROM job j CROSS JOIN LATERAL generate_series(0, j.concurrency - 1) AS g(slot);

INSERT INTO job_slot AS s (job_name, slot, run_id)
SELECT r.job_name, r.slot, r.id FROM run r WHERE r.state = 'running'
ON CONFLICT (job_name, slot) DO UPDATE SET run_id = excluded.run_id;

-- The old claim (V7) and its session state; the new one has another result type.
DROP FUNCTION claim(text, integer, boolean, boolean);
DROP FUNCTION complete_and_claim(bigint, text, integer, jsonb, bigint, boolean, text[]);
