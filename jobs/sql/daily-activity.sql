-- One day of tweet.daily_activity, rebuilt from the run's period: the day (UTC) in which the
-- period starts, counted up to the period's end. The schedule fires every minute, so today's rows
-- keep up during the day, and the run at 00:00:20, whose period starts at 23:59:20, closes
-- yesterday's. Any day can be rebuilt by naming a slot of the next day:
--   nightshift trigger daily-activity --at 2026-03-02T00:00:20Z     (rebuilds 2026-03-01)
-- The period arrives as settings: ISO-8601 text, cast here to timestamptz.
-- The job is scheduled (its period is its own schedule's), so its first slot may come before the
-- schema job's first run has made the tables: it then has nothing to count and does nothing.
-- PL/pgSQL plans a statement when it first runs it, so the tables are named only once they exist.
DO $$
BEGIN
    IF to_regclass('tweet.activity') IS NULL OR to_regclass('tweet.daily_activity') IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM tweet.daily_activity
    WHERE day = (current_setting('nightshift.period_start')::timestamptz AT TIME ZONE 'UTC')::date;

    INSERT INTO tweet.daily_activity (day, action, events, rebuilt_by_run)
    SELECT p.day, a.action, count(*)::integer, current_setting('nightshift.run_id')::bigint
    FROM (SELECT (current_setting('nightshift.period_start')::timestamptz AT TIME ZONE 'UTC')::date AS day) p
    JOIN tweet.activity a
      ON a.at >= p.day::timestamp AT TIME ZONE 'UTC'
     AND a.at < current_setting('nightshift.period_end')::timestamptz
    GROUP BY p.day, a.action;
END
$$;
