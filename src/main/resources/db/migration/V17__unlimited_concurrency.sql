-- A job may have no concurrency limit (concurrency: unlimited, stored as 0): it has no slot rows, and
-- its claims lock only the run. Measured with pgbench (architecture.md): the slot row is the
-- largest part of a claim's cost when a job runs many runs at once, and a job that needs no limit
-- need not pay it. The claim and the slot triggers that read this live in R__queue.sql.
ALTER TABLE job DROP CONSTRAINT job_concurrency_check;
ALTER TABLE job ADD CONSTRAINT job_concurrency_check CHECK (concurrency >= 0);
COMMENT ON COLUMN job.concurrency IS 'runs at once across all nodes; 0: no limit (no slot rows)';
