package dev.nightshift.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("database")
class QueueTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void three_nodes_execute_5000_runs_exactly_once_and_no_rescuer_wins_the_hand_off() throws Exception {
        db.execute("CREATE TABLE ledger (run_id bigint NOT NULL, node text NOT NULL)");
        JobsDir jobs = new JobsDir(db.tempDir(), "exactly-once").sql("ledger",
                "INSERT INTO ledger (run_id, node) SELECT current_setting('nightshift.run_id')::bigint, node FROM nightshift.run WHERE id = current_setting('nightshift.run_id')::bigint",
                "concurrency: 12\n");
        List<Daemon> nodes = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            nodes.add(db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "node-" + i,
                    // rescuers scanning every 20 ms try hard to catch a claimed run without its lock
                    Setting.RESCUE_INTERVAL, "20ms")))));
        }
        RunQueue queue = new RunQueue(db.dataSource());
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            for (int i = 0; i < 5000; i++) {
                queue.enqueue(c, NewRun.manual("ledger", Map.of(), null));
            }
            c.commit();
        }
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250))
                .until(() -> db.queryLong("SELECT count(*) FROM nightshift.run WHERE state <> 'succeeded'") == 0);

        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded'")).isEqualTo(5000);
        assertThat(db.queryLong("SELECT count(*) FROM ledger")).isEqualTo(5000);
        assertThat(db.queryLong("SELECT count(DISTINCT run_id) FROM ledger")).isEqualTo(5000);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run r LEFT JOIN ledger l ON l.run_id = r.id WHERE l.run_id IS NULL")).isZero();
        assertThat(db.queryLong("SELECT max(attempt) FROM nightshift.run")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(DISTINCT node) FROM ledger")).isGreaterThanOrEqualTo(2);
        assertThat(db.rows("SELECT DISTINCT l.node = r.node FROM ledger l JOIN nightshift.run r ON r.id = l.run_id"))
                .containsExactly("t");
        for (Daemon d : nodes) {
            assertThat(d.metrics().registry().find("nightshift.rescued.runs").counter().count()).isZero();
        }
    }
}
