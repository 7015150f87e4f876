-- The example schemas. Every statement is idempotent: the job runs every minute and changes nothing
-- once everything exists.

CREATE SCHEMA IF NOT EXISTS moma;

CREATE TABLE IF NOT EXISTS moma.artist (
    constituent_id integer PRIMARY KEY,
    name           text NOT NULL,
    bio            text,
    nationality    text,
    gender         text,
    begin_year     integer,
    end_year       integer,
    wiki_qid       text,
    ulan           text
);

CREATE TABLE IF NOT EXISTS moma.nationality_summary (
    nationality    text PRIMARY KEY,
    artists        integer NOT NULL,
    living         integer NOT NULL,
    earliest_birth integer
);

CREATE SCHEMA IF NOT EXISTS tweet;

CREATE TABLE IF NOT EXISTS tweet.account (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS tweet.message (
    id         integer PRIMARY KEY,
    account_id integer NOT NULL REFERENCES tweet.account (id),
    posted_at  timestamptz NOT NULL DEFAULT now(),
    body       text NOT NULL
);

CREATE TABLE IF NOT EXISTS tweet.activity (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id integer NOT NULL REFERENCES tweet.message (id),
    account_id integer NOT NULL REFERENCES tweet.account (id),
    action     text NOT NULL CHECK (action IN ('like', 'retweet')),
    at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS activity_message_idx ON tweet.activity (message_id);

-- Likes and retweets per day (UTC), one day rebuilt by each run of the daily-activity job.
CREATE TABLE IF NOT EXISTS tweet.daily_activity (
    day            date NOT NULL,
    action         text NOT NULL,
    events         integer NOT NULL,
    rebuilt_by_run bigint NOT NULL,
    PRIMARY KEY (day, action)
);

-- Counting likes on every read would scan the activity; the view is the cache, refreshed by
-- the message-counters job. WITH NO DATA: its first refresh cannot be concurrent, later ones are.
CREATE MATERIALIZED VIEW IF NOT EXISTS tweet.message_counters AS
SELECT m.id AS message_id,
       count(a.id) FILTER (WHERE a.action = 'like') AS likes,
       count(a.id) FILTER (WHERE a.action = 'retweet') AS retweets,
       max(a.at) AS last_activity
FROM tweet.message m
LEFT JOIN tweet.activity a ON a.message_id = m.id
GROUP BY m.id
WITH NO DATA;

-- The unique index that lets REFRESH ... CONCURRENTLY keep the view readable during a refresh.
CREATE UNIQUE INDEX IF NOT EXISTS message_counters_message_idx ON tweet.message_counters (message_id);

INSERT INTO tweet.account (id, name) VALUES
    (1, 'night_owl'), (2, 'early_bird'), (3, 'ledger_keeper'), (4, 'cron_fan'), (5, 'the_dba')
ON CONFLICT DO NOTHING;

INSERT INTO tweet.message (id, account_id, body) VALUES
    (1, 1, 'The batch ran at 3am and nobody noticed. That is the goal.'),
    (2, 2, 'Coffee first, then the monthly partner file.'),
    (3, 3, 'Updated 35 rows, inserted 21, touched nothing else. Beautiful.'),
    (4, 4, 'Every minute, on the minute, forever.'),
    (5, 5, 'VACUUM is not a transaction and that is fine.'),
    (6, 1, 'Materialized views: a cache you can REFRESH.'),
    (7, 3, 'IS DISTINCT FROM treats NULL like a value. Use it.'),
    (8, 5, 'SKIP LOCKED: because waiting in line is for humans.')
ON CONFLICT DO NOTHING;
