-- One day of tweet.daily_activity, rebuilt from the run's period: the day (UTC) in which the
-- period starts, counted up to the period's end. The schedule fires every minute, so today's rows
-- keep up during the day, and the run at 00:00:20, whose period starts at 23:59:20, closes
-- yesterday's. Any day can be rebuilt by naming a slot of the next day:
--   nightshift trigger daily-activity --at 2026-03-02T00:00:20Z     (rebuilds 2026-03-01)
-- The period arrives as settings: ISO-8601 text, cast here to timestamptz.
DELETE FROM tweet.daily_activity
WHERE day = (current_setting('nightshift.period_start')::timestamptz AT TIME ZONE 'UTC')::date;

INSERT INTO tweet.daily_activity (day, action, events, rebuilt_by_run)
SELECT p.day, a.action, count(*)::integer, current_setting('nightshift.run_id')::bigint
FROM (SELECT (current_setting('nightshift.period_start')::timestamptz AT TIME ZONE 'UTC')::date AS day) p
JOIN tweet.activity a
  ON a.at >= p.day::timestamp AT TIME ZONE 'UTC'
 AND a.at < current_setting('nightshift.period_end')::timestamptz
GROUP BY p.day, a.action;
