package dev.nightshift.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.FaultProxy;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.TestDatabase;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A network that drops every packet between one node and PostgreSQL, without a reset, for 60 s:
 * PostgreSQL ends the cut node's sessions after the stall timeout, the peer rescues their runs,
 * and when the network heals the cut node neither completes nor re-applies any of them.
 */
@Tag("process")
class NetworkCutTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void a_node_cut_off_without_a_reset_has_its_runs_rescued_within_the_stall_timeout_and_never_completes_them()
            throws Exception {
        JobsDir jobs = Nodes.gatedJobs(db);
        FaultProxy proxy = db.closeAfterAll(new FaultProxy("127.0.0.1", URI.create(db.url().substring(5)).getPort()));
        NodeProcess cut = Nodes.start(db, jobs, "cut", proxy.url(db.url()));
        RunQueue queue = new RunQueue(db.dataSource());
        long a = queue.enqueue(NewRun.manual("counted", Map.of(), null)).id();
        long b = queue.enqueue(NewRun.manual("counted", Map.of(), null)).id();
        long c = queue.enqueue(NewRun.manual("loose", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(20)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE state = 'running' AND node = 'cut'") == 3);
        NodeProcess peer = Nodes.start(db, jobs, "peer", null);

        proxy.blackhole(true);
        db.execute("INSERT INTO gate VALUES (true)");   // the runs' statements end now: their sessions go silent
        Instant cutAt = Instant.now();
        await().atMost(Nodes.STALL.plusSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE state = 'succeeded' AND node = 'peer'") == 3);
        Duration rescued = Duration.between(cutAt, Instant.now());
        System.out.printf("network cut (no reset) -> the cut node's 3 runs succeeded on the peer after %d ms"
                + " (stall timeout %d s)%n",
                rescued.toMillis(), Nodes.STALL.toSeconds());
        assertThat(rescued).isLessThan(Nodes.STALL.plusSeconds(4));

        // the cut lasts 60 s in all; then the network heals and the cut node sees its sessions were ended
        await().pollDelay(Duration.ofSeconds(60).minus(Duration.between(cutAt, Instant.now())))
                .atMost(Duration.ofSeconds(61)).until(() -> true);
        proxy.blackhole(false);
        long n = queue.enqueue(NewRun.manual("loose", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE id = " + n + " AND state = 'succeeded'") == 1);
        // The healed node completes nothing that was taken from it, and applies nothing again.
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(7)).until(() -> db.rows(
                "SELECT id, state, node, attempt FROM nightshift.run WHERE id IN (" + a + "," + b + "," + c + ") ORDER BY id")
                .equals(java.util.List.of(a + "|succeeded|peer|2", b + "|succeeded|peer|2", c + "|succeeded|peer|2")));
        assertThat(db.rows("SELECT run_id, attempt FROM ledger ORDER BY 1"))
                .as("exactly once: the cut attempts rolled back").containsExactly(a + "|2", b + "|2");
        assertThat(db.rows("SELECT run_id, attempt FROM loose_ledger WHERE run_id = " + c + " ORDER BY 2"))
                .as("transaction: false is at least once").containsExactly(c + "|1", c + "|2");
        assertThat(cut.alive()).isTrue();
        assertThat(peer.alive()).isTrue();
    }
}
