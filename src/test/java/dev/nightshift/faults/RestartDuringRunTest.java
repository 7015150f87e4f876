package dev.nightshift.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.PrivateServer;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL restarted under a running job: a {@code transaction: false} job is redone (at least
 * once, as documented), and an import of a large file applies nothing of the interrupted attempt
 * and all of the next. Uses a PostgreSQL server of its own, so the restarts disturb no other test.
 */
@Tag("process")
class RestartDuringRunTest {
    @RegisterExtension
    static final PrivateServer pg = new PrivateServer("nightshift-restart");

    private static String text(String sql) throws Exception {
        return pg.queryString(sql);
    }

    private static Daemon daemon(JobsDir jobs, String node) {
        return Daemon.start(pg.settings(jobs, node, Map.of(Setting.RESCUE_INTERVAL, "300ms")));
    }

    private static void restart() throws Exception {
        Instant t = Instant.now();
        pg.server().stop();
        pg.server().start();
        System.out.printf("PostgreSQL restarted in %d ms%n", Duration.between(t, Instant.now()).toMillis());
    }

    @Test
    void a_transaction_false_job_interrupted_by_a_restart_is_run_again_to_success() throws Exception {
        pg.execute("DROP TABLE IF EXISTS loose_ledger; CREATE TABLE loose_ledger (run_id bigint NOT NULL, attempt int NOT NULL)");
        String sql = "INSERT INTO loose_ledger (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint,"
                + " current_setting('nightshift.attempt')::int);\n"
                + "SELECT pg_sleep(CASE WHEN current_setting('nightshift.attempt') = '1' THEN 60 ELSE 0 END)";
        JobsDir jobs = new JobsDir(pg.home(), "jobs-loose").file("loose.yaml", Nodes.looseJob("loose", sql).replace(
                "max_attempts: 5\n", "max_attempts: 5\nbackoff: 1s\n"));
        try (Daemon d = daemon(jobs, "restart-loose")) {
            long id = new RunQueue(d.database().dataSource()).enqueue(NewRun.manual("loose", Map.of(), null)).id();
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> "1".equals(text(
                    "SELECT count(*) FROM loose_ledger WHERE run_id = " + id)));
            restart();
            Instant back = Instant.now();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "succeeded".equals(text(
                    "SELECT state FROM nightshift.run WHERE id = " + id)));
            System.out.printf("transaction: false job interrupted by a restart: succeeded %d ms after the server was back%n",
                    Duration.between(back, Instant.now()).toMillis());
            String attempt = text("SELECT attempt FROM nightshift.run WHERE id = " + id);
            assertThat(Integer.parseInt(attempt)).isGreaterThanOrEqualTo(2);
            // at least once: the interrupted attempt's committed statement stays, the successful one is there too
            assertThat(text("SELECT string_agg(attempt::text, ',' ORDER BY attempt) FROM loose_ledger WHERE run_id = " + id))
                    .startsWith("1,").endsWith("," + attempt);
        }
    }

    @Test
    void an_import_of_a_large_file_interrupted_by_a_restart_applies_nothing_and_then_everything() throws Exception {
        int rows = 2_000_000;
        pg.execute("DROP TABLE IF EXISTS items; CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, amount integer NOT NULL);"
                + " INSERT INTO items SELECT g, 'old', 0 FROM generate_series(1, 1000) g");
        Path data = Files.createDirectories(pg.home().resolve("data"));
        try (BufferedWriter w = Files.newBufferedWriter(data.resolve("items.csv"))) {
            w.write("id,name,amount\n");
            for (int i = 1; i <= rows; i++) {
                w.write(i + ",item number " + i + "," + (i % 977) + "\n");
            }
        }
        JobsDir jobs = new JobsDir(pg.home(), "jobs-import").file("items.yaml", "name: items\ntype: batch-import\nmax_attempts: 5\n"
                + "backoff: 1s\nparams:\n  source: " + data.resolve("items.csv") + "\n  target: public.items\n  key: [id]\n");
        try (Daemon d = daemon(jobs, "restart-import")) {
            long id = new RunQueue(d.database().dataSource()).enqueue(NewRun.manual("items", Map.of(), null)).id();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> "1".equals(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'nightshift restart-import'"
                            + " AND state = 'active' AND query LIKE 'COPY%'")));
            restart();
            // Nothing of the interrupted attempt: the table is exactly as before, until the next attempt commits in full.
            assertThat(text("SELECT state FROM nightshift.run WHERE id = " + id)).isNotEqualTo("succeeded");
            assertThat(text("SELECT count(*) || ' ' || count(*) FILTER (WHERE name = 'old') FROM items")).isEqualTo("1000 1000");
            Instant back = Instant.now();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
                String state = text("SELECT count(*) || ' ' || count(*) FILTER (WHERE name = 'old') FROM items");
                assertThat(state).isIn("1000 1000", rows + " 0");
                return "succeeded".equals(text("SELECT state FROM nightshift.run WHERE id = " + id));
            });
            System.out.printf("import of %d rows interrupted by a restart: applied in full %d ms after the server was back%n",
                    rows, Duration.between(back, Instant.now()).toMillis());
            assertThat(text("SELECT count(*) || ' ' || count(*) FILTER (WHERE name = 'old') FROM items")).isEqualTo(rows + " 0");
            assertThat(text("SELECT counts->>'read' FROM nightshift.run WHERE id = " + id)).isEqualTo(Integer.toString(rows));
            assertThat(Integer.parseInt(text("SELECT attempt FROM nightshift.run WHERE id = " + id))).isGreaterThanOrEqualTo(2);
        }
    }
}
