package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.json.Json;
import dev.nightshift.testing.Cli;
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
 * Pause and resume through the CLI while several nodes fire two jobs of one shared schedule (one
 * trigger); the {@code jobs} listing.
 */
@Tag("database")
class PauseTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private long scheduledRunsAfter(Instant t) throws Exception {
        return db.queryLong("SELECT count(*) FROM nightshift.run WHERE trigger = 'schedule' AND scheduled_at > '" + t + "'");
    }

    @Test
    void pausing_on_one_node_stops_scheduled_runs_from_all_nodes_until_resumed() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "pause")
                .sql("tick", "SELECT 1", "schedule:\n  cron: \"* * * * * ?\"\n")
                .sql("tock", "SELECT 1", "schedule:\n  cron: \"* * * * * ?\"\n");
        List<Daemon> nodes = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            nodes.add(db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "p" + i)), ClusterFiringTest.FAST)));
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> scheduledRunsAfter(Instant.EPOCH) >= 4);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers")).as("tick and tock share a trigger").isEqualTo(1);
        Map<String, String> env = new java.util.HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", jobs.path().toString());

        Cli.Result paused = Cli.run(env, "pause", "tick");
        assertThat(paused.exitCode()).as(paused.err()).isZero();
        assertThat(paused.out()).contains("paused: tick");
        // A fire that read the flag just before the pause committed may still land in this second.
        Instant settled = Instant.now().plusSeconds(1);
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() ->
                db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'tick' AND trigger = 'schedule' AND scheduled_at > '" + settled + "'") == 0);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'tock' AND scheduled_at > '" + settled + "'"))
                .as("the other job keeps firing").isGreaterThanOrEqualTo(3);
        assertThat(nodes.stream().mapToDouble(n -> ClusterFiringTest.fires(n, "tick", "paused")).sum()).isGreaterThanOrEqualTo(3);
        assertThat(nodes.stream().mapToDouble(n -> ClusterFiringTest.fires(n, "tock", "paused")).sum()).isZero();

        Cli.Result manual = Cli.run(env, "trigger", "tick", "--wait");
        assertThat(manual.exitCode()).as(manual.err()).isZero();
        assertThat(manual.out()).contains("job tick is paused; manual triggers still run");

        com.fasterxml.jackson.databind.JsonNode listed = Json.MAPPER.readTree(Cli.run(env, "jobs", "--json").out());
        assertThat(listed).extracting(j -> j.get("name").asText() + "=" + j.get("paused").asBoolean())
                .containsExactly("tick=true", "tock=false");
        assertThat(listed).allSatisfy(j -> {
            assertThat(j.get("type").asText()).isEqualTo("sql");
            assertThat(j.get("schedule").get("cron").asText()).isEqualTo("* * * * * ?");
            assertThat(j.get("schedule").get("timezone").asText()).isEqualTo("UTC");
            assertThat(Instant.parse(j.get("nextFireAt").asText())).isAfter(Instant.now().minusSeconds(5));
            assertThat(j.get("lastRun").get("state").asText()).isNotBlank();
            assertThat(j.get("removed").asBoolean()).isFalse();
        });
        assertThat(Cli.run(env, "jobs").out()).contains("tick", "* * * * * ?", "UTC", "yes");

        Cli.Result resumed = Cli.run(env, "resume", "--all");
        assertThat(resumed.out()).contains("resumed: tick");
        Instant back = Instant.now().plusSeconds(1);
        await().atMost(Duration.ofSeconds(10)).until(() ->
                db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'tick' AND trigger = 'schedule' AND scheduled_at > '" + back + "'") >= 2);
    }

    @Test
    void pausing_an_unknown_job_is_a_usage_error_that_changes_nothing() throws Exception {
        Cli.Result r = Cli.run(db.env(), "pause", "tick", "no-such-job", "--jobs-dir", db.tempDir().toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("unknown job", "no-such-job", "nothing changed");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.job WHERE paused")).isZero();
    }
}
