package dev.nightshift.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The job page and the runs list: an operator finds a job's failed runs by state, a page at a
 * time, sees the job's settings (overlap, guards, notify targets without their secrets) and the
 * tail of its last run's log; bad filters are a 400 that says what is wrong.
 */
@Tag("database")
class JobPageTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String TOKEN = "jobpage-admin-token-0123456789";
    static final String HOOK_TOKEN = "planted-hook-token-77c1";

    static Http http;
    static final List<Long> dead = new ArrayList<>();
    static final List<Long> succeeded = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        db.execute("CREATE TABLE sales (region text, amount int); CREATE TABLE by_region (region text PRIMARY KEY, total bigint)");
        JobsDir jobs = new JobsDir(db.tempDir(), "jobpage")
                .sql("nightly-import", """
                        DO $$ BEGIN
                          IF current_setting('nightshift.param.fail', true) = '1' THEN RAISE EXCEPTION 'bad delivery'; END IF;
                          RAISE NOTICE 'imported fine';
                        END $$""", "max_attempts: 1\nschedule:\n  cron: \"0 0 3 * * ?\"\n  overlap: skip\n"
                        + "notify: [\"https://hooks.example.invalid/services/T1/B2/" + HOOK_TOKEN + "\"]\n")
                .sql("other", "SELECT 1", null)
                .file("summary.yaml", """
                        name: summary
                        type: rebuild-summary
                        params:
                          target: public.by_region
                          key: [region]
                          query: SELECT region, sum(amount) AS total FROM sales GROUP BY region
                          guards:
                            min_rows: 10
                            max_delete: 5%
                        """);
        Daemon daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN))));
        http = new Http(daemon.httpPort());
        for (String fail : List.of("0", "1", "0", "1", "0")) {
            long id = http.post("/api/jobs/nightly-import/trigger", "{\"params\": {\"fail\": \"" + fail + "\"}}", TOKEN).json()
                    .path("run").path("id").asLong();
            String end = fail.equals("1") ? "dead" : "succeeded";
            await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/api/runs/" + id).json().path("state").asText().equals(end));
            (fail.equals("1") ? dead : succeeded).add(id);
        }
        long other = http.post("/api/jobs/other/trigger", null, TOKEN).json().path("run").path("id").asLong();
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/api/runs/" + other).json().path("state").asText().equals("succeeded"));
    }

    private static List<Long> rows(String html) {
        List<Long> ids = new ArrayList<>();
        Matcher m = Pattern.compile("<tr data-run=\"(\\d+)\"").matcher(html);
        while (m.find()) {
            ids.add(Long.parseLong(m.group(1)));
        }
        return ids;
    }

    private static List<Long> newestFirst(List<Long> ids) {
        return ids.stream().sorted((a, b) -> Long.compare(b, a)).toList();
    }

    @Test
    void a_job_page_shows_its_settings_runs_periods_and_its_last_runs_log() {
        Http.Reply r = http.get("/jobs/nightly-import");
        assertThat(r.status()).isEqualTo(200);
        String page = r.body();
        assertThat(page).contains("<span id=\"job-overlap\">skip</span>").contains("0 0 3 * * ?")
                .contains("https://hooks.example.invalid/…").doesNotContain(HOOK_TOKEN).contains("id=\"job-periods\"");
        List<Long> all = new ArrayList<>(dead);
        all.addAll(succeeded);
        assertThat(rows(page)).isEqualTo(newestFirst(all));
        // the last run succeeded: its log's tail is on the page
        assertThat(page).contains("id=\"job-log-tail\"").contains("imported fine").contains("/runs/" + succeeded.get(2));

        String summary = http.get("/jobs/summary").body();
        assertThat(summary).contains("<span id=\"job-guards\">min_rows 10 · max_delete 5%</span>").contains("on trigger only");
    }

    @Test
    void the_state_filter_and_the_pages_find_a_jobs_dead_runs() {
        assertThat(rows(http.get("/jobs/nightly-import?state=dead").body())).isEqualTo(newestFirst(dead));
        assertThat(rows(http.get("/jobs/nightly-import?state=succeeded").body())).isEqualTo(newestFirst(succeeded));
        assertThat(rows(http.get("/jobs/nightly-import?state=running").body())).isEmpty();

        String first = http.get("/jobs/nightly-import?state=dead&limit=1").body();
        assertThat(rows(first)).containsExactly(dead.get(1));
        Matcher older = Pattern.compile("id=\"older\" href=\"([^\"]+)\"").matcher(first);
        assertThat(older.find()).isTrue();
        String next = http.get(older.group(1).replace("&amp;", "&")).body();
        assertThat(rows(next)).containsExactly(dead.get(0));
        assertThat(next).doesNotContain("id=\"older\"");
    }

    @Test
    void the_runs_list_filters_by_job_and_state() {
        assertThat(rows(http.get("/runs?job=nightly-import&state=dead").body())).isEqualTo(newestFirst(dead));
        assertThat(rows(http.get("/runs?job=other").body())).hasSize(1);
        assertThat(rows(http.get("/runs?state=succeeded").body())).hasSize(succeeded.size() + 1);
        assertThat(rows(http.get("/runs").body())).hasSize(6);
        assertThat(http.get("/").body()).contains("href=\"/jobs/nightly-import\"").contains("href=\"/runs\"");
    }

    @Test
    void bad_filters_are_a_400_saying_what_is_wrong_and_an_unknown_job_a_404() {
        Map<String, String> bad = Map.of(
                "/runs?state=failed", "state must be one of available, running, succeeded, dead, cancelled; got 'failed'",
                "/runs?before=yesterday", "before must be a whole number from 1 to",
                "/runs?limit=0", "limit must be a whole number from 1 to 500",
                "/runs?limit=501", "limit must be a whole number from 1 to 500",
                "/runs?job=Nightly_Import", "job must be a job name",
                "/jobs/nightly-import?state=zzz", "state must be one of",
                "/jobs/nightly-import?job=other", "job is this page's own");
        bad.forEach((path, message) -> {
            Http.Reply r = http.get(path);
            assertThat(r.status()).as(path).isEqualTo(400);
            assertThat(r.json().path("error").asText()).as(path).startsWith(message);
        });
        assertThat(http.get("/jobs/no-such-job").status()).isEqualTo(404);
    }
}
