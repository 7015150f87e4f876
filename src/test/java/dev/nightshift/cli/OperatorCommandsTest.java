package dev.nightshift.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.json.Json;
import dev.nightshift.queue.Maintenance;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** trigger, runs, show, cancel, retry as an operator uses them, without a daemon running. */
@Tag("database")
class OperatorCommandsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    private static Map<String, String> env;

    @BeforeAll
    static void catalog() {
        JobsDir jobs = new JobsDir(db.tempDir(), "ops").sql("report", "select 1", "").sql("other", "select 2", "");
        env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", jobs.path().toString());
        assertThat(Cli.run(env, "sync").exitCode()).isZero();
    }

    private static JsonNode json(Cli.Result r) throws Exception {
        assertThat(r.exitCode()).as(r.err()).isZero();
        return Json.MAPPER.readTree(r.out());
    }

    @Test
    void an_idempotency_key_gives_the_same_run_twice() throws Exception {
        JsonNode first = json(Cli.run(env, "trigger", "report", "--key", "2026-11", "--param", "month=2026-11", "--json"));
        Cli.Result again = Cli.run(env, "trigger", "report", "--key", "2026-11");
        assertThat(again.exitCode()).isZero();
        assertThat(again.out()).contains("run " + first.get("id").asLong() + " already exists for key '2026-11'; nothing enqueued");
        assertThat(first.get("params").get("month").asText()).isEqualTo("2026-11");
        assertThat(first.get("dedupeKey").asText()).isEqualTo("manual:report:2026-11");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE dedupe_key = 'manual:report:2026-11'")).isEqualTo(1);
    }

    @Test
    void a_waiting_run_is_cancelled_then_retried() throws Exception {
        long id = json(Cli.run(env, "trigger", "other", "--json")).get("id").asLong();
        Cli.Result cancel = Cli.run(env, "cancel", Long.toString(id));
        assertThat(cancel.exitCode()).isZero();
        assertThat(cancel.out()).contains("run " + id + " cancelled before it started");
        assertThat(json(Cli.run(env, "show", Long.toString(id), "--json")).get("state").asText()).isEqualTo("cancelled");

        Cli.Result cancelAgain = Cli.run(env, "cancel", Long.toString(id));
        assertThat(cancelAgain.exitCode()).isEqualTo(1);
        assertThat(cancelAgain.err()).contains("run " + id + " is cancelled; only available or running runs can be cancelled");

        assertThat(Cli.run(env, "retry", Long.toString(id)).out()).contains("run " + id + " is available again");
        JsonNode retried = json(Cli.run(env, "show", Long.toString(id), "--json"));
        assertThat(retried.get("state").asText()).isEqualTo("available");
        assertThat(retried.get("attempt").asInt()).isZero();
        assertThat(retried.get("finishedAt").isNull()).isTrue();
    }

    @Test
    void runs_lists_newest_first_with_filters() throws Exception {
        Cli.run(env, "trigger", "report");
        Cli.run(env, "trigger", "other");
        JsonNode all = json(Cli.run(env, "runs", "--json", "--limit", "1000"));
        assertThat(all.size()).isGreaterThanOrEqualTo(2);
        assertThat(all.get(0).get("id").asLong()).isGreaterThan(all.get(1).get("id").asLong());
        JsonNode onlyReport = json(Cli.run(env, "runs", "--job", "report", "--json"));
        onlyReport.forEach(r -> assertThat(r.get("job").asText()).isEqualTo("report"));
        Cli.Result table = Cli.run(env, "runs", "--state", "available", "--limit", "2");
        assertThat(table.out().lines().count()).isEqualTo(3);
        assertThat(table.out()).startsWith("ID ").contains(" available ");
        Cli.Result show = Cli.run(env, "show", Long.toString(all.get(0).get("id").asLong()));
        assertThat(show.out()).contains("job:", "state:", "attempt:      0 of 3");
    }

    @Test
    void finished_runs_older_than_the_retention_are_pruned() throws Exception {
        db.execute("""
                INSERT INTO nightshift.run_history (id, job_name, trigger, params, state, attempt, max_attempts, run_at, created_at,
                                                    finished_at)
                SELECT nextval('nightshift.run_seq'), 'report', 'manual', '{}', s, 1, 3, f, f, f
                FROM (VALUES ('succeeded', now() - interval '8 days'), ('dead', now() - interval '9 days'),
                             ('succeeded', now() - interval '1 day')) v(s, f)""");
        long before = db.queryLong("SELECT count(*) FROM nightshift.run");
        int pruned = new Maintenance(db.dataSource(), "test").prune(Duration.ofDays(7));
        assertThat(pruned).isEqualTo(2);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run")).isEqualTo(before - 2);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE finished_at < now() - interval '7 days'")).isZero();
    }
}
