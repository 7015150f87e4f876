package dev.nightshift.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.ConfigException;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A read token guards the dashboard and the API's reads; writes still need the admin token; probes stay open. */
@Tag("database")
class ReadTokenTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String ADMIN = "admin-token-0123456789abcdef";
    static final String READ = "read-token-0123456789abcdef";

    static Http http;

    @BeforeAll
    static void start() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "read-token").sql("ok", "SELECT 1", "description: secret plans\n");
        Daemon daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(),
                Map.of(Setting.ADMIN_TOKEN, ADMIN, Setting.READ_TOKEN, READ))));
        http = new Http(daemon.httpPort());
    }

    private static String basic(String password) {
        return "Basic " + Base64.getEncoder().encodeToString(("ops:" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void reads_without_a_token_or_with_a_wrong_one_are_refused_with_a_challenge_a_browser_answers() {
        for (String path : new String[] {"/", "/api/jobs", "/api/runs", "/api/jobs/ok"}) {
            Http.Reply none = http.get(path, null);
            assertThat(none.status()).as(path).isEqualTo(401);
            assertThat(none.header("WWW-Authenticate")).startsWith("Basic realm=\"nightshift\"");
            assertThat(none.json().path("error").asText()).contains("read token");
            assertThat(none.body()).doesNotContain("secret plans");
            assertThat(http.get(path, "Bearer " + READ + "x").status()).as(path).isEqualTo(401);
            assertThat(http.get(path, basic("wrong-token-0123456789")).status()).as(path).isEqualTo(401);
            assertThat(http.get(path, "Basic %%%").status()).as(path).isEqualTo(401);
        }
    }

    @Test
    void the_read_token_and_the_admin_token_both_read_as_bearer_or_basic() {
        assertThat(http.get("/api/jobs/ok", "Bearer " + READ).json().path("description").asText()).isEqualTo("secret plans");
        assertThat(http.get("/api/jobs", "Bearer " + ADMIN).status()).isEqualTo(200);
        assertThat(http.get("/", basic(READ)).status()).isEqualTo(200);
        assertThat(http.get("/", basic(READ)).body()).contains("ok");
        assertThat(http.get("/api/runs", basic(ADMIN)).status()).isEqualTo(200);
    }

    @Test
    void probes_and_metrics_stay_open_for_kubelets_and_prometheus() {
        assertThat(http.get("/livez", null).status()).isEqualTo(200);
        assertThat(http.get("/readyz", null).status()).isEqualTo(200);
        assertThat(http.get("/metrics", null).status()).isEqualTo(200);
    }

    @Test
    void the_read_token_cannot_write() throws Exception {
        Http.Reply r = http.post("/api/jobs/ok/trigger", "{}", READ);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().path("error").asText()).isEqualTo("'read' has the role read: it cannot change anything");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run")).isZero();
        assertThat(http.post("/api/jobs/ok/trigger", "{}", ADMIN).status()).isEqualTo(201);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run")).isEqualTo(1);
        assertThat(db.queryString("SELECT actor FROM nightshift.run")).as("the single admin token's actor").isEqualTo("admin");
        assertThat(db.queryString("SELECT actor || ' ' || role || ' ' || action FROM nightshift.audit")).isEqualTo("admin admin trigger");
    }

    @Test
    void a_read_token_that_is_short_or_the_admin_token_is_refused_at_start_and_masked_in_the_log_line() {
        assertThatThrownBy(() -> db.settings(db.tempDir(), Map.of(Setting.ADMIN_TOKEN, ADMIN, Setting.READ_TOKEN, ADMIN)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("read_token must differ from admin_token");
        assertThatThrownBy(() -> db.settings(db.tempDir(), Map.of(Setting.READ_TOKEN, "short")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("read_token must be at least 16 characters");
        assertThat(db.settings(db.tempDir(), Map.of(Setting.READ_TOKEN, READ)).describe())
                .containsEntry("read_token", "****").doesNotContainValue(READ);
    }
}
