package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Guarantee 1 on a live cluster: three Quartz nodes, two every-second jobs sharing one schedule
 * (one trigger), one run of each job per slot.
 */
@Tag("process")
class ClusterFiringTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final SchedulerOptions FAST = new SchedulerOptions(4, Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofSeconds(1));

    @Test
    void three_nodes_fire_each_slot_of_two_every_second_jobs_on_one_trigger_exactly_once_for_20_seconds() throws Exception {
        db.execute("CREATE TABLE ledger (job text NOT NULL, slot timestamptz NOT NULL, node text NOT NULL)");
        String record = "INSERT INTO ledger (job, slot, node) SELECT job_name, scheduled_at, node FROM nightshift.run"
                + " WHERE id = current_setting('nightshift.run_id')::bigint";
        String everySecond = "schedule:\n  cron: \"* * * * * ?\"\n  misfire: fire-once\n";
        JobsDir jobs = new JobsDir(db.tempDir(), "tick").sql("tick", record, everySecond).sql("tock", record, everySecond);
        List<CompletableFuture<Daemon>> starting = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            var settings = db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "node-" + i));
            starting.add(CompletableFuture.supplyAsync(() -> Daemon.start(settings, FAST)));
        }
        List<Daemon> nodes = new ArrayList<>();
        for (CompletableFuture<Daemon> f : starting) {
            nodes.add(db.closeAfterAll(f.join()));
        }
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers")).as("one trigger for the shared schedule").isEqualTo(1);

        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(250)).until(() ->
                db.queryLong("SELECT coalesce(extract(epoch FROM max(scheduled_at) - min(scheduled_at)), 0) FROM nightshift.run") >= 20);
        nodes.forEach(Daemon::close);

        long runs = db.queryLong("SELECT count(*) FROM nightshift.run");
        long first = db.queryLong("SELECT extract(epoch FROM min(scheduled_at))::bigint FROM nightshift.run");
        long last = db.queryLong("SELECT extract(epoch FROM max(scheduled_at))::bigint FROM nightshift.run");
        assertThat(runs).as("one run of each job per slot, no gap").isEqualTo(2 * (last - first + 1));
        assertThat(db.rows("SELECT job_name, count(*), count(DISTINCT scheduled_at) FROM nightshift.run GROUP BY job_name ORDER BY 1"))
                .containsExactly("tick|" + runs / 2 + "|" + runs / 2, "tock|" + runs / 2 + "|" + runs / 2);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE date_trunc('second', scheduled_at) <> scheduled_at"))
                .as("no misfire catch-up fires").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM (SELECT job, slot FROM ledger GROUP BY job, slot HAVING count(*) > 1) d"))
                .as("no slot of a job executed twice").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM ledger")).isEqualTo(db.queryLong("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded'"));
        for (String job : List.of("tick", "tock")) {
            double enqueued = nodes.stream().mapToDouble(n -> fires(n, job, "enqueued")).sum();
            assertThat(enqueued).as("fires counted for " + job).isEqualTo(runs / 2);
        }
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers")).isEqualTo(1);
    }

    static double fires(Daemon node, String job, String result) {
        return node.metrics().registry().find("nightshift.scheduler.fires").tag("job_name", job).tag("result", result).counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }
}
