package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.config.SettingsLoader;
import dev.nightshift.db.EmbeddedServer;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.PrivateServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Guarantee 8: PostgreSQL stopped for 10 s under a running daemon. Uses a PostgreSQL server of
 * its own (the embedded one, in a private home) so that stopping it disturbs no other test.
 */
@Tag("process")
class OutageTest {
    private static Path home;
    private static PrivateServer pg;
    private static EmbeddedServer server;

    @BeforeAll
    static void server() throws Exception {
        pg = PrivateServer.start("nightshift-outage");
        home = pg.home();
        server = pg.server();
    }

    @AfterAll
    static void release() throws Exception {
        pg.close();
    }

    private static long count(String sql) throws Exception {
        try (Connection c = pg.connect();
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void daemon_survives_a_10_second_outage_reports_not_ready_and_resumes() throws Exception {
        JobsDir jobs = new JobsDir(home, "jobs").sql("tick", "SELECT 1", "");
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DB_URL, server.jdbcUrl("postgres"));
        flags.put(Setting.DB_USER, "postgres");
        flags.put(Setting.JOBS_DIR, jobs.path().toString());
        flags.put(Setting.POLL_INTERVAL, "200ms");
        flags.put(Setting.RESCUE_INTERVAL, "300ms");
        flags.put(Setting.NODE_NAME, "outage-node");
        flags.put(Setting.HTTP_PORT, "0");
        try (Daemon daemon = Daemon.start(SettingsLoader.load(Map.of(), null, flags))) {
            Node node = daemon.node();
            RunQueue queue = new RunQueue(daemon.database().dataSource());
            queue.enqueue(NewRun.manual("tick", Map.of(), null));
            await().atMost(Duration.ofSeconds(10)).until(() -> count("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded'") == 1);
            assertThat(node.ready()).isTrue();

            Http http = new Http(daemon.httpPort());
            assertThat(http.get("/readyz").status()).isEqualTo(200);

            server.stop();
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

            server.start();
            await().atMost(Duration.ofSeconds(20)).until(node::ready);
            Http.Reply back = http.get("/readyz");
            assertThat(back.status()).isEqualTo(200);
            assertThat(back.json().path("status").asText()).isEqualTo("ready");
            queue.enqueue(NewRun.manual("tick", Map.of(), null));
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> count("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded'") == 2);
            assertThat(daemon.metrics().registry().find("nightshift.loop.errors").tag("loop", "claimer").counter().count())
                    .isGreaterThan(0);
        }
    }
}
