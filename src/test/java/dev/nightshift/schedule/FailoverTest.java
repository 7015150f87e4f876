package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A scheduler node killed with SIGKILL in a JVM of its own: the others take over the trigger of
 * the schedule its two jobs share.
 */
@Tag("process")
class FailoverTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** A nightshift node in a JVM of its own, so that it can be killed with SIGKILL. */
    private static Process startNodeProcess(Path jobsDir, String name, Path log) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "dev.nightshift.cli.Main", "run", "--jobs-dir", jobsDir.toString(), "--node-name", name,
                "--poll-interval", "200ms", "--rescue-interval", "300ms", "--http-port", "0");
        pb.environment().putAll(db.env());
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        return pb.start();
    }

    @Test
    void killing_a_node_with_sigkill_leaves_firing_to_the_others_with_no_slot_twice() throws Exception {
        db.execute("CREATE TABLE ledger (job text NOT NULL, slot timestamptz NOT NULL, node text NOT NULL)");
        String record = "INSERT INTO ledger (job, slot, node) SELECT job_name, scheduled_at, node FROM nightshift.run"
                + " WHERE id = current_setting('nightshift.run_id')::bigint";
        String everySecond = "schedule:\n  cron: \"* * * * * ?\"\n  misfire: fire-once\n";
        JobsDir jobs = new JobsDir(db.tempDir(), "failover").sql("tick", record, everySecond).sql("tock", record, everySecond);
        assertThat(Cli.run(db.env(), "migrate").exitCode()).isZero();
        Process victim = startNodeProcess(jobs.path(), "victim", db.tempDir().resolve("victim.log"));
        try {
            // The victim fires alone first; a node that fires a trigger tends to acquire its next
            // slot too, so it likely still holds the trigger when the others have joined.
            await().atMost(Duration.ofSeconds(60)).until(() -> db.queryLong("SELECT count(*) FROM nightshift.run") >= 4);
            for (int i = 1; i <= 2; i++) {
                db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "survivor-" + i)), ClusterFiringTest.FAST));
            }
            boolean holding = holdsTrigger(Duration.ofSeconds(10));
            victim.destroyForcibly().waitFor();
            Instant killed = Instant.now();

            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() ->
                    db.queryLong("SELECT count(*) FROM nightshift.run WHERE scheduled_at > '" + killed.plusSeconds(20) + "'") >= 6);

            assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_scheduler_state WHERE instance_name = 'victim'"))
                    .as("the survivors declared the victim dead and recovered its fires").isZero();
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_fired_triggers WHERE instance_name = 'victim'")).isZero();
            assertThat(db.queryLong("SELECT count(*) FROM (SELECT job, slot FROM ledger GROUP BY job, slot HAVING count(*) > 1) d"))
                    .as("no slot of a job executed twice").isZero();
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.run"))
                    .isEqualTo(db.queryLong("SELECT count(DISTINCT (job_name, scheduled_at)) FROM nightshift.run"));
            assertThat(db.rows("SELECT count(*) FROM nightshift.run GROUP BY scheduled_at HAVING count(*) <> 2"))
                    .as("every fire enqueued both jobs of the schedule").isEmpty();
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers WHERE trigger_group = 'nightshift'")).isEqualTo(1);
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE scheduled_at > '" + killed + "'")).isPositive();
            System.out.printf("victim held the trigger when killed: %s; first slot fired after the kill: +%s%n", holding,
                    db.queryString("SELECT min(scheduled_at) - '" + killed + "'::timestamptz FROM nightshift.run WHERE scheduled_at > '" + killed + "'"));
        } finally {
            victim.destroyForcibly();
        }
    }

    private static boolean holdsTrigger(Duration max) {
        try {
            await().atMost(max).pollInterval(Duration.ofMillis(20)).until(() ->
                    db.queryLong("SELECT count(*) FROM nightshift.qrtz_fired_triggers WHERE instance_name = 'victim'") > 0);
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }
}
