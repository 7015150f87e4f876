package dev.nightshift.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node frozen by SIGSTOP keeps its sessions and so its runs' locks: after the stall timeout
 * PostgreSQL ends those sessions and the peer takes the runs over; after SIGCONT the resumed node
 * completes none of them and applies nothing twice. The freeze lasts three stall timeouts (30 s;
 * the 90 s with the default 60 s is the same case, only slower).
 */
@Tag("process")
class FrozenNodeTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void a_frozen_nodes_runs_are_taken_over_after_the_stall_timeout_and_the_resumed_node_applies_none_twice()
            throws Exception {
        JobsDir jobs = Nodes.gatedJobs(db);
        NodeProcess frozen = Nodes.start(db, jobs, "frozen", null);
        RunQueue queue = new RunQueue(db.dataSource());
        long a = queue.enqueue(NewRun.manual("counted", Map.of(), null)).id();
        long b = queue.enqueue(NewRun.manual("counted", Map.of(), null)).id();
        long c = queue.enqueue(NewRun.manual("loose", Map.of(), null)).id();
        await().atMost(Duration.ofSeconds(20)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE state = 'running' AND node = 'frozen'") == 3);
        NodeProcess peer = Nodes.start(db, jobs, "peer", null);

        frozen.freeze();
        db.execute("INSERT INTO gate VALUES (true)");   // the runs' statements end now: their sessions go silent
        Instant frozenAt = Instant.now();
        await().atMost(Nodes.STALL.plusSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE state = 'succeeded' AND node = 'peer'") == 3);
        Duration takenOver = Duration.between(frozenAt, Instant.now());
        System.out.printf("SIGSTOP -> the frozen node's 3 runs succeeded on the peer after %d ms (stall timeout %d s)%n", takenOver.toMillis(), Nodes.STALL.toSeconds());
        assertThat(takenOver).isLessThan(Nodes.STALL.plusSeconds(4));

        await().pollDelay(Nodes.STALL.multipliedBy(3).minus(Duration.between(frozenAt, Instant.now())))
                .atMost(Nodes.STALL.multipliedBy(3).plusSeconds(1)).until(() -> true);
        frozen.thaw();
        // The resumed node works again (its pool replaces the ended sessions) ...
        List<Long> more = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            more.add(queue.enqueue(NewRun.manual("counted", Map.of(), null)).id());
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE state = 'succeeded' AND job_name = 'counted'") == 8);
        // ... and completes nothing that was taken from it, nor applies it again.
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(7)).until(() -> db.rows(
                "SELECT id, state, node, attempt FROM nightshift.run WHERE id IN (" + a + "," + b + "," + c + ") ORDER BY id")
                .equals(List.of(a + "|succeeded|peer|2", b + "|succeeded|peer|2", c + "|succeeded|peer|2")));
        assertThat(db.rows("SELECT run_id FROM ledger GROUP BY run_id HAVING count(*) > 1")).as("duplicates").isEmpty();
        assertThat(db.rows("SELECT run_id, attempt FROM ledger WHERE run_id IN (" + a + "," + b + ") ORDER BY 1"))
                .containsExactly(a + "|2", b + "|2");
        assertThat(db.rows("SELECT run_id, attempt FROM loose_ledger ORDER BY 2"))
                .as("transaction: false is at least once").containsExactly(c + "|1", c + "|2");
        assertThat(frozen.alive()).isTrue();
        assertThat(peer.alive()).isTrue();
    }
}
