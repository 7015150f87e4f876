package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.ClaimedRun;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code after:} chaining: dependents enqueued with the parent's success, never on failure, never twice. */
@Tag("database")
class ChainingTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static JobsDir jobs;
    static RunQueue queue;

    @BeforeAll
    static void start() {
        jobs = new JobsDir(db.tempDir(), "chain")
                .sql("extract", "SELECT pg_sleep(coalesce(nullif(current_setting('nightshift.param.sleep', true), '')::float, 0)),"
                        + " 1 / CASE WHEN current_setting('nightshift.param.fail', true) = 'yes' THEN 0 ELSE 1 END",
                        "max_attempts: 1\n")
                .sql("report", "SELECT 1", "after: [extract]\n")
                .sql("archive", "SELECT 1", "after: [extract]\n");
        db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "chain-1")), ClusterFiringTest.FAST));
        queue = new RunQueue(db.dataSource());
    }

    private static String state(long run) throws Exception {
        return db.queryString("SELECT state FROM nightshift.run WHERE id = " + run);
    }

    @Test
    void dependents_run_once_after_their_parent_succeeds() throws Exception {
        long parent = queue.enqueue(NewRun.manual("extract", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(20)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE parent_run_id = " + parent + " AND state = 'succeeded'") == 2);

        assertThat(state(parent)).isEqualTo("succeeded");
        assertThat(db.rows("SELECT job_name, trigger, dedupe_key FROM nightshift.run WHERE parent_run_id = " + parent + " ORDER BY job_name"))
                .containsExactly("archive|after|after:" + parent + ":archive", "report|after|after:" + parent + ":report");
    }

    @Test
    void dependents_of_a_long_parent_are_due_from_its_completion_not_from_its_start() throws Exception {
        long parent = queue.enqueue(NewRun.manual("extract", Map.of("sleep", "1.5"), null)).id();
        await().atMost(Duration.ofSeconds(20)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE parent_run_id = " + parent + " AND state = 'succeeded'") == 2);

        // the parent's transaction began before its 1.5 s of work; its dependents were born after it
        assertThat(db.rows("""
                SELECT d.job_name, d.run_at >= p.started_at + interval '1.4 seconds'
                FROM nightshift.run d JOIN nightshift.run p ON p.id = d.parent_run_id
                WHERE p.id = %d ORDER BY d.job_name""".formatted(parent)))
                .containsExactly("archive|t", "report|t");
    }

    @Test
    void dependents_do_not_run_when_the_parent_fails() throws Exception {
        long parent = queue.enqueue(NewRun.manual("extract", Map.of("fail", "yes"), null)).id();
        await().atMost(Duration.ofSeconds(20)).until(() -> "dead".equals(state(parent)));

        // The dependents would have been enqueued in the parent's completion: none can come later.
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE parent_run_id = " + parent)).isZero();
    }

    @Test
    void chaining_the_same_parent_run_twice_enqueues_each_dependent_once() throws Exception {
        AfterChain chain = new AfterChain(JobCatalog.load(jobs.path()), queue);
        ClaimedRun parent = new ClaimedRun(987_654L, "extract", 1, 1, "manual", Map.of(), Instant.now(), Instant.now(), "x", 0L, null,
                Map.of(), false);
        for (int i = 0; i < 2; i++) {
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                chain.onSuccess(c, parent, null);
                c.commit();
            }
        }
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE dedupe_key LIKE 'after:987654:%'")).isEqualTo(2);
    }

    @Test
    void paused_dependent_gets_no_run_while_the_others_do() throws Exception {
        assertThat(Cli.run(db.env(), "pause", "archive", "--jobs-dir", jobs.path().toString()).exitCode()).isZero();
        try {
            long parent = queue.enqueue(NewRun.manual("extract", Map.of(), null)).id();
            await().atMost(Duration.ofSeconds(20)).until(() -> "succeeded".equals(state(parent)));
            assertThat(db.rows("SELECT job_name FROM nightshift.run WHERE parent_run_id = " + parent)).containsExactly("report");
        } finally {
            assertThat(Cli.run(db.env(), "resume", "archive", "--jobs-dir", jobs.path().toString()).exitCode()).isZero();
        }
    }

    @Test
    void validate_rejects_an_after_cycle_with_file_and_line() throws Exception {
        JobsDir cyclic = new JobsDir(db.tempDir(), "cycle")
                .sql("a", "SELECT 1", "after: [b]\n")
                .sql("b", "SELECT 1", "after: [a]\n");
        Cli.Result r = Cli.run(db.env(), "validate", "--jobs-dir", cyclic.path().toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).containsPattern("a\\.yaml:3: after: cycle a -> b -> a");
    }
}
