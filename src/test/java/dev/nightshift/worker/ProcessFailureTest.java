package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.queue.RunView;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Real worker JVMs killed with -9 or stopped with SIGTERM (guarantees 2, 3 and 7). */
@Tag("process")
class ProcessFailureTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    private static JobsDir jobs;
    private static RunQueue queue;

    @BeforeAll
    static void catalog() throws Exception {
        db.execute("CREATE TABLE ledger (run_id bigint NOT NULL, attempt int NOT NULL, node text)");
        // The first attempt sleeps long enough to be killed in the middle of its transaction.
        jobs = new JobsDir(db.tempDir(), "process")
                .sql("crashy", """
                        INSERT INTO ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.attempt')::int);
                        SELECT pg_sleep(CASE WHEN current_setting('nightshift.attempt') = '1' THEN 60 ELSE 0 END)""", "")
                .sql("short", """
                        SELECT pg_sleep(2);
                        INSERT INTO ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.attempt')::int)""", "")
                .sql("long", """
                        INSERT INTO ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.attempt')::int);
                        SELECT pg_sleep(60)""", "");
        queue = new RunQueue(db.dataSource());
    }

    /** Each test starts from an empty queue: a run another test gave back must not be picked up here. */
    @org.junit.jupiter.api.AfterEach
    void emptyQueue() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong("SELECT count(*) FROM nightshift.run WHERE state = 'running'") == 0);
        db.execute("DELETE FROM nightshift.queue");
    }

    private static RunView run(long id) throws Exception {
        return new RunQueries(db.dataSource()).find(id).orElseThrow();
    }

    private static NodeProcess process(String name, String... flags) throws Exception {
        String[] all = new String[flags.length + 6];
        all[0] = "--jobs-dir";
        all[1] = jobs.path().toString();
        all[2] = "--poll-interval";
        all[3] = "200ms";
        all[4] = "--http-port";
        all[5] = "0";
        System.arraycopy(flags, 0, all, 6, flags.length);
        NodeProcess p = db.closeAfterAll(NodeProcess.start(db.env(), db.tempDir(), name, all));
        // ready once it has migrated the schema and synced the catalog
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> db.queryLong("SELECT count(*) FROM nightshift.job") == 3);
        return p;
    }

    @Test
    void killed_worker_run_is_rerun_elsewhere_within_seconds_with_its_effect_once() throws Exception {
        NodeProcess victim = process("victim");
        long id = queue.enqueue(NewRun.manual("crashy", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(30)).until(() -> run(id).state().equals("running") && run(id).backendPid() != null);
        assertThat(run(id).node()).isEqualTo("victim");
        // the victim's first lines of the run are written (the writer flushes every 0.2 s)
        await().atMost(Duration.ofSeconds(10)).until(() -> db.queryLong("SELECT count(*) FROM nightshift.run_log WHERE run_id = " + id) > 0);

        Daemon survivor = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "survivor"))));
        victim.kill9();
        Instant killed = Instant.now();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> run(id).state().equals("succeeded"));
        Duration rerun = Duration.between(killed, Instant.now());

        RunView v = run(id);
        System.out.printf("kill -9 -> run %d succeeded on the survivor after %d ms%n", id, rerun.toMillis());
        assertThat(rerun).isLessThan(Duration.ofSeconds(5));
        assertThat(v.node()).isEqualTo("survivor");
        assertThat(v.attempt()).isEqualTo(2);
        // The killed attempt's insert rolled back with its transaction: the effect is there once.
        assertThat(db.rows("SELECT run_id, attempt FROM ledger WHERE run_id = " + id)).containsExactly(id + "|2");
        assertThat(survivor.metrics().registry().find("nightshift.rescued.runs").counter().count()).isEqualTo(1.0);
        // the run's log tells the whole story: the lost attempt, its rescue, the attempt that succeeded
        await().atMost(Duration.ofSeconds(5)).until(() -> db.queryLong("SELECT count(*) FROM nightshift.run_log WHERE run_id = " + id
                + " AND attempt = 2 AND text LIKE '%succeeded%'") == 1);
        List<String> log = db.rows("SELECT attempt || ' ' || level || ' ' || text FROM nightshift.run_log WHERE run_id = " + id + " ORDER BY seq");
        assertThat(log.get(0)).startsWith("1 INFO run " + id + " of job crashy started (attempt 1/");
        assertThat(log).anySatisfy(l -> assertThat(l).isEqualTo("1 WARNING node victim lost the run (its database session ended); "
                + "rescued by survivor: now available"));
        assertThat(log.get(log.size() - 1)).startsWith("2 INFO run " + id + " of job crashy succeeded");
    }

    @Test
    void sigterm_lets_a_short_run_finish_and_exits_zero() throws Exception {
        NodeProcess node = process("drains", "--shutdown-grace", "20s");
        long id = queue.enqueue(NewRun.manual("short", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(30)).until(() -> run(id).state().equals("running"));
        node.term();
        Integer code = node.waitFor(25);
        assertThat(code).as(node.output()).isEqualTo(0);
        assertThat(run(id).state()).isEqualTo("succeeded");
        assertThat(db.rows("SELECT run_id, attempt FROM ledger WHERE run_id = " + id)).containsExactly(id + "|1");
    }

    @Test
    void sigterm_past_the_grace_period_rolls_back_and_gives_the_run_back() throws Exception {
        NodeProcess node = process("aborts", "--shutdown-grace", "1s");
        long id = queue.enqueue(NewRun.manual("long", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(30)).until(() -> run(id).state().equals("running") && run(id).backendPid() != null);
        Instant termed = Instant.now();
        node.term();
        Integer code = node.waitFor(20);
        assertThat(code).as(node.output()).isEqualTo(0);
        assertThat(Duration.between(termed, Instant.now())).isLessThan(Duration.ofSeconds(10));

        RunView v = run(id);
        assertThat(v.state()).isEqualTo("available");
        assertThat(v.attempt()).isZero();
        assertThat(v.lastError()).contains("aborted by the shutdown");
        assertThat(db.queryLong("SELECT count(*) FROM ledger WHERE run_id = " + id)).isZero();
        assertThat(node.output()).contains("aborted by shutdown");
    }
}
