package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The node's loops run until the node stops, whatever happens to their threads meanwhile. */
@Tag("database")
class NodeLoopsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static List<Thread> loopsOf(String node) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("nightshift-claimer-" + node) || t.getName().equals("nightshift-maintenance-" + node))
                .toList();
    }

    @Test
    void interrupted_claimer_and_maintenance_loops_keep_running_and_the_node_stays_ready() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "loops").sql("tick", "SELECT 1", "");
        Daemon daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(),
                Map.of(Setting.NODE_NAME, "interrupted", Setting.POLL_INTERVAL, "200ms", Setting.RESCUE_INTERVAL, "200ms"))));
        await().atMost(Duration.ofSeconds(30)).until(() -> daemon.node().ready());
        List<Thread> loops = loopsOf("interrupted");
        assertThat(loops).hasSize(2);

        // a stray interrupt (a library, a misbehaving hook) while they wait
        loops.forEach(Thread::interrupt);
        RunQueue queue = new RunQueue(db.dataSource());
        long id = queue.enqueue(NewRun.manual("tick", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(10)).until(() -> "succeeded".equals(
                db.queryString("SELECT state FROM nightshift.run WHERE id = " + id)));

        assertThat(loops).allSatisfy(t -> assertThat(t.isAlive()).as(t.getName()).isTrue());
        assertThat(daemon.node().ready()).isTrue();
        assertThat(daemon.node().readiness()).isEqualTo("ready");
    }
}
