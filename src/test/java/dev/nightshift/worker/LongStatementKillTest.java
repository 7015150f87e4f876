package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.queue.RunView;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Guarantee 2 after a worker's first runs: a node killed with -9 in the middle of a long
 * statement, on a pooled session that has already served a chain of runs (and the reset that
 * ends one), has its run redone elsewhere within seconds, not when the statement ends.
 */
@Tag("process")
class LongStatementKillTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static RunView run(long id) throws Exception {
        return new RunQueries(db.dataSource()).find(id).orElseThrow();
    }

    private static NodeProcess process(JobsDir jobs, String name) throws Exception {
        return db.closeAfterAll(NodeProcess.start(db.env(), db.tempDir(), name,
                "--jobs-dir", jobs.path().toString(), "--poll-interval", "200ms", "--http-port", "0", "--workers", "4"));
    }

    @Test
    void a_node_killed_in_a_long_statement_after_serving_hundreds_of_runs_has_its_run_redone_elsewhere_within_seconds()
            throws Exception {
        db.execute("CREATE TABLE ledger (run_id bigint NOT NULL, attempt int NOT NULL)");
        JobsDir jobs = new JobsDir(db.tempDir(), "long-statement")
                .sql("marathon", """
                        INSERT INTO ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.attempt')::int);
                        SELECT pg_sleep(CASE WHEN current_setting('nightshift.attempt') = '1' THEN 120 ELSE 0 END)""", "")
                .sql("quick", "SELECT 1", "concurrency: 8\n");
        Map<String, NodeProcess> nodes = Map.of("busy-1", process(jobs, "busy-1"), "busy-2", process(jobs, "busy-2"));
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> db.queryLong("SELECT count(*) FROM nightshift.job") == 2);
        RunQueue queue = new RunQueue(db.dataSource());

        // Hundreds of runs first, so that every worker session has been through chains of runs.
        for (int i = 0; i < 300; i++) {
            queue.enqueue(NewRun.manual("quick", Map.of(), null));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE job_name = 'quick' AND state = 'succeeded'") == 300);

        long id = queue.enqueue(NewRun.manual("marathon", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(30)).until(() -> run(id).state().equals("running") && db.queryLong(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(CASE%' AND state = 'active'"
                        + " AND pid <> pg_backend_pid()") == 1);
        String victim = run(id).node();
        nodes.get(victim).kill9();
        Instant killed = Instant.now();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> run(id).state().equals("succeeded"));
        System.out.printf("kill -9 of %s in a 120 s statement -> run %d succeeded elsewhere after %d ms%n", victim, id,
                Duration.between(killed, Instant.now()).toMillis());

        RunView v = run(id);
        assertThat(v.node()).isNotEqualTo(victim);
        assertThat(v.attempt()).isEqualTo(2);
        // the killed attempt's insert rolled back with its transaction: the effect is there once
        assertThat(db.rows("SELECT run_id, attempt FROM ledger WHERE run_id = " + id)).containsExactly(id + "|2");
    }
}
