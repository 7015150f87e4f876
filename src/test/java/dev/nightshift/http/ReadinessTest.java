package dev.nightshift.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** /readyz while draining and before the scheduler runs; OutageTest covers an unreachable database. */
@Tag("database")
class ReadinessTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static JobsDir jobs;

    @BeforeAll
    static void catalog() {
        jobs = new JobsDir(db.tempDir(), "readiness").sql("slowish", "SELECT pg_sleep(3)", null);
    }

    @Test
    void readyz_says_draining_while_a_stopping_node_finishes_its_runs() throws Exception {
        Daemon daemon = Daemon.start(db.settings(jobs.path()));
        Http http = new Http(daemon.httpPort());
        long id = new RunQueue(db.dataSource()).enqueue(NewRun.manual("slowish", Map.of(), null)).id();
        // the only node of this class alive now, so the run is this node's
        await().atMost(Duration.ofSeconds(10)).until(() -> daemon.node().activeRuns() == 1);

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(daemon::close);
        await().atMost(Duration.ofSeconds(3)).until(() -> http.get("/readyz").status() == 503);
        Http.Reply r = http.get("/readyz");
        assertThat(r.json().path("reason").asText()).isEqualTo("draining");
        assertThat(http.get("/livez").status()).isEqualTo(200);

        stopping.get();
        assertThat(db.queryString("SELECT state FROM nightshift.run WHERE id = " + id)).isEqualTo("succeeded");
    }

    @Test
    void readyz_is_503_until_the_scheduler_has_started() {
        try (Daemon daemon = Daemon.start(db.settings(jobs.path()));
             HttpService http = HttpService.start(daemon.settings(), daemon.node(), db.dataSource(), daemon.metrics(),
                     dev.nightshift.config.JobCatalog.load(daemon.settings().jobsDir()), () -> false)) {
            Http.Reply r = new Http(http.port()).get("/readyz");
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.json().path("reason").asText()).isEqualTo("scheduler not started");
        }
    }
}
