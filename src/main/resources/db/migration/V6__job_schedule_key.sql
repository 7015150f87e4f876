-- Which Quartz trigger fires a job: one trigger per distinct schedule (cron, time zone, misfire
-- policy), named by this key. Written by the sync; null for jobs without a schedule, and cleared
-- on removed jobs once the sync has brought the triggers in line. A fire inserts the runs of all
-- the jobs carrying its key in one statement, found through the index.
ALTER TABLE job ADD COLUMN schedule_key text;

CREATE INDEX job_schedule_key_idx ON job (schedule_key) WHERE schedule_key IS NOT NULL;
