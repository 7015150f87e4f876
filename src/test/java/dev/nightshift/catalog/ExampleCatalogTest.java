package dev.nightshift.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.queue.RunView;
import dev.nightshift.testing.Runs;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The repository's own jobs/ catalog, as a newcomer runs it: every job succeeds on a clean database. */
class ExampleCatalogTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Path JOBS = Path.of("jobs");

    @Test
    void every_example_job_succeeds_on_a_clean_database_in_dependency_order() throws Exception {
        assertThat(JobCatalog.load(JOBS).all()).extracting(d -> d.name()).containsExactlyInAnyOrder(
                "schema", "artists-import", "nationality-summary", "tweet-activity", "message-counters");
        db.closeAfterAll(Daemon.start(db.settings(JOBS)));

        assertThat(succeeded("schema").counts()).containsEntry("statements", 12L);
        assertThat(succeeded("artists-import").counts()).containsAllEntriesOf(Map.of("files", 3L, "read", 32L,
                "inserted", 13L, "updated", 3L, "unchanged", 16L, "deleted", 2L, "rejected", 0L));
        assertThat(db.queryLong("SELECT count(*) FROM moma.artist")).isEqualTo(11);
        assertThat(db.rows("SELECT bio FROM moma.artist WHERE constituent_id = 102")).containsExactly("Nigerian-British, born 1958");
        assertThat(succeeded("artists-import").counts()).containsAllEntriesOf(Map.of("files", 0L, "skipped_files", 3L));

        assertThat(succeeded("nationality-summary").counts()).containsAllEntriesOf(Map.of("read", 11L, "inserted", 11L));
        assertThat(db.rows("SELECT nationality, artists, living FROM moma.nationality_summary WHERE nationality = 'Nigerian'"))
                .containsExactly("Nigerian|1|1");
        assertThat(succeeded("nationality-summary").counts()).containsAllEntriesOf(Map.of("inserted", 0L, "updated", 0L, "unchanged", 11L));

        assertThat(succeeded("schema").counts()).containsEntry("rows", 0L);
        succeeded("tweet-activity");
        assertThat(succeeded("message-counters").counts()).containsEntry("concurrently", 0L);
        assertThat(db.queryLong("SELECT sum(likes + retweets) FROM tweet.message_counters")).isEqualTo(20);
        succeeded("tweet-activity");
        assertThat(succeeded("message-counters").counts()).containsEntry("concurrently", 1L);
        assertThat(db.queryLong("SELECT sum(likes + retweets) FROM tweet.message_counters")).isEqualTo(40);
    }

    private static RunView succeeded(String job) throws Exception {
        RunView r = Runs.triggerAndWait(db.dataSource(), job);
        assertThat(r.state()).as(job + ": " + r.lastError()).isEqualTo("succeeded");
        return r;
    }
}
