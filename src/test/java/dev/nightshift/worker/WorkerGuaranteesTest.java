package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunOps;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.queue.RunView;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Guarantees 2-5 of DESIGN.md, tried with several nodes in one JVM on one database. */
@Tag("database")
class WorkerGuaranteesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    private static final AtomicInteger NODES = new AtomicInteger();
    private static JobsDir jobs;
    private static RunQueue queue;

    @BeforeAll
    static void catalog() throws Exception {
        db.execute("CREATE TABLE spans (run_id bigint PRIMARY KEY, started timestamptz NOT NULL, ended timestamptz)");
        db.execute("CREATE TABLE ledger (run_id bigint NOT NULL, attempt int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        db.execute("CREATE SEQUENCE tries");
        db.execute("CREATE TABLE pair_spans (run_id bigint PRIMARY KEY, started timestamptz NOT NULL, ended timestamptz)");
        jobs = new JobsDir(db.tempDir(), "guarantees")
                .sql("single", """
                        INSERT INTO spans (run_id, started) VALUES (current_setting('nightshift.run_id')::bigint, clock_timestamp());
                        SELECT pg_sleep(0.03);
                        UPDATE spans SET ended = clock_timestamp() WHERE run_id = current_setting('nightshift.run_id')::bigint""",
                        "concurrency: 1\n")
                .sql("pair", """
                        INSERT INTO pair_spans (run_id, started) VALUES (current_setting('nightshift.run_id')::bigint, clock_timestamp());
                        SELECT pg_sleep(0.05);
                        UPDATE pair_spans SET ended = clock_timestamp() WHERE run_id = current_setting('nightshift.run_id')::bigint""",
                        "concurrency: 2\n")
                .sql("always-fails", "SELECT 1 / 0", "max_attempts: 3\nbackoff: 1s\n")
                .sql("conflicts-twice", """
                        DO $$ BEGIN
                          IF nextval('tries') <= 2 THEN
                            RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure';
                          END IF;
                        END $$;
                        INSERT INTO ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.attempt')::int)""",
                        "max_attempts: 1\n")
                .sql("sleeps", "SELECT pg_sleep(60)", "")
                .file("vacuum.yaml", "name: vacuum\ntype: sql\nparams:\n  sql: VACUUM ledger; ANALYZE ledger\n  transaction: false\n")
                .sql("too-slow", "SELECT pg_sleep(5)", "timeout: 300ms\nmax_attempts: 1\n")
                .sql("slow", """
                        INSERT INTO ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.attempt')::int);
                        SELECT pg_sleep(6)""", "");
        queue = new RunQueue(db.dataSource());
    }

    /** The nodes of the running test, stopped with it: a node holds about ten connections, and a server may allow 100. */
    private final List<Daemon> started = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        started.forEach(Daemon::close);
    }

    private List<Daemon> nodes(int n) {
        List<Daemon> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "node-" + NODES.incrementAndGet()))));
        }
        started.addAll(out);
        return out;
    }

    private static RunView run(long id) throws Exception {
        return new RunQueries(db.dataSource()).find(id).orElseThrow();
    }

    @Test
    void concurrency_one_is_never_exceeded_by_three_nodes() throws Exception {
        nodes(3);
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            for (int i = 0; i < 40; i++) {
                queue.enqueue(c, NewRun.manual("single", Map.of(), null));
            }
            c.commit();
        }
        await().atMost(Duration.ofMinutes(1)).until(() ->
                db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'single' AND state = 'succeeded'") == 40);

        assertThat(db.queryLong("SELECT count(*) FROM spans WHERE ended IS NOT NULL")).isEqualTo(40);
        // No two spans overlap: each run started after the previous one ended.
        assertThat(db.queryLong("""
                SELECT count(*) FROM spans a JOIN spans b ON a.run_id < b.run_id
                WHERE tstzrange(a.started, a.ended) && tstzrange(b.started, b.ended)""")).isZero();
    }

    @Test
    void concurrency_two_is_used_and_never_exceeded_by_three_nodes() throws Exception {
        nodes(3);
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            for (int i = 0; i < 60; i++) {
                queue.enqueue(c, NewRun.manual("pair", Map.of(), null));
            }
            c.commit();
        }
        await().atMost(Duration.ofMinutes(1)).until(() ->
                db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'pair' AND state = 'succeeded'") == 60);

        assertThat(db.queryLong("SELECT count(*) FROM pair_spans WHERE ended IS NOT NULL")).isEqualTo(60);
        // Never three at once: intervals that overlap pairwise share an instant, so no such triple may exist.
        assertThat(db.queryLong("""
                SELECT count(*) FROM pair_spans a
                JOIN pair_spans b ON a.run_id < b.run_id AND tstzrange(a.started, a.ended) && tstzrange(b.started, b.ended)
                JOIN pair_spans c ON b.run_id < c.run_id AND tstzrange(a.started, a.ended) && tstzrange(c.started, c.ended)
                                 AND tstzrange(b.started, b.ended) && tstzrange(c.started, c.ended)""")).isZero();
        // ... but two at once, in two slots, did happen
        assertThat(db.queryLong("""
                SELECT count(*) FROM pair_spans a JOIN pair_spans b ON a.run_id < b.run_id
                WHERE tstzrange(a.started, a.ended) && tstzrange(b.started, b.ended)""")).isPositive();
        assertThat(db.rows("SELECT DISTINCT slot FROM nightshift.run WHERE job_name = 'pair' ORDER BY slot")).containsExactly("0", "1");
    }

    @Test
    void failing_run_backs_off_with_growing_delays_then_goes_dead() throws Exception {
        nodes(1);
        long id = queue.enqueue(NewRun.manual("always-fails", Map.of(), null)).id();
        List<Duration> delays = new ArrayList<>();
        for (int attempt = 1; attempt <= 2; attempt++) {
            int a = attempt;
            await().atMost(Duration.ofSeconds(15)).until(() -> run(id).attempt() == a && run(id).state().equals("available"));
            RunView v = run(id);
            assertThat(v.lastError()).contains("division by zero");
            assertThat(v.lastErrorSqlstate()).isEqualTo("22012");
            delays.add(Duration.between(Instant.now(), v.runAt()).plus(Duration.between(v.startedAt(), Instant.now())));
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> run(id).state().equals("dead"));
        RunView dead = run(id);
        assertThat(dead.attempt()).isEqualTo(3);
        assertThat(dead.finishedAt()).isNotNull();
        assertThat(dead.lastErrorSqlstate()).isEqualTo("22012");
        // backoff 1s doubling with ±20% jitter: ~1s after attempt 1, ~2s after attempt 2
        assertThat(delays.get(0)).isBetween(Duration.ofMillis(700), Duration.ofMillis(1400));
        assertThat(delays.get(1)).isBetween(Duration.ofMillis(1500), Duration.ofMillis(2600));
        assertThat(delays.get(1)).isGreaterThan(delays.get(0));
    }

    @Test
    void serialization_failures_are_retried_inside_the_attempt() throws Exception {
        nodes(1);
        long id = queue.enqueue(NewRun.manual("conflicts-twice", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(20)).until(() -> run(id).finished());
        RunView v = run(id);
        assertThat(v.state()).isEqualTo("succeeded");
        assertThat(v.attempt()).isEqualTo(1);
        assertThat(db.queryLong("SELECT last_value FROM tries")).isEqualTo(3);
        assertThat(db.rows("SELECT run_id, attempt FROM ledger WHERE run_id = " + id)).containsExactly(id + "|1");
    }

    @Test
    void running_run_is_cancelled_within_a_second() throws Exception {
        nodes(1);
        long id = queue.enqueue(NewRun.manual("sleeps", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(10)).until(() -> run(id).state().equals("running") && run(id).backendPid() != null);
        Instant asked = Instant.now();
        RunOps.Outcome o = new RunOps(db.dataSource()).cancel(id, dev.nightshift.audit.Actor.cli());
        assertThat(o.changed()).isTrue();
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).until(() -> run(id).state().equals("cancelled"));
        assertThat(Duration.between(asked, Instant.now())).isLessThan(Duration.ofSeconds(1));
        assertThat(run(id).finishedAt()).isNotNull();
        // the worker is free again: no backend still sleeps for this run
        assertThat(db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'")).isZero();
    }

    @Test
    void statements_that_refuse_a_transaction_run_with_transaction_false() throws Exception {
        nodes(1);
        long id = queue.enqueue(NewRun.manual("vacuum", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(10)).until(() -> run(id).finished());
        RunView v = run(id);
        assertThat(v.state()).as(v.lastError()).isEqualTo("succeeded");
        assertThat(v.counts()).containsEntry("statements", 2L);
    }

    @Test
    void timeout_ends_the_statement_as_a_failure_not_a_cancel() throws Exception {
        nodes(1);
        long id = queue.enqueue(NewRun.manual("too-slow", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(10)).until(() -> run(id).finished());
        RunView v = run(id);
        assertThat(v.state()).isEqualTo("dead");
        assertThat(v.lastErrorSqlstate()).isEqualTo("57014");
        assertThat(v.lastError()).contains("canceling statement due to statement timeout");
        assertThat(Duration.between(v.startedAt(), v.finishedAt())).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void slow_run_on_a_live_node_is_never_rescued_or_run_twice() throws Exception {
        List<Daemon> three = nodes(3);
        long id = queue.enqueue(NewRun.manual("slow", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(10)).until(() -> run(id).finished());
        RunView v = run(id);
        assertThat(v.state()).isEqualTo("succeeded");
        assertThat(v.attempt()).isEqualTo(1);
        assertThat(Duration.between(v.startedAt(), v.finishedAt())).isGreaterThan(Duration.ofSeconds(6));
        assertThat(db.rows("SELECT run_id, attempt FROM ledger WHERE run_id = " + id)).containsExactly(id + "|1");
        // The rescuers ran every 300 ms on the other nodes throughout the 6 s run and rescued nothing.
        for (Daemon d : three) {
            assertThat(d.metrics().registry().find("nightshift.rescued.runs").counter().count()).isZero();
        }
    }
}
