package dev.nightshift.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 21, part 5: each loop of a daemon's {@link Loops} (database gauges, deadline watch, node
 * watch, backfill pump, arrival watcher) ended through the test hook makes /readyz answer 503
 * naming it. The worker node's own loops (claimer, listener, maintenance) are read by /readyz
 * through {@code Node.readiness()}.
 */
@Tag("database")
class DeadLoopReadinessTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void readyz_names_each_loop_whose_thread_ended() throws Exception {
        db.execute("CREATE TABLE arrived (id integer PRIMARY KEY)");
        Path inbox = Files.createDirectories(db.tempDir().resolve("inbox"));
        JobsDir jobs = new JobsDir(db.tempDir(), "loops").file("arrive.yaml", "name: arrive\ntype: batch-import\nparams:\n"
                + "  source: " + inbox + "/*.csv\n  target: public.arrived\n  key: [id]\n  on_arrival: true\n  arrival_poll: 1s\n");
        try (Daemon daemon = Daemon.start(db.settings(jobs.path()))) {
            Http http = new Http(daemon.httpPort());
            await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/readyz").status() == 200);
            Loops loops = daemon.loops();
            assertThat(loops.names()).containsExactlyInAnyOrder("metrics", "deadline-watch", "node-watch", "backfill-pump", "arrivals");
            // /readyz names the first dead loop in registration order: kill them from the last to the first
            List<String> names = loops.names();
            for (int i = names.size() - 1; i >= 0; i--) {
                String name = names.get(i);
                loops.killForTest(name);
                Http.Reply r = http.get("/readyz");
                assertThat(r.status()).as(name).isEqualTo(503);
                assertThat(r.json().path("reason").asText()).isEqualTo("loop " + name + " ended");
            }
        }
    }
}
