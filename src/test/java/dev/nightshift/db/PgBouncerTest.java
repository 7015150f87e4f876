package dev.nightshift.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.PgBouncer;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
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

    private static NodeProcess node(Map<String, String> env, JobsDir jobs, String name) throws Exception {
        return db.closeAfterAll(NodeProcess.start(env, db.tempDir(), name, "--jobs-dir", jobs.path().toString(),
                "--poll-interval", "200ms", "--rescue-interval", "500ms", "--http-port", "0", "--workers", "4"));
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
}
