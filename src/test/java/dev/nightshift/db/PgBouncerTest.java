package dev.nightshift.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.queue.RunView;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.PgBouncer;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Nodes through a real PgBouncer, each test with a PgBouncer of its own, in PgBouncer's usual
 * settings (no ignore_startup_parameters): session mode keeps every guarantee; a startup
 * parameter the pooler refuses, sessions without the liveness setting, and a pool mode that moves
 * sessions between transactions each stop the node at start with a clear error.
 */
@Tag("process")
class PgBouncerTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** The nodes of the running test: stopped after it, so that none claims the runs of the next one. */
    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() throws InterruptedException {
        for (NodeProcess n : nodes) {
            n.close();
        }
    }

    private NodeProcess node(Map<String, String> env, JobsDir jobs, String name) throws Exception {
        return node(env, jobs, name, "200ms", "500ms");
    }

    private NodeProcess node(Map<String, String> env, JobsDir jobs, String name, String pollInterval, String rescueInterval)
            throws Exception {
        NodeProcess n = NodeProcess.start(env, db.tempDir(), name, "--jobs-dir", jobs.path().toString(), "--poll-interval",
                pollInterval, "--rescue-interval", rescueInterval, "--http-port", "0", "--workers", "4");
        nodes.add(n);
        return n;
    }

    @Test
    void a_node_runs_through_pgbouncer_in_session_mode_and_its_sessions_keep_the_check_interval_after_reset_all()
            throws Exception {
        db.execute("CREATE TABLE seen (check_interval text NOT NULL)");
        PgBouncer bouncer = PgBouncer.start(db, "session");
        JobsDir jobs = new JobsDir(db.tempDir(), "usual").sql("tick", """
                RESET ALL;
                INSERT INTO seen (check_interval) VALUES (current_setting('client_connection_check_interval'))""",
                "schedule:\n  cron: \"* * * * * ?\"\n");
        NodeProcess node = node(bouncer.env(), jobs, "pooled-1");

        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .failFast("the node exited: " + node.output(), () -> !node.alive())
                .until(() -> db.queryLong("SELECT count(*) FROM seen") >= 3);
        // a job's own RESET ALL (as the worker's between runs, or PgBouncer's DISCARD ALL) returns to the role's default
        assertThat(db.rows("SELECT DISTINCT check_interval FROM seen")).containsExactly("1s");
        assertThat(db.rows("""
                SELECT unnest(setconfig) FROM pg_db_role_setting
                WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                ORDER BY 1""")).contains("client_connection_check_interval=1000");
        assertThat(node.output()).doesNotContain("unsupported startup parameter");
    }

    @Test
    void a_startup_parameter_the_pooler_refuses_stops_the_node_with_exit_2_and_says_what_to_change() throws Exception {
        PgBouncer bouncer = PgBouncer.start(db, "session");
        Map<String, String> env = new HashMap<>(bouncer.env());
        env.put("NIGHTSHIFT_DB_URL", bouncer.url() + "?options=-c%20work_mem%3D64MB");
        NodeProcess node = node(env, new JobsDir(db.tempDir(), "refused"), "refused-1");

        assertThat(node.waitFor(60)).as(node.output()).isEqualTo(2);
        assertThat(node.output())
                .contains("error: the database at " + bouncer.url() + " refuses the startup parameter options")
                .contains("remove it from the JDBC URL, or add it to the pooler's ignore_startup_parameters")
                .doesNotContain("database not reachable yet");
    }

    @Test
    void a_node_whose_sessions_lack_the_check_interval_refuses_to_start_naming_the_setting_and_the_pooler()
            throws Exception {
        db.execute("DO $$BEGIN EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I RESET ALL', current_database()); END$$");
        // the usual workaround of "unsupported startup parameter: options", which drops the liveness setting silently
        PgBouncer bouncer = PgBouncer.start(db, "session", Map.of("ignore_startup_parameters", "options"));
        NodeProcess node = node(bouncer.env(), new JobsDir(db.tempDir(), "dropped"), "dropped-1");

        assertThat(node.waitFor(60)).as(node.output()).isEqualTo(2);
        assertThat(node.output())
                .contains("error: this node's database sessions lack the settings a worker needs as their reset values"
                        + " (client_connection_check_interval is 0, needs 1000")
                .contains("PgBouncer's ignore_startup_parameters = options")
                .doesNotContain("database not reachable yet");
    }

    @Test
    void a_short_command_through_pgbouncer_works_before_any_node_has_written_the_role_defaults() throws Exception {
        db.execute("DO $$BEGIN EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I RESET ALL', current_database()); END$$");
        PgBouncer bouncer = PgBouncer.start(db, "session");
        try (NodeProcess migrate = NodeProcess.command(bouncer.env(), db.tempDir(), "migrate-1", "migrate")) {
            assertThat(migrate.waitFor(60)).as(migrate.output()).isEqualTo(0);
        }
        assertThat(db.queryLong("SELECT count(*) FROM pg_tables WHERE schemaname = 'nightshift' AND tablename = 'job'")).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"transaction", "statement"})
    void a_pooler_that_moves_sessions_between_transactions_is_refused_at_start_naming_its_pool_mode(String mode)
            throws Exception {
        PgBouncer bouncer = PgBouncer.start(db, mode);
        JobsDir jobs = new JobsDir(db.tempDir(), "moving-" + mode).sql("tick-" + mode, "SELECT 1", "schedule:\n  cron: \"* * * * * ?\"\n");
        NodeProcess node = node(bouncer.env(), jobs, "moving-" + mode);

        assertThat(node.waitFor(60)).as(node.output()).isEqualTo(2);
        assertThat(node.output())
                .contains("error: the connection pooler at " + bouncer.url() + " runs in " + mode + " mode")
                .contains("Set pool_mode = session for this database")
                .doesNotContain("catalog synced")
                .doesNotContain("node moving-" + mode + " started");
    }

    @Test
    void a_node_killed_in_a_long_statement_behind_pgbouncer_has_its_run_redone_elsewhere_within_seconds_once()
            throws Exception {
        db.execute("CREATE TABLE ledger (run_id bigint NOT NULL, attempt int NOT NULL)");
        PgBouncer bouncer = PgBouncer.start(db, "session");
        JobsDir jobs = new JobsDir(db.tempDir(), "long-statement")
                .sql("marathon", """
                        INSERT INTO ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.attempt')::int);
                        SELECT pg_sleep(CASE WHEN current_setting('nightshift.attempt') = '1' THEN 120 ELSE 0 END)""", "")
                .sql("quick", "SELECT 1", "concurrency: 8\n");
        Map<String, NodeProcess> byName = Map.of("kill-1", node(bouncer.env(), jobs, "kill-1"), "kill-2", node(bouncer.env(), jobs, "kill-2"));
        RunQueue queue = new RunQueue(db.dataSource());
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> db.queryLong("SELECT count(*) FROM nightshift.job WHERE name IN ('marathon', 'quick')") == 2);
        // chains of runs first, so that the worker sessions have been through the worker's RESET ALL
        for (int i = 0; i < 100; i++) {
            queue.enqueue(NewRun.manual("quick", Map.of(), null));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE job_name = 'quick' AND state = 'succeeded'") == 100);

        long id = queue.enqueue(NewRun.manual("marathon", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(30)).until(() -> run(id).state().equals("running") && db.queryLong(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(CASE%' AND state = 'active'"
                        + " AND pid <> pg_backend_pid()") == 1);
        String victim = run(id).node();
        byName.get(victim).kill9();
        Instant killed = Instant.now();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> run(id).state().equals("succeeded"));
        System.out.printf("behind PgBouncer: kill -9 of %s in a 120 s statement -> run %d succeeded elsewhere after %d ms%n",
                victim, id, Duration.between(killed, Instant.now()).toMillis());

        RunView v = run(id);
        assertThat(v.node()).isNotEqualTo(victim);
        assertThat(v.attempt()).isEqualTo(2);
        // the killed attempt's insert rolled back with its transaction: the effect is there once
        assertThat(db.rows("SELECT run_id, attempt FROM ledger WHERE run_id = " + id)).containsExactly(id + "|2");
        assertThat(bouncer.log()).contains("client disconnect while server was not ready");
    }

    @Test
    void a_node_behind_pgbouncer_is_woken_by_notify_for_a_new_run_without_polling() throws Exception {
        PgBouncer bouncer = PgBouncer.start(db, "session");
        JobsDir jobs = new JobsDir(db.tempDir(), "wake").sql("wake", "SELECT 1", "");
        // polling and the listener's periodic check both once a minute: only the NOTIFY can start the run sooner
        NodeProcess node = node(bouncer.env(), jobs, "wake-1", "60s", "60s");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .failFast("the node exited: " + node.output(), () -> !node.alive())
                .until(() -> db.queryLong("SELECT count(*) FROM nightshift.job WHERE name = 'wake'") == 1
                        && db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND application_name = 'nightshift listener' AND state = 'idle' AND query NOT LIKE 'SET %'") == 1);

        long id = new RunQueue(db.dataSource()).enqueue(NewRun.manual("wake", Map.of(), null)).id();
        Instant enqueued = Instant.now();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> run(id).state().equals("succeeded"));
        System.out.printf("behind PgBouncer: run %d woken by NOTIFY, succeeded after %d ms%n", id,
                Duration.between(enqueued, Instant.now()).toMillis());
    }

    private static RunView run(long id) throws Exception {
        return new RunQueries(db.dataSource()).find(id).orElseThrow();
    }
}
