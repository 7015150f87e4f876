package dev.nightshift.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.FaultProxy;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One node's link to PostgreSQL with 200 ms latency each way, 5% of its chunks lost once (a
 * retransmission later) and now and then a reset connection: every run still ends exactly once.
 */
@Tag("process")
class DegradedLinkTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void runs_over_a_slow_lossy_link_that_resets_now_and_then_finish_without_a_duplicate_or_a_stuck_run() throws Exception {
        db.execute("CREATE TABLE ledger (run_id bigint NOT NULL, attempt int NOT NULL)");
        JobsDir jobs = new JobsDir(db.tempDir(), "jobs").sql("counted", """
                INSERT INTO ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.attempt')::int);
                SELECT pg_sleep(0.05)""", "max_attempts: 20\nbackoff: 1s\nconcurrency: 8\n");
        FaultProxy proxy = db.closeAfterAll(new FaultProxy("127.0.0.1", URI.create(db.url().substring(5)).getPort()));
        Nodes.start(db, jobs, "slow", proxy.url(db.url()));
        Nodes.start(db, jobs, "fast", null, "--workers", "2");
        proxy.degrade(200, 0.05, 0.02);
        RunQueue queue = new RunQueue(db.dataSource());
        int runs = 200;
        Instant start = Instant.now();
        for (int i = 0; i < runs; i++) {
            queue.enqueue(NewRun.manual("counted", Map.of(), null));
        }
        await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(200)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE state IN ('succeeded', 'dead', 'cancelled')") == runs);
        Duration took = Duration.between(start, Instant.now());
        proxy.degrade(0, 0, 0);

        long slowRuns = db.queryLong("SELECT count(*) FROM nightshift.run WHERE node = 'slow'");
        long retried = db.queryLong("SELECT count(*) FROM nightshift.run WHERE attempt > 1");
        System.out.printf("degraded link (200 ms, 5%% loss, 2%% resets): %d runs in %d ms; %d on the slow node, %d retried;"
                + " %d chunks delayed as lost, %d connections reset%n", runs, took.toMillis(), slowRuns, retried,
                proxy.losses(), proxy.resets());
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded'")).isEqualTo(runs);
        assertThat(db.rows("SELECT run_id FROM ledger GROUP BY run_id HAVING count(*) > 1")).as("duplicates").isEmpty();
        assertThat(db.queryLong("SELECT count(*) FROM ledger")).isEqualTo(runs);
        assertThat(db.queryLong("SELECT count(*) FROM ledger l JOIN nightshift.run r ON r.id = l.run_id AND r.attempt = l.attempt"))
                .as("each effect is the one of the attempt that succeeded").isEqualTo(runs);
        assertThat(slowRuns).as("the slow node took part").isPositive();
        assertThat(proxy.resets()).as("the link did reset connections").isGreaterThan(0);
    }
}
