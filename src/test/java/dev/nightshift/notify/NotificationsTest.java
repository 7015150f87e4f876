package dev.nightshift.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.db.Database;
import dev.nightshift.json.Json;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.Receiver;
import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Notifications through the outbox: a dead run and the job's recovery each reach the job's webhook
 * at least once, signed, with one Idempotency-Key across the tries of a receiver that fails twice.
 */
@Tag("database")
class NotificationsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    private static final String SECRET = "webhook-secret-0123456789";

    @Test
    void a_dead_run_and_the_recovery_are_delivered_through_a_receiver_that_fails_twice() throws Exception {
        db.execute("CREATE TABLE flag (ok boolean NOT NULL)");
        db.execute("INSERT INTO flag VALUES (false)");
        try (Receiver hook = new Receiver(n -> n <= 2 ? 500 : 200)) {
            JobsDir jobs = new JobsDir(db.tempDir(), "notify-jobs").file("flaky.yaml", "name: flaky\ntype: sql\nmax_attempts: 1\n"
                    + "notify: [" + hook.url() + "]\n"
                    + "params:\n  sql: SELECT 1 / (SELECT count(*) FROM public.flag WHERE ok)::int\n");
            // Each test's node stops with the test: left running, it would claim the next test's runs of
            // a job its catalog does not hold.
            try (Daemon daemon = Daemon.start(db.settings(jobs.path(), Map.of(Setting.WEBHOOK_SECRET, SECRET,
                    Setting.PUBLIC_URL, "https://nightshift.example.com/")))) {
                deadRunAndRecovery(hook, daemon, jobs.path().toString());
            }
        }
    }

    @Test
    void an_idle_notifier_is_woken_by_rows_written_and_otherwise_waits_for_the_next_retry() throws Exception {
        try (Database d = Database.open(db.settings(db.tempDir()), 2)) {
            d.migrate();
        }
        Outbox outbox = new Outbox(db.dataSource());
        db.execute("DELETE FROM nightshift.notification");
        assertThat(outbox.untilNextDue()).as("nothing pending: wait for the backstop").isEmpty();
        try (Connection listener = db.dataSource().getConnection()) {
            listener.setAutoCommit(true);
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN " + Notifier.CHANNEL);
            }
            db.execute("INSERT INTO nightshift.notification (job_name, event, run_id, error, idempotency_key) "
                    + "VALUES ('idle', 'dead', NULL, 'boom', 'idle-test:0')");
            PGNotification[] heard = listener.unwrap(PGConnection.class).getNotifications(5_000);
            assertThat(heard).as("the insert's commit wakes the notifiers").isNotNull().hasSize(1);
            assertThat(heard[0].getName()).isEqualTo(Notifier.CHANNEL);
        }
        assertThat(outbox.untilNextDue()).as("a row due now").contains(Duration.ZERO);
        db.execute("UPDATE nightshift.notification SET next_at = now() + interval '10 seconds' WHERE job_name = 'idle'");
        assertThat(outbox.untilNextDue()).as("a retry due in 10 s").hasValueSatisfying(d ->
                assertThat(d).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10)));
        db.execute("UPDATE nightshift.notification SET state = 'delivered' WHERE job_name = 'idle'");
        assertThat(outbox.untilNextDue()).as("delivered rows are not waited for").isEmpty();
        db.execute("DELETE FROM nightshift.notification WHERE job_name = 'idle'");
    }

    private static void deadRunAndRecovery(Receiver hook, Daemon daemon, String dir) throws Exception {
        assertThat(Cli.run(db.env(), "trigger", "flaky", "--jobs-dir", dir, "--wait").exitCode()).isEqualTo(1);
        long dead = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'flaky'");
        assertThat(db.rows("SELECT event, run_id, url, state FROM nightshift.notification WHERE job_name = 'flaky'"))
                .as("written with the dead run").containsExactly("dead|" + dead + "|" + hook.url() + "|pending");
        await().atMost(Duration.ofSeconds(30)).until(() -> hook.hits().size() >= 3);
        List<Receiver.Hit> hits = hook.hits();
        assertThat(hits.stream().map(Receiver.Hit::idempotencyKey).collect(Collectors.toSet())).singleElement().asString()
                .matches("dead:" + dead + "@[0-9]+:1");
        for (Receiver.Hit h : hits) {
            assertThat(h.signature()).isEqualTo("sha256=" + Webhook.sign(SECRET, h.timestamp() + "." + h.body()));
        }
        JsonNode body = Json.MAPPER.readTree(hits.get(2).body());
        assertThat(body.path("event").asText()).isEqualTo("dead");
        assertThat(body.path("job").asText()).isEqualTo("flaky");
        assertThat(body.path("run").asLong()).isEqualTo(dead);
        assertThat(body.path("error").asText()).contains("division by zero");
        assertThat(body.path("link").asText()).isEqualTo("https://nightshift.example.com/runs/" + dead);
        await().atMost(Duration.ofSeconds(10)).until(() -> db.queryString(
                "SELECT state || '/' || attempts FROM nightshift.notification WHERE run_id = " + dead), "delivered/3"::equals);
        String metrics = new Http(daemon.httpPort()).get("/metrics").body();
        assertThat(metrics).contains("nightshift_notifications_total{result=\"retry\"} 2.0",
                "nightshift_notifications_total{result=\"delivered\"} 1.0");

        db.execute("UPDATE flag SET ok = true");
        assertThat(Cli.run(db.env(), "trigger", "flaky", "--jobs-dir", dir, "--wait").exitCode()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> hook.hits().size() >= 4);
        assertThat(Json.MAPPER.readTree(hook.hits().get(3).body()).path("event").asText()).isEqualTo("recovered");
        // a second success is no news
        assertThat(Cli.run(db.env(), "trigger", "flaky", "--jobs-dir", dir, "--wait").exitCode()).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.notification WHERE job_name = 'flaky'")).isEqualTo(2);
    }

    @Test
    void a_run_retried_by_hand_that_dies_again_notifies_again_under_a_key_of_its_own() throws Exception {
        try (Receiver hook = new Receiver(n -> 200)) {
            JobsDir jobs = new JobsDir(db.tempDir(), "notify-again").file("doomed.yaml", "name: doomed\ntype: sql\nmax_attempts: 1\n"
                    + "notify: [" + hook.url() + "]\nparams:\n  sql: SELECT 1 / 0\n");
            String dir = jobs.path().toString();
            try (Daemon daemon = Daemon.start(db.settings(jobs.path(), Map.of(Setting.WEBHOOK_SECRET, SECRET)))) {
                diesTwice(hook, dir);
            }
        }
    }

    private static void diesTwice(Receiver hook, String dir) throws Exception {
        assertThat(Cli.run(db.env(), "trigger", "doomed", "--jobs-dir", dir, "--wait").exitCode()).isEqualTo(1);
        long run = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'doomed'");
        await().atMost(Duration.ofSeconds(30)).until(() -> hook.hits().size() >= 1);

        assertThat(Cli.run(db.env(), "retry", Long.toString(run)).exitCode()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.notification WHERE run_id = " + run + " AND event = 'dead'") == 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> hook.hits().size() >= 2);
        assertThat(hook.hits().stream().map(Receiver.Hit::idempotencyKey).distinct().count()).as("two deaths, two keys").isEqualTo(2);
    }

    @Test
    void notify_test_sends_a_sample_to_each_target_and_says_which_failed() throws Exception {
        try (Receiver ok = new Receiver(n -> 200); Receiver down = new Receiver(n -> 503)) {
            JobsDir jobs = new JobsDir(db.tempDir(), "notify-test").file("t.yaml", "name: t\ntype: sql\nnotify:\n  - " + ok.url()
                    + "\n  - {url: " + down.url() + ", format: slack}\nparams: {sql: select 1}\n");
            Cli.Result r = Cli.run(db.env(), "notify", "test", "t", "--jobs-dir", jobs.path().toString());
            assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(1);
            assertThat(r.out()).contains("ok      http://127.0.0.1:", "FAILED  http://127.0.0.1:", "(slack): HTTP 503")
                    .doesNotContain("/hook");
            assertThat(Json.MAPPER.readTree(ok.hits().get(0).body()).path("event").asText()).isEqualTo("test");
            assertThat(Json.MAPPER.readTree(down.hits().get(0).body()).path("text").asText()).contains("test notification for job t");
        }
    }
}
