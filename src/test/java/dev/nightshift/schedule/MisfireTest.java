package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The misfire policies after the whole cluster was down: fire-once catches up once, skip does not;
 * a misfire of a shared schedule's trigger counts for each of its jobs.
 */
@Tag("database")
class MisfireTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** A 1.5 s threshold: a cluster down for 5 s has missed its slots by more than that. */
    static final SchedulerOptions OPTIONS = ClusterFiringTest.FAST.withMisfireThreshold(Duration.ofMillis(1500));

    private List<Daemon> startNodes(JobsDir jobs) {
        List<Daemon> nodes = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            nodes.add(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "m" + i)), OPTIONS));
        }
        return nodes;
    }

    private long runs(String job, String condition) throws Exception {
        return db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = '" + job + "' AND " + condition);
    }

    @Test
    void after_downtime_fire_once_catches_up_with_one_run_and_skip_with_none() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "misfire")
                .sql("catch-up", "SELECT 1", "schedule:\n  cron: \"* * * * * ?\"\n  misfire: fire-once\n")
                .sql("catch-up-too", "SELECT 1", "schedule:\n  cron: \"* * * * * ?\"\n")
                .sql("skipper", "SELECT 1", "schedule:\n  cron: \"* * * * * ?\"\n  misfire: skip\n");
        List<Daemon> nodes = startNodes(jobs);
        await().atMost(Duration.ofSeconds(15)).until(() -> runs("catch-up", "true") >= 2 && runs("skipper", "true") >= 2);
        nodes.forEach(Daemon::close);
        Instant stopped = Instant.now();
        String lastSlot = db.queryString("SELECT max(scheduled_at) FROM nightshift.run");

        // Down for five slots; waiting for time to pass, not for a result.
        await().pollDelay(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(6)).until(() -> true);
        Instant restarted = Instant.now();
        List<Daemon> again = startNodes(jobs);
        again.forEach(db::closeAfterAll);
        await().atMost(Duration.ofSeconds(15)).until(() ->
                runs("skipper", "scheduled_at > '" + restarted.plusSeconds(2) + "'") >= 1
                        && runs("catch-up", "scheduled_at > '" + restarted.plusSeconds(2) + "'") >= 1);

        String missed = "scheduled_at > '" + lastSlot + "' AND scheduled_at < '" + restarted + "'";
        assertThat(runs("catch-up", missed)).as("nothing fired while every node was down").isZero();
        assertThat(runs("skipper", missed)).isZero();
        // A catch-up fire happens at the moment Quartz handles the misfire, off the cron's whole seconds.
        String offSlot = "scheduled_at > '" + lastSlot + "' AND date_trunc('second', scheduled_at) <> scheduled_at";
        // (the runs since the last slot before the stop, for a failure's message)
        List<String> since = db.rows("SELECT job_name, scheduled_at, created_at FROM nightshift.run WHERE scheduled_at > '"
                + lastSlot + "' ORDER BY scheduled_at, job_name");
        assertThat(runs("catch-up", offSlot)).as("fire-once: exactly one catch-up run; runs since %s: %s", lastSlot, since)
                .isEqualTo(1);
        assertThat(runs("catch-up-too", offSlot)).as("the same catch-up fire, for the other job of the schedule").isEqualTo(1);
        assertThat(db.queryString("SELECT scheduled_at FROM nightshift.run WHERE job_name = 'catch-up-too' AND " + offSlot))
                .isEqualTo(db.queryString("SELECT scheduled_at FROM nightshift.run WHERE job_name = 'catch-up' AND " + offSlot));
        assertThat(runs("skipper", offSlot)).as("skip: no catch-up run").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers")).as("two policies, two triggers").isEqualTo(2);
        // counted off Quartz's thread, hence awaited
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            for (String job : List.of("catch-up", "catch-up-too", "skipper")) {
                assertThat(again.stream().mapToDouble(n -> misfires(n, job)).sum()).as("misfires of " + job).isGreaterThanOrEqualTo(1);
            }
        });
        assertThat(stopped).isBefore(restarted);
    }

    private static double misfires(Daemon node, String job) {
        return node.metrics().registry().find("nightshift.scheduler.misfires").tag("job_name", job).counters().stream().mapToDouble(c -> c.count()).sum();
    }
}
