package dev.nightshift.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.queue.RunView;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Runs;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The repository's own jobs/ catalog, as a newcomer runs it: every job succeeds on a clean database.
 * Runs that the schedules or {@code after:} add on their own while the test runs are allowed for:
 * the counts are summed over all runs of a job.
 */
@Tag("database")
class ExampleCatalogTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Path JOBS = Path.of("jobs");

    @Test
    void every_example_job_succeeds_on_a_clean_database_in_dependency_order() throws Exception {
        assertThat(JobCatalog.load(JOBS).all()).extracting(d -> d.name()).containsExactlyInAnyOrder(
                "schema", "artists-import", "nationality-summary", "tweet-activity", "message-counters", "daily-activity");
        db.closeAfterAll(Daemon.start(db.settings(JOBS)));

        assertThat(succeeded("schema").counts()).containsEntry("statements", 13L);
        succeeded("artists-import");
        succeeded("artists-import");
        assertThat(totals("artists-import")).containsAllEntriesOf(Map.of("files", 3L, "read", 32L,
                "inserted", 13L, "updated", 3L, "unchanged", 16L, "deleted", 2L, "rejected", 0L));
        assertThat(db.queryLong("SELECT count(*) FROM moma.artist")).isEqualTo(11);
        assertThat(db.rows("SELECT bio FROM moma.artist WHERE constituent_id = 102")).containsExactly("Nigerian-British, born 1958");

        succeeded("nationality-summary");
        assertThat(db.rows("SELECT nationality, artists, living FROM moma.nationality_summary WHERE nationality = 'Nigerian'"))
                .containsExactly("Nigerian|1|1");
        // Nothing changed in moma.artist since: skip_if_unchanged skips the rebuild.
        assertThat(succeeded("nationality-summary").counts()).containsAllEntriesOf(Map.of("skipped", 1L, "read", 0L,
                "inserted", 0L, "updated", 0L, "deleted", 0L));

        assertThat(succeeded("schema").counts()).containsEntry("rows", 0L);
        succeeded("tweet-activity");
        succeeded("message-counters");
        succeeded("tweet-activity");
        succeeded("message-counters");
        List<Long> concurrently = db.rows("SELECT counts->>'concurrently' FROM nightshift.run WHERE job_name = 'message-counters'"
                + " AND state = 'succeeded' AND counts->>'skipped' = '0' ORDER BY id").stream().map(Long::valueOf).toList();
        assertThat(concurrently.get(0)).isZero();
        assertThat(concurrently.get(concurrently.size() - 1)).isEqualTo(1);
        assertThat(db.queryLong("SELECT sum(likes + retweets) FROM tweet.message_counters"))
                .isEqualTo(db.queryLong("SELECT count(*) FROM tweet.activity"));

        // the daily summary rebuilds the day of its period: without --at, the latest slot's (today, UTC)
        Cli.Result today = Cli.run(db.env(), "trigger", "daily-activity", "--wait");
        assertThat(today.exitCode()).as(today.out() + today.err()).isZero();
        long run = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'daily-activity' AND state = 'succeeded'");
        String day = "(SELECT (period_start AT TIME ZONE 'UTC')::date FROM nightshift.run WHERE id = " + run + ")";
        assertThat(db.queryLong("SELECT count(*) FROM tweet.daily_activity WHERE day <> " + day)).isZero();
        assertThat(db.queryLong("SELECT coalesce(sum(events), 0) FROM tweet.daily_activity WHERE rebuilt_by_run = " + run))
                .isEqualTo(db.queryLong("SELECT count(*) FROM tweet.activity a, nightshift.run r WHERE r.id = " + run
                        + " AND a.at >= " + day + "::timestamp AT TIME ZONE 'UTC' AND a.at < r.period_end"));
        // a day long past, named by the slot that closes it: rebuilt, and empty
        Cli.Result past = Cli.run(db.env(), "trigger", "daily-activity", "--at", "2026-03-02T00:00:20Z", "--wait");
        assertThat(past.exitCode()).as(past.out() + past.err()).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tweet.daily_activity WHERE day = '2026-03-01'")).isZero();
    }

    private static RunView succeeded(String job) throws Exception {
        RunView r = Runs.triggerAndWait(db.dataSource(), job);
        assertThat(r.state()).as(job + ": " + r.lastError()).isEqualTo("succeeded");
        return r;
    }

    /** The counts of every succeeded run of {@code job}, added up, once none is waiting or running. */
    private static Map<String, Long> totals(String job) throws Exception {
        await().atMost(Duration.ofSeconds(60)).until(() -> db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = '"
                + job + "' AND state IN ('available', 'running')") == 0);
        Map<String, Long> sum = new java.util.HashMap<>();
        for (String row : db.rows("SELECT key, sum(value::bigint) FROM nightshift.run, jsonb_each_text(counts)"
                + " WHERE job_name = '" + job + "' AND state = 'succeeded' GROUP BY key")) {
            String[] kv = row.split("\\|");
            sum.put(kv[0], Long.valueOf(kv[1]));
        }
        return sum;
    }
}
