-- Twenty random likes and retweets by random accounts on random messages.
INSERT INTO tweet.activity (message_id, account_id, action)
SELECT m.id, a.id, CASE WHEN random() < 0.75 THEN 'like' ELSE 'retweet' END
FROM generate_series(1, 20) AS g
CROSS JOIN LATERAL (SELECT id FROM tweet.message WHERE g > 0 ORDER BY random() LIMIT 1) AS m
CROSS JOIN LATERAL (SELECT id FROM tweet.account WHERE g > 0 ORDER BY random() LIMIT 1) AS a;
