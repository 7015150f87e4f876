package dev.nightshift.runlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.queue.Maintenance;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Per-run logs on a real daemon: what the job's statements said and did, over every attempt (a
 * rolled-back attempt keeps its lines), the cap, following a running run from the CLI, paging
 * through the HTTP API, and the prune.
 */
@Tag("database")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RunLogTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String TOKEN = "test-admin-token-runlog-0123";

    static Daemon daemon;
    static Http http;
    static Map<String, String> env;

    @BeforeAll
    static void start() throws Exception {
        db.execute("CREATE TABLE landed (n int); CREATE TABLE partner (id int PRIMARY KEY, name text)");
        java.nio.file.Path csv = db.tempDir().resolve("partner.csv");
        java.nio.file.Files.writeString(csv, "id,name\n1,ada\n2,grace\n3,edsger\n");
        JobsDir jobs = new JobsDir(db.tempDir(), "runlog")
                .sql("flaky", """
                        DO $$ BEGIN RAISE NOTICE 'hello from attempt %', current_setting('nightshift.attempt'); END $$;
                        INSERT INTO landed SELECT generate_series(1, 3);
                        DO $$ BEGIN
                          IF current_setting('nightshift.attempt') = '1' THEN RAISE EXCEPTION 'the first attempt fails on purpose'; END IF;
                        END $$""", "max_attempts: 2\nbackoff: 1s\n")
                .sql("chatty", "DO $$ BEGIN FOR i IN 1..12000 LOOP RAISE NOTICE 'line %', i; END LOOP; END $$", null)
                .sql("wide", "DO $$ BEGIN FOR i IN 1..200 LOOP RAISE NOTICE '% %', i, repeat('x', 8000); END LOOP; END $$", null)
                .sql("slow", """
                        DO $$ BEGIN RAISE NOTICE 'first words'; END $$;
                        SELECT pg_sleep(3);
                        DO $$ BEGIN RAISE NOTICE 'last words'; END $$""", "max_attempts: 1\n")
                .file("partner.yaml", "name: partner\ntype: batch-import\nparams:\n  source: " + csv + "\n  target: public.partner\n"
                        + "  key: [id]\n  mode: mirror\n  guards: {min_rows: 2}\n")
                .sql("doomed", "DO $$ BEGIN RAISE NOTICE 'about to fail'; PERFORM 1 / 0; END $$", "max_attempts: 1\n");
        daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN))));
        http = new Http(daemon.httpPort());
        env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", jobs.path().toString());
    }

    private static long trigger(String job) {
        Http.Reply r = http.post("/api/jobs/" + job + "/trigger", null, TOKEN);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("run").path("id").asLong();
    }

    private static void awaitState(long run, String state) {
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/api/runs/" + run).json().path("state").asText().equals(state));
    }

    /** The run's whole log through the API, once its last lines are in (the writer flushes every 0.2 s). */
    private static List<JsonNode> lines(long run, String lastText) {
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> allLines(run).stream().anyMatch(l -> l.path("text").asText().contains(lastText)));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no line with '" + lastText + "' in the log of run " + run + ": " + allLines(run), e);
        }
        return allLines(run);
    }

    private static List<JsonNode> allLines(long run) {
        List<JsonNode> out = new ArrayList<>();
        long after = 0;
        while (true) {
            JsonNode body = http.get("/api/runs/" + run + "/log?after=" + after + "&limit=5000").json();
            body.path("lines").forEach(out::add);
            if (body.path("lines").size() < 5000) {
                return out;
            }
            after = body.path("next").asLong();
        }
    }

    private static List<String> texts(List<JsonNode> lines, int attempt) {
        return lines.stream().filter(l -> l.path("attempt").asInt() == attempt).map(l -> l.path("level").asText() + " " + l.path("text").asText())
                .toList();
    }

    @Test
    @Order(1)
    void a_failed_and_retried_attempt_keeps_its_lines_beside_the_successful_ones() throws Exception {
        long run = trigger("flaky");
        awaitState(run, "succeeded");
        List<JsonNode> lines = lines(run, "succeeded");

        List<String> first = texts(lines, 1);
        assertThat(first).anySatisfy(t -> assertThat(t).isEqualTo("NOTICE hello from attempt 1"));
        assertThat(first).anySatisfy(t -> assertThat(t).startsWith("INFO sql statement 2 (line 2): INSERT, 3 rows, "));
        assertThat(first).anySatisfy(t -> assertThat(t).startsWith("ERROR sql statement 3 (line 3): DO failed after")
                .contains("SQLSTATE P0001").contains("the first attempt fails on purpose"));
        assertThat(first).anySatisfy(t -> assertThat(t).startsWith("WARNING run " + run + " of job flaky failed (attempt 1/2, SQLSTATE P0001), retry at"));
        List<String> second = texts(lines, 2);
        assertThat(second).anySatisfy(t -> assertThat(t).isEqualTo("NOTICE hello from attempt 2"));
        assertThat(second).anySatisfy(t -> assertThat(t).startsWith("INFO run " + run + " of job flaky succeeded in"));
        // attempt 1's INSERT rolled back; its log lines did not
        assertThat(db.queryLong("SELECT count(*) FROM landed")).isEqualTo(3);
        assertThat(lines).extracting(l -> l.path("seq").asLong()).isSorted();
        assertThat(lines.get(0).path("attempt").asInt()).isEqualTo(1);
        assertThat(lines.get(lines.size() - 1).path("attempt").asInt()).isEqualTo(2);
    }

    @Test
    @Order(2)
    void a_log_is_capped_at_10000_lines_and_says_so_as_its_last_line() throws Exception {
        long run = trigger("chatty");
        awaitState(run, "succeeded");
        List<JsonNode> lines = lines(run, "log capped:");
        Thread.sleep(500);   // lines the cap dropped would come within a flush: none may follow
        lines = allLines(run);
        assertThat(lines).hasSize(RunLogWriter.DEFAULT_MAX_LINES + 1);
        JsonNode last = lines.get(lines.size() - 1);
        assertThat(last.path("level").asText()).isEqualTo("WARNING");
        assertThat(last.path("text").asText()).startsWith("log capped: a run's log keeps at most 10000 lines and 1048576 bytes");
        assertThat(lines.get(lines.size() - 2).path("text").asText()).isEqualTo("line 9999");   // after the run's first line
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run_log WHERE run_id = " + run)).isEqualTo(10_001);
    }

    @Test
    @Order(3)
    void a_log_is_capped_at_one_mebibyte_too() throws Exception {
        long run = trigger("wide");
        awaitState(run, "succeeded");
        List<JsonNode> lines = lines(run, "log capped:");
        assertThat(lines.get(lines.size() - 1).path("text").asText()).startsWith("log capped:");
        long bytes = db.queryLong("SELECT sum(octet_length(text)) FROM nightshift.run_log WHERE run_id = " + run
                + " AND text NOT LIKE 'log capped:%'");
        assertThat(bytes).isLessThanOrEqualTo(RunLogWriter.DEFAULT_MAX_BYTES).isGreaterThan(RunLogWriter.DEFAULT_MAX_BYTES - 8_200);
        assertThat(lines.size()).isLessThan(200);
    }

    @Test
    @Order(4)
    void logs_follow_prints_a_running_runs_lines_as_they_come_and_ends_with_the_run() throws Exception {
        long run = trigger("slow");
        await().atMost(Duration.ofSeconds(20)).until(() -> allLines(run).stream().anyMatch(l -> l.path("text").asText().equals("first words")));
        assertThat(http.get("/api/runs/" + run).json().path("state").asText()).isEqualTo("running");

        Cli.Result r = Cli.run(env, "logs", Long.toString(run), "--follow");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(http.get("/api/runs/" + run).json().path("state").asText()).isEqualTo("succeeded");
        String out = r.out();
        assertThat(out).contains("NOTICE  [1] first words").contains("NOTICE  [1] last words").contains("SELECT, returned rows");
        assertThat(out.indexOf("first words")).isLessThan(out.indexOf("last words"));
        assertThat(out).contains("sql statement 3 (line 3): DO, 0 rows");
        assertThat(out.lines().count()).isEqualTo(allLines(run).size());
    }

    @Test
    @Order(5)
    void logs_follow_of_a_dead_run_exits_1_and_logs_of_an_unknown_run_exits_2() {
        long run = trigger("doomed");
        awaitState(run, "dead");
        Cli.Result r = Cli.run(env, "logs", Long.toString(run), "--follow");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("NOTICE  [1] about to fail").contains("division by zero");

        Cli.Result json = Cli.run(env, "logs", Long.toString(run), "--json");
        assertThat(json.exitCode()).isZero();
        assertThat(json.out().lines().findFirst().orElseThrow()).startsWith("{\"seq\":").contains("\"level\":").contains("\"text\":");

        Cli.Result unknown = Cli.run(env, "logs", "999999");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("no run 999999");
        assertThat(Cli.run(env, "logs", "abc").exitCode()).isEqualTo(2);
    }

    @Test
    @Order(5)
    void an_imports_log_has_its_phases_counts_and_the_guards_verdict() throws Exception {
        db.execute("INSERT INTO public.partner VALUES (1, 'ada'), (9, 'gone')");
        long run = trigger("partner");
        awaitState(run, "succeeded");
        List<String> lines = texts(lines(run, "succeeded"), 1);
        assertThat(lines).anySatisfy(t -> assertThat(t).matches("INFO partner\\.csv: reading 3\\d bytes into public\\.partner \\(mode mirror\\)"));
        assertThat(lines).anySatisfy(t -> assertThat(t).matches("INFO partner\\.csv: read 3 rows, staged in \\d+ ms"));
        assertThat(lines).anySatisfy(t -> assertThat(t).matches(
                "INFO partner\\.csv: merged into public\\.partner in \\d+ ms: inserted 2, updated 0, unchanged 1, deleted 1"));
        assertThat(lines).anySatisfy(t -> assertThat(t).startsWith("INFO guards passed for public.partner (the file partner.csv: 3 rows read"));
    }

    @Test
    @Order(6)
    void the_api_pages_a_log_with_after_and_limit_and_refuses_bad_input() throws Exception {
        long run = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'flaky'");
        List<JsonNode> all = allLines(run);
        assertThat(all.size()).isGreaterThan(5);

        JsonNode page1 = http.get("/api/runs/" + run + "/log?limit=2").json();
        assertThat(page1.path("run").asLong()).isEqualTo(run);
        assertThat(page1.path("state").asText()).isEqualTo("succeeded");
        assertThat(page1.path("lines")).hasSize(2);
        assertThat(page1.path("next").asLong()).isEqualTo(all.get(1).path("seq").asLong());
        JsonNode rest = http.get("/api/runs/" + run + "/log?after=" + page1.path("next").asLong()).json();
        assertThat(rest.path("lines")).hasSize(all.size() - 2);
        assertThat(rest.path("lines").get(0).path("seq").asLong()).isEqualTo(all.get(2).path("seq").asLong());
        assertThat(rest.path("lines").get(0).path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        JsonNode end = http.get("/api/runs/" + run + "/log?after=" + rest.path("next").asLong()).json();
        assertThat(end.path("lines")).isEmpty();
        assertThat(end.path("next").asLong()).isEqualTo(rest.path("next").asLong());

        assertThat(http.get("/api/runs/999999/log").status()).isEqualTo(404);
        for (String bad : List.of("abc", "-1", "1.5", "99999999999999999999")) {
            Http.Reply r = http.get("/api/runs/" + run + "/log?after=" + bad);
            assertThat(r.status()).as(bad).isEqualTo(400);
            assertThat(r.json().path("error").asText()).startsWith("after must be a whole number from 0 to");
        }
        assertThat(http.get("/api/runs/" + run + "/log?limit=0").status()).isEqualTo(400);
        assertThat(http.get("/api/runs/" + run + "/log?limit=10001").status()).isEqualTo(400);
    }

    @Test
    @Order(7)
    void the_run_page_shows_the_log_and_follows_it_only_while_the_run_runs() throws Exception {
        long run = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'flaky'");
        String page = http.get("/runs/" + run).body();
        assertThat(page).contains("id=\"run-log\"").contains("data-live=\"false\"").contains("hello from attempt 2")
                .contains("<a href=\"/jobs/flaky\">flaky</a>");
    }

    @Test
    @Order(8)
    void the_prune_deletes_the_logs_of_pruned_runs_and_keeps_the_others() throws Exception {
        long dead = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'doomed'");
        long kept = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'flaky'");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run_log WHERE run_id = " + dead)).isPositive();
        new Maintenance(db.dataSource(), "test").prune(Duration.ZERO);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE id = " + dead)).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run_log WHERE run_id = " + dead)).isZero();
        // the job's newest success outlives the retention, and so does its log
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run_log WHERE run_id = " + kept)).isPositive();
    }
}
