package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.PrivateServer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Guarantee 8: PostgreSQL stopped for 10 s under a running daemon. Uses a PostgreSQL server of
 * its own (the embedded one, in a private home) so that stopping it disturbs no other test.
 */
@Tag("process")
class OutageTest {
    @RegisterExtension
    static final PrivateServer pg = new PrivateServer("nightshift-outage");

    @Test
    void daemon_survives_a_10_second_outage_reports_not_ready_and_resumes() throws Exception {
        JobsDir jobs = new JobsDir(pg.home(), "jobs").sql("tick", "SELECT 1", "");
        try (Daemon daemon = Daemon.start(pg.settings(jobs, "outage-node", Map.of(Setting.RESCUE_INTERVAL, "300ms")))) {
            Node node = daemon.node();
            RunQueue queue = new RunQueue(daemon.database().dataSource());
            queue.enqueue(NewRun.manual("tick", Map.of(), null));
            await().atMost(Duration.ofSeconds(10)).until(() -> pg.queryLong("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded'") == 1);
            assertThat(node.ready()).isTrue();

            Http http = new Http(daemon.httpPort());
            assertThat(http.get("/readyz").status()).isEqualTo(200);

            pg.server().stop();
            Instant down = Instant.now();
            await().atMost(Duration.ofSeconds(5)).until(() -> !node.ready());
            assertThat(node.readiness()).isEqualTo("database unreachable");
            // /readyz answers at once (no probe waits on the dead database) with the reason
            long asked = System.nanoTime();
            Http.Reply r = http.get("/readyz");
            assertThat(Duration.ofNanos(System.nanoTime() - asked)).isLessThan(Duration.ofMillis(1_800));
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.json().path("reason").asText()).isEqualTo("database unreachable");
            assertThat(http.get("/livez").status()).isEqualTo(200);
            // Down for 10 s in all: the node stays not-ready and alive the whole time.
            await().during(Duration.ofSeconds(10).minus(Duration.between(down, Instant.now())))
                    .atMost(Duration.ofSeconds(12))
                    .until(() -> !node.ready() && !node.draining());

            pg.server().start();
            await().atMost(Duration.ofSeconds(20)).until(node::ready);
            Http.Reply back = http.get("/readyz");
            assertThat(back.status()).isEqualTo(200);
            assertThat(back.json().path("status").asText()).isEqualTo("ready");
            queue.enqueue(NewRun.manual("tick", Map.of(), null));
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> pg.queryLong("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded'") == 2);
            assertThat(daemon.metrics().registry().find("nightshift.loop.errors").tag("loop", "claimer").counter().count())
                    .isGreaterThan(0);
        }
    }
}
