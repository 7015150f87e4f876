package dev.nightshift.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A daemon running as a database role that owns only the nightshift schema and holds just the
 * grants its jobs need (src/site/markdown/security.md): it migrates, schedules and runs its jobs,
 * and a job reaching beyond its grants fails with PostgreSQL's permission error, changing nothing.
 */
@Tag("database")
class LeastPrivilegeTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String ROLE = "ns_worker_" + ProcessHandle.current().pid();
    static final String PASSWORD = "worker-password-" + ProcessHandle.current().pid();

    @AfterAll
    static void dropRole() throws Exception {
        // roles belong to the cluster, not to the test's database: leave none behind
        db.execute("REASSIGN OWNED BY " + ROLE + " TO CURRENT_USER; DROP OWNED BY " + ROLE);
        db.execute("DROP ROLE " + ROLE);
    }

    @Test
    void a_role_owning_only_the_nightshift_schema_runs_its_jobs_and_nothing_beyond_their_grants() throws Exception {
        // What a DBA runs once (security.md): the role, its schema, and the grants of its jobs.
        db.execute("CREATE ROLE " + ROLE + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '" + PASSWORD + "'");
        db.execute("CREATE SCHEMA nightshift AUTHORIZATION " + ROLE);
        db.execute("""
                CREATE SCHEMA app;
                CREATE TABLE app.orders (id integer PRIMARY KEY, customer text NOT NULL, amount integer NOT NULL);
                INSERT INTO app.orders VALUES (1, 'ada', 10), (2, 'ada', 5), (3, 'bo', 7);
                CREATE TABLE app.customer_totals (customer text PRIMARY KEY, total bigint NOT NULL);
                CREATE TABLE app.audit (note text NOT NULL, at timestamptz NOT NULL DEFAULT now());
                """);
        db.execute("GRANT USAGE ON SCHEMA app TO " + ROLE + ";"
                + " GRANT SELECT ON app.orders TO " + ROLE + ";"
                + " GRANT SELECT, INSERT, UPDATE, DELETE ON app.customer_totals TO " + ROLE + ";"
                + " GRANT INSERT ON app.audit TO " + ROLE);
        JobsDir jobs = new JobsDir(db.tempDir(), "least-privilege")
                .sql("note", "INSERT INTO app.audit (note) VALUES ('totals rebuilt')", "")
                .sql("overreach", "DELETE FROM app.orders", "max_attempts: 1\n")
                .file("totals.yaml", """
                        name: totals
                        type: rebuild-summary
                        params:
                          target: app.customer_totals
                          key: [customer]
                          query: SELECT customer, sum(amount) AS total FROM app.orders GROUP BY customer
                        """);
        try (Daemon d = Daemon.start(db.settings(jobs.path(), Map.of(Setting.DB_USER, ROLE, Setting.DB_PASSWORD, PASSWORD)))) {
            RunQueue queue = new RunQueue(d.database().dataSource());
            queue.enqueue(NewRun.manual("totals", Map.of(), null));
            queue.enqueue(NewRun.manual("note", Map.of(), null));
            queue.enqueue(NewRun.manual("overreach", Map.of(), null));
            await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong(
                    "SELECT count(*) FROM nightshift.run WHERE state IN ('succeeded', 'dead')") == 3);
        }
        assertThat(db.rows("SELECT job_name, state, last_error_sqlstate FROM nightshift.run ORDER BY job_name")).containsExactly(
                "note|succeeded|null", "overreach|dead|42501", "totals|succeeded|null");
        assertThat(db.queryString("SELECT last_error FROM nightshift.run WHERE job_name = 'overreach'"))
                .contains("permission denied for table orders");
        assertThat(db.rows("SELECT customer, total FROM app.customer_totals ORDER BY 1")).containsExactly("ada|15", "bo|7");
        assertThat(db.queryLong("SELECT count(*) FROM app.orders")).isEqualTo(3);
        assertThat(db.queryLong("SELECT count(*) FROM app.audit")).isEqualTo(1);
        // Everything the role owns is in its schema; it is no superuser.
        assertThat(db.rows("SELECT DISTINCT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relowner = '" + ROLE + "'::regrole AND n.nspname <> 'pg_toast'")).containsExactly("nightshift");
        assertThat(db.queryString("SELECT rolsuper FROM pg_roles WHERE rolname = '" + ROLE + "'")).isEqualTo("f");
        assertThat(db.queryString("SELECT owner FROM (SELECT d.datdba::regrole::text AS owner FROM pg_database d"
                + " WHERE d.datname = current_database()) o")).isNotEqualTo(ROLE);
    }
}
