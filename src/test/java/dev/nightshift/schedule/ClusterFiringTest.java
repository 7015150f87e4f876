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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Guarantee 1 on a live cluster: three Quartz nodes, one every-second job, one run per slot. */
class ClusterFiringTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final SchedulerOptions FAST = new SchedulerOptions(4, Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofSeconds(1));

    @Test
    void three_nodes_fire_each_slot_of_an_every_second_job_exactly_once_for_20_seconds() throws Exception {
        db.execute("CREATE TABLE ledger (slot timestamptz NOT NULL, node text NOT NULL)");
        JobsDir jobs = new JobsDir(db.tempDir(), "tick").sql("tick",
                "INSERT INTO ledger (slot, node) SELECT scheduled_at, node FROM nightshift.run WHERE id = current_setting('nightshift.run_id')::bigint",
                "schedule:\n  cron: \"* * * * * ?\"\n  misfire: fire-once\n");
        List<CompletableFuture<Daemon>> starting = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            var settings = db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "node-" + i));
            starting.add(CompletableFuture.supplyAsync(() -> Daemon.start(settings, FAST)));
        }
        List<Daemon> nodes = new ArrayList<>();
        for (CompletableFuture<Daemon> f : starting) {
            nodes.add(db.closeAfterAll(f.join()));
        }
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers")).isEqualTo(1);

        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(250)).until(() ->
                db.queryLong("SELECT coalesce(extract(epoch FROM max(scheduled_at) - min(scheduled_at)), 0) FROM nightshift.run") >= 20);
        nodes.forEach(Daemon::close);

        long runs = db.queryLong("SELECT count(*) FROM nightshift.run");
        long first = db.queryLong("SELECT extract(epoch FROM min(scheduled_at))::bigint FROM nightshift.run");
        long last = db.queryLong("SELECT extract(epoch FROM max(scheduled_at))::bigint FROM nightshift.run");
        assertThat(runs).as("one run per slot, no gap").isEqualTo(last - first + 1);
        assertThat(db.queryLong("SELECT count(DISTINCT scheduled_at) FROM nightshift.run")).isEqualTo(runs);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE date_trunc('second', scheduled_at) <> scheduled_at"))
                .as("no misfire catch-up fires").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM (SELECT slot FROM ledger GROUP BY slot HAVING count(*) > 1) d"))
                .as("no slot executed twice").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM ledger")).isEqualTo(db.queryLong("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded'"));
        double enqueued = nodes.stream().mapToDouble(n -> fires(n, "enqueued")).sum();
        assertThat(enqueued).isEqualTo(runs);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers")).isEqualTo(1);
    }

    static double fires(Daemon node, String result) {
        return node.metrics().registry().find("nightshift.scheduler.fires").tag("result", result).counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }
}
