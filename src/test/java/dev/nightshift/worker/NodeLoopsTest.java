package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import io.micrometer.core.instrument.Counter;
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
        // Each test's node stops with the test: a node left running would claim the next test's runs
        // of a job its catalog does not hold, and fail them.
        try (Daemon daemon = Daemon.start(db.settings(jobs.path(),
                Map.of(Setting.NODE_NAME, "interrupted", Setting.POLL_INTERVAL, "200ms", Setting.RESCUE_INTERVAL, "200ms")))) {
            interruptedLoopsGoOn(daemon);
        }
    }

    private static void interruptedLoopsGoOn(Daemon daemon) throws Exception {
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

    @Test
    void an_idle_claimer_is_not_cut_off_by_the_servers_idle_session_timeout() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "idle-claimer").sql("tock", "SELECT 1", "");
        try (Daemon daemon = Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "idle-claimer",
                Setting.STALL_TIMEOUT, "2s", Setting.RESCUE_INTERVAL, "500ms")))) {
            idleClaimerWorks(daemon);
        }
    }

    private static void idleClaimerWorks(Daemon daemon) throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> daemon.node().ready());
        // idle longer than the sessions' idle_session_timeout (stall_timeout), then work arrives
        await().pollDelay(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(6)).until(() -> true);
        long id = new RunQueue(db.dataSource()).enqueue(NewRun.manual("tock", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(10)).until(() -> "succeeded".equals(
                db.queryString("SELECT state FROM nightshift.run WHERE id = " + id)));

        Counter errors = daemon.metrics().registry().find("nightshift.loop.errors").tag("loop", "claimer").counter();
        assertThat(errors == null ? 0 : errors.count()).as("claimer errors").isZero();
    }
}
