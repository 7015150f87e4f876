package dev.nightshift.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("database")
class HttpApiTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String TOKEN = "test-admin-token-0123456789";

    static Daemon daemon;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        db.execute("CREATE TABLE echo (run_id bigint, v text)");
        JobsDir jobs = new JobsDir(db.tempDir(), "api")
                .sql("ok", "SELECT 1", "description: does nothing, well\n")
                .sql("echo", "INSERT INTO echo VALUES (current_setting('nightshift.run_id')::bigint, current_setting('nightshift.param.v'))", null)
                .sql("broken", "SELECT 1 / 0", "max_attempts: 1\n")
                .sql("slow", "SELECT pg_sleep(30)", "max_attempts: 1\n");
        daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN))));
        http = new Http(daemon.httpPort());
    }

    private static long trigger(String job, String body) {
        Http.Reply r = http.post("/api/jobs/" + job + "/trigger", body, TOKEN);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("run").path("id").asLong();
    }

    private static JsonNode awaitState(long run, String state) {
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/api/runs/" + run).json().path("state").asText().equals(state));
        return http.get("/api/runs/" + run).json();
    }

    @Test
    void livez_answers_alive() {
        Http.Reply r = http.get("/livez");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().path("status").asText()).isEqualTo("alive");
    }

    @Test
    void readyz_is_200_when_the_node_runs_and_the_database_answers() {
        Http.Reply r = http.get("/readyz");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().path("status").asText()).isEqualTo("ready");
    }

    @Test
    void trigger_with_params_runs_the_job_with_them() throws Exception {
        Http.Reply r = http.post("/api/jobs/echo/trigger", "{\"params\": {\"v\": \"hello <b>\"}}", TOKEN);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        long id = r.json().path("run").path("id").asLong();
        assertThat(r.header("Location")).isEqualTo("/api/runs/" + id);
        assertThat(r.json().path("created").asBoolean()).isTrue();
        assertThat(r.json().path("run").path("params").path("v").asText()).isEqualTo("hello <b>");

        awaitState(id, "succeeded");
        assertThat(db.rows("SELECT run_id, v FROM echo WHERE run_id = " + id)).containsExactly(id + "|hello <b>");
    }

    @Test
    void trigger_with_a_used_idempotency_key_returns_the_first_run() {
        Http.Reply first = http.post("/api/jobs/ok/trigger", "{\"key\": \"nightly-2026-11-22\"}", TOKEN);
        Http.Reply second = http.post("/api/jobs/ok/trigger", "{\"key\": \"nightly-2026-11-22\"}", TOKEN);
        assertThat(first.status()).isEqualTo(201);
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.json().path("created").asBoolean()).isFalse();
        assertThat(second.json().path("run").path("id").asLong()).isEqualTo(first.json().path("run").path("id").asLong());
    }

    @Test
    void state_changing_requests_need_the_admin_token() throws Exception {
        long before = db.queryLong("SELECT count(*) FROM nightshift.run");
        Http.Reply none = http.post("/api/jobs/ok/trigger", null, null);
        Http.Reply wrong = http.post("/api/jobs/ok/trigger", null, TOKEN + "x");
        Http.Reply prefix = http.post("/api/jobs/ok/trigger", null, TOKEN.substring(0, 16));

        for (Http.Reply r : new Http.Reply[] {none, wrong, prefix}) {
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
            assertThat(r.json().path("error").asText()).isNotBlank();
        }
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run")).isEqualTo(before);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.job WHERE paused")).isZero();
        assertThat(http.post("/api/jobs/ok/pause", null, null).status()).isEqualTo(401);
    }

    @Test
    void without_a_configured_token_state_changing_requests_are_forbidden() throws Exception {
        var settings = db.settings(db.tempDir().resolve("api"));
        try (HttpService noToken = HttpService.start(settings, daemon.node(), db.dataSource(), daemon.metrics(),
                dev.nightshift.config.JobCatalog.load(settings.jobsDir()), () -> true)) {
            Http other = new Http(noToken.port());
            Http.Reply r = other.post("/api/jobs/ok/trigger", null, TOKEN);
            assertThat(r.status()).isEqualTo(403);
            assertThat(r.json().path("error").asText()).contains("NIGHTSHIFT_ADMIN_TOKEN");
            assertThat(other.get("/api/jobs").status()).isEqualTo(200);
        }
    }

    @Test
    void a_port_in_use_fails_the_start_with_a_message_naming_the_setting() {
        var busy = db.settings(db.tempDir().resolve("api"), Map.of(Setting.HTTP_PORT, Integer.toString(daemon.httpPort()),
                Setting.NODE_NAME, "second"));
        assertThatThrownBy(() -> Daemon.start(busy).close())
                .hasMessageContaining("cannot listen on 127.0.0.1:" + daemon.httpPort())
                .hasMessageContaining("NIGHTSHIFT_HTTP_PORT");
        assertThat(http.get("/livez").status()).isEqualTo(200);
    }

    @Test
    void bad_requests_get_a_json_error_and_never_a_stack_trace() throws Exception {
        long runsBefore = db.queryLong("SELECT count(*) FROM nightshift.run");
        assertError(http.post("/api/jobs/ok/trigger", "{not json", TOKEN), 400, "body is not valid JSON (line 1, column 2)");
        assertThat(http.post("/api/jobs/ok/trigger", "{not json", TOKEN).body()).doesNotContain("was expecting", "code 110");
        assertError(http.postBytes("/api/jobs/ok/trigger", new byte[] {'{', '"', 'k', 'e', 'y', '"', ':', '"', 'e', 'u', (byte) 0xff, (byte) 0xfe, '"', '}'},
                TOKEN), 400, "request body is not valid UTF-8");
        assertError(http.post("/api/jobs/ok/trigger", "{\"key\": \"a\\u0000b\"}", TOKEN), 400, "key contains a NUL character");
        assertError(http.post("/api/jobs/o%00k/trigger", null, TOKEN), 404, "NUL character");
        assertError(http.get("/api/jobs/o%00k"), 404, "NUL character");
        assertError(http.get("/api/runs?job=o%00k"), 400, "NUL character");
        assertError(http.post("/api/jobs/ok/trigger", "[1, 2]", TOKEN), 400, "JSON object");
        assertError(http.post("/api/jobs/ok/trigger", "{\"parms\": {}}", TOKEN), 400, "unknown field 'parms'");
        assertError(http.post("/api/jobs/ok/trigger", "{\"params\": {\"Bad-Name\": \"x\"}}", TOKEN), 400, "param Bad-Name");
        assertError(http.post("/api/jobs/ok/trigger", "{\"params\": {\"v\": {\"nested\": 1}}}", TOKEN), 400, "param v");
        assertError(http.post("/api/jobs/ok/trigger", "{\"key\": \"\"}", TOKEN), 400, "key must be");
        assertError(http.post("/api/jobs/nope/trigger", null, TOKEN), 404, "unknown job 'nope'");
        assertError(http.get("/api/jobs/nope"), 404, "unknown job");
        assertError(http.get("/api/runs/99999999"), 404, "no run 99999999");
        assertError(http.get("/api/runs/abc"), 400, "run id");
        assertError(http.get("/api/runs?state=exploded"), 400, "state must be one of");
        assertError(http.get("/api/runs?limit=0"), 400, "limit");
        assertError(http.get("/api/runs?limit=5000"), 400, "limit");
        assertError(http.get("/api/nothing-here"), 404, "no such resource");
        assertError(http.post("/api/jobs/ok/trigger", "{\"params\": {\"v\": \"" + "x".repeat(70_000) + "\"}}", TOKEN), 413, "larger than");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run")).as("no bad request enqueues").isEqualTo(runsBefore);
    }

    @Test
    void a_wrong_method_gets_405_with_the_allowed_ones() {
        Http.Reply get = http.get("/api/jobs/ok/trigger");
        assertError(get, 405, "not allowed");
        assertThat(get.header("Allow")).isEqualTo("POST");
        Http.Reply put = http.method("PUT", "/api/jobs");
        assertError(put, 405, "not allowed");
        assertThat(put.header("Allow")).isEqualTo("GET, HEAD");
        assertThat(http.method("DELETE", "/metrics").status()).isEqualTo(405);
    }

    private static void assertError(Http.Reply r, int status, String message) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        assertThat(r.json().path("error").asText()).contains(message);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("dev.nightshift.");
    }

    @Test
    void jobs_list_shows_each_job_with_its_last_run() throws Exception {
        long id = trigger("ok", null);
        awaitState(id, "succeeded");
        JsonNode jobs = http.get("/api/jobs").json().path("jobs");
        assertThat(jobs.findValuesAsText("name")).contains("broken", "echo", "ok", "slow");
        JsonNode ok = http.get("/api/jobs/ok").json();
        assertThat(ok.path("description").asText()).isEqualTo("does nothing, well");
        assertThat(ok.path("type").asText()).isEqualTo("sql");
        assertThat(ok.path("paused").asBoolean()).isFalse();
        assertThat(ok.path("lastSuccessAt").isNull()).isFalse();
        assertThat(ok.path("lastRun").path("id").asLong()).isGreaterThanOrEqualTo(id);
    }

    @Test
    void runs_are_listed_newest_first_with_filters_and_pages() throws Exception {
        long a = trigger("ok", null);
        long b = trigger("ok", null);
        long c = trigger("ok", null);
        awaitState(c, "succeeded");
        awaitState(b, "succeeded");
        JsonNode page1 = http.get("/api/runs?job=ok&limit=2").json();
        assertThat(page1.path("runs").findValuesAsText("job")).containsOnly("ok");
        assertThat(page1.path("runs").get(0).path("id").asLong()).isGreaterThanOrEqualTo(c);
        long next = page1.path("nextBefore").asLong();
        JsonNode page2 = http.get("/api/runs?job=ok&limit=2&before=" + next).json();
        assertThat(page2.path("runs").get(0).path("id").asLong()).isLessThan(next);
        assertThat(http.get("/api/runs?job=ok&state=succeeded&limit=1000").json().path("runs").findValuesAsText("state"))
                .containsOnly("succeeded");
        assertThat(http.get("/api/runs?job=ok&limit=1000").json().path("nextBefore").isNull()).isTrue();
        assertThat(http.get("/api/runs?job=ok&limit=1000").json().path("runs").findValuesAsText("id"))
                .contains(Long.toString(a), Long.toString(b), Long.toString(c));
    }

    @Test
    void cancel_stops_a_running_run_and_a_second_cancel_conflicts() throws Exception {
        long id = trigger("slow", null);
        awaitState(id, "running");
        await().atMost(Duration.ofSeconds(10)).until(() -> !http.get("/api/runs/" + id).json().path("backendPid").isNull());
        Http.Reply r = http.post("/api/runs/" + id + "/cancel", null, TOKEN);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("changed").asBoolean()).isTrue();
        JsonNode run = awaitState(id, "cancelled");
        assertThat(run.path("lastError").asText()).isNotBlank();

        Http.Reply again = http.post("/api/runs/" + id + "/cancel", null, TOKEN);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().path("state").asText()).isEqualTo("cancelled");
        assertThat(http.post("/api/runs/99999999/cancel", null, TOKEN).status()).isEqualTo(404);
    }

    @Test
    void retry_gives_a_dead_run_fresh_attempts() throws Exception {
        long id = trigger("broken", null);
        JsonNode dead = awaitState(id, "dead");
        assertThat(dead.path("lastError").asText()).contains("division by zero");
        assertThat(dead.path("lastErrorSqlstate").asText()).isEqualTo("22012");

        Http.Reply r = http.post("/api/runs/" + id + "/retry", null, TOKEN);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("changed").asBoolean()).isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                db.queryLong("SELECT count(*) FROM nightshift.run WHERE id = " + id + " AND state = 'dead' AND attempt = 1 AND finished_at > '"
                        + dead.path("finishedAt").asText() + "'") == 1);
    }

    @Test
    void pause_and_resume_set_the_jobs_paused_flag() throws Exception {
        Http.Reply paused = http.post("/api/jobs/echo/pause", null, TOKEN);
        assertThat(paused.status()).as(paused.body()).isEqualTo(200);
        assertThat(paused.json().path("paused").asBoolean()).isTrue();
        assertThat(db.queryString("SELECT paused FROM nightshift.job WHERE name = 'echo'")).isEqualTo("t");

        Http.Reply resumed = http.post("/api/jobs/echo/resume", null, TOKEN);
        assertThat(resumed.json().path("paused").asBoolean()).isFalse();
        assertThat(db.queryString("SELECT paused FROM nightshift.job WHERE name = 'echo'")).isEqualTo("f");
        assertThat(http.post("/api/jobs/nope/pause", null, TOKEN).status()).isEqualTo(404);
    }
}
