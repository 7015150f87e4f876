-- One row per nationality: how many artists, how many without a death year, the earliest birth year.
SELECT coalesce(nationality, 'Unknown') AS nationality,
       count(*)::integer AS artists,
       (count(*) FILTER (WHERE end_year IS NULL))::integer AS living,
       min(begin_year) AS earliest_birth
FROM moma.artist
GROUP BY coalesce(nationality, 'Unknown')
