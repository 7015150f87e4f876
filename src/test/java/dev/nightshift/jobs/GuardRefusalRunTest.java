package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A guard's refusal through a daemon: the run ends dead at its first attempt with the verdict in its
 * counts, in {@code show}, on the run page and in the metric; an operator passes it through with
 * {@code --override-guards} (CLI), {@code "override_guards": true} (HTTP) or the run page's button.
 */
@Tag("database")
class GuardRefusalRunTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final String TOKEN = "guard-token-0123456789";

    @Test
    void a_refused_delivery_ends_dead_with_its_verdict_and_an_override_applies_it() throws Exception {
        ImportFixture f = new ImportFixture(db, "partner");
        f.file("delivery.csv", GuardsTest.artists(1, 2_000));
        JobsDir jobs = new JobsDir(db.tempDir(), "guard-jobs").file("partner.yaml", "name: partner\ntype: batch-import\n"
                + "max_attempts: 3\nparams:\n  source: " + f.dir.resolve("delivery.csv") + "\n  target: " + f.table + "\n"
                + "  key: [constituent_id]\n  mode: mirror\n  guards: {max_delete: 5%}\n"
                + "  columns: {ConstituentID: constituent_id, DisplayName: name, Nationality: nationality, Gender: gender,"
                + " BeginDate: begin_year, EndDate: end_year}\n");
        Daemon daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN))));
        Http http = new Http(daemon.httpPort());
        String jobsDir = jobs.path().toString();
        assertThat(Cli.run(db.env(), "trigger", "partner", "--jobs-dir", jobsDir, "--wait").exitCode()).isZero();
        List<String> before = f.dump();

        f.file("delivery.csv", GuardsTest.artists(1, 1));
        Cli.Result refused = Cli.run(db.env(), "trigger", "partner", "--jobs-dir", jobsDir, "--wait");
        assertThat(refused.exitCode()).as(refused.out() + refused.err()).isEqualTo(1);
        assertThat(refused.out()).contains("dead: guard max_delete: the file delivery.csv would delete 1,999 of 2,000 rows (99.95%),"
                + " limit 5%");
        assertThat(f.dump()).isEqualTo(before);
        long dead = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'partner'");
        assertThat(db.rows("SELECT state, attempt, counts->>'guard', counts->>'guard_limit', counts->>'deleted', counts->>'target_rows'"
                + " FROM nightshift.run WHERE id = " + dead)).containsExactly("dead|1|max_delete|5%|1999|2000");

        Cli.Result show = Cli.run(db.env(), "show", Long.toString(dead));
        assertThat(show.out()).contains("guard:", "refused by max_delete (limit 5%); target unchanged",
                "nightshift trigger partner --override-guards");
        assertThat(http.get("/metrics").body())
                .contains("nightshift_guard_refusals_total{guard=\"max_delete\",job_name=\"partner\"} 1.0");
        String page = http.get("/runs/" + dead).body();
        assertThat(page).contains("id=\"run-guard\"", "refused by guard <code>max_delete</code>",
                "data-post=\"/api/runs/" + dead + "/override-guards\"");

        // The parameter is reserved: only the flag sets it, with the caller as actor.
        Cli.Result reserved = Cli.run(db.env(), "trigger", "partner", "--jobs-dir", jobsDir, "--param", "override_guards=bob");
        assertThat(reserved.exitCode()).isEqualTo(2);
        assertThat(reserved.err()).contains("param override_guards: reserved; use trigger --override-guards");
        assertThat(http.post("/api/jobs/partner/trigger", "{\"override_guards\": \"yes\"}", TOKEN).status()).isEqualTo(400);
        assertThat(http.post("/api/runs/" + dead + "/override-guards", "", null).status()).isEqualTo(401);

        // The run page's button: a new run of the dead one's delivery, once however often pressed.
        Http.Reply again = http.post("/api/runs/" + dead + "/override-guards", "", TOKEN);
        assertThat(again.status()).as(again.body()).isEqualTo(201);
        long overridden = again.json().path("run").path("id").asLong();
        assertThat(again.json().path("run").path("params").path("override_guards").asText()).isEqualTo("admin");
        assertThat(http.post("/api/runs/" + dead + "/override-guards", "", TOKEN).json().path("run").path("id").asLong())
                .isEqualTo(overridden);
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryString("SELECT state FROM nightshift.run WHERE id = " + overridden),
                "succeeded"::equals);
        assertThat(db.queryString("SELECT counts->>'guards_overridden' FROM nightshift.run WHERE id = " + overridden)).isEqualTo("1");
        assertThat(db.queryLong("SELECT count(*) FROM " + f.table)).isEqualTo(1);
        assertThat(Cli.run(db.env(), "show", Long.toString(overridden)).out()).contains("guards:", "overridden by admin");
        assertThat(http.get("/runs/" + overridden).body()).contains("Guards overridden by <b>admin</b>");
        assertThat(http.post("/api/runs/" + overridden + "/override-guards", "", TOKEN).status()).isEqualTo(409);

        // The CLI flag and the HTTP field do the same for a new delivery.
        f.file("delivery.csv", GuardsTest.artists(1, 2_000));
        assertThat(Cli.run(db.env(), "trigger", "partner", "--jobs-dir", jobsDir, "--wait").exitCode()).isZero();
        f.file("delivery.csv", GuardsTest.artists(1, 10));
        Cli.Result flag = Cli.run(db.env(), "trigger", "partner", "--jobs-dir", jobsDir, "--override-guards", "--wait");
        assertThat(flag.exitCode()).as(flag.out() + flag.err()).isZero();
        assertThat(flag.out()).contains("deleted=1990", "guards_overridden=1");
        f.file("delivery.csv", GuardsTest.artists(1, 2_000));
        assertThat(Cli.run(db.env(), "trigger", "partner", "--jobs-dir", jobsDir, "--wait").exitCode()).isZero();
        f.file("delivery.csv", GuardsTest.artists(1, 20));
        Http.Reply field = http.post("/api/jobs/partner/trigger", "{\"override_guards\": true}", TOKEN);
        assertThat(field.status()).isEqualTo(201);
        long viaHttp = field.json().path("run").path("id").asLong();
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryString("SELECT state FROM nightshift.run WHERE id = " + viaHttp),
                "succeeded"::equals);
        assertThat(db.queryLong("SELECT count(*) FROM " + f.table)).isEqualTo(20);
    }
}
