package dev.nightshift.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.Receiver;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node killed with -9 between a run's death (the outbox row commits with it) and the delivery of
 * its notification: another node delivers it, with the same Idempotency-Key, once the first node's
 * lease on the row has passed.
 */
@Tag("process")
class NotificationFailoverTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void a_notification_whose_node_is_killed_mid_delivery_is_delivered_by_another_node() throws Exception {
        // The first request is held (node a is delivering it when it is killed); later ones are answered.
        try (Receiver hook = new Receiver(n -> n == 1 ? 0 : 200)) {
            JobsDir jobs = new JobsDir(db.tempDir(), "failover-notify").file("boom.yaml", "name: boom\ntype: sql\nmax_attempts: 1\n"
                    + "notify: [" + hook.url() + "]\nparams: {sql: SELECT 1/0}\n");
            NodeProcess a = Nodes.start(db, jobs, "a", null);
            assertThat(Cli.run(db.env(), "trigger", "boom", "--jobs-dir", jobs.path().toString()).exitCode()).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> hook.hits().size() == 1);
            assertThat(db.queryString("SELECT state FROM nightshift.notification")).isEqualTo("pending");
            a.kill9();

            Nodes.start(db, jobs, "b", null);
            await().atMost(Duration.ofSeconds(60)).until(() -> "delivered".equals(db.queryString(
                    "SELECT state FROM nightshift.notification")));
            List<Receiver.Hit> hits = hook.hits();
            assertThat(hits).hasSize(2);
            assertThat(hits.get(1).idempotencyKey()).isEqualTo(hits.get(0).idempotencyKey()).startsWith("dead:");
            assertThat(db.queryLong("SELECT attempts FROM nightshift.notification")).isEqualTo(2);
            assertThat(Map.of("run", db.queryLong("SELECT count(*) FROM nightshift.run WHERE state = 'dead'"))).containsEntry("run", 1L);
        }
    }
}
