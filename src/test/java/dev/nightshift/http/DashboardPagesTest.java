package dev.nightshift.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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

/** The dashboard's pages over plain HTTP (the browser test covers the script). */
@Tag("database")
class DashboardPagesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String TOKEN = "pages-admin-token-0123456789";
    static final String EVIL = "<img src=x onerror=alert(1)>";

    static Http http;

    @BeforeAll
    static void start() {
        JobsDir jobs = new JobsDir(db.tempDir(), "pages")
                .sql("shouty", "SELECT 1 / (length(current_setting('nightshift.param.v')) - length(current_setting('nightshift.param.v')))",
                        "max_attempts: 1\n");
        Daemon daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN))));
        http = new Http(daemon.httpPort());
    }

    @Test
    void overview_is_html_with_a_strict_content_security_policy() {
        Http.Reply r = http.get("/");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertThat(r.header("Content-Security-Policy")).contains("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'");
        assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(r.body()).contains("shouty", "id=\"jobs\"", "id=\"running\"", "id=\"failures\"", "/static/dashboard.js");
        assertThat(r.body()).doesNotContain("<script>").doesNotContain("style=\"");
    }

    @Test
    void run_page_escapes_parameters_and_errors() {
        Http.Reply t = http.post("/api/jobs/shouty/trigger", "{\"params\": {\"v\": \"" + EVIL + "\"}}", TOKEN);
        long id = t.json().path("run").path("id").asLong();
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/api/runs/" + id).json().path("state").asText().equals("dead"));

        String page = http.get("/runs/" + id).body();
        assertThat(page).contains("&lt;img src=x onerror=alert(1)&gt;").doesNotContain(EVIL);
        assertThat(page).contains("division by zero").contains("SQLSTATE 22012");
        assertThat(http.get("/").body()).contains("id=\"failures\"").contains("/runs/" + id);
    }

    @Test
    void assets_are_served_from_the_jar_and_unknown_pages_are_404() {
        Http.Reply css = http.get("/static/dashboard.css");
        assertThat(css.status()).isEqualTo(200);
        assertThat(css.header("Content-Type")).startsWith("text/css");
        assertThat(http.get("/static/dashboard.js").header("Content-Type")).startsWith("text/javascript");
        assertThat(http.get("/static/other.js").status()).isEqualTo(404);
        assertThat(http.get("/runs/99999999").status()).isEqualTo(404);
        assertThat(http.get("/nothing").status()).isEqualTo(404);
    }

    @Test
    void head_answers_like_get_without_a_body() {
        Http.Reply r = http.method("HEAD", "/livez");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
    }
}
