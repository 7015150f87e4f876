package dev.nightshift.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Secrets planted in the configuration (the database password, the admin, read and named tokens) never show: not in
 * the log, not in what the CLI prints, not in the API's answers, the dashboard, the metrics, nor in
 * error messages, also when the password is written into the JDBC URL.
 */
@Tag("database")
class SecretsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final String TOKEN = "planted-admin-token-5c1d9e";
    private static final String READ = "planted-read-token-9b4e1f";
    private static final String PASSWORD = "planted-db-password-7f3a2b";
    private static final String NAMED = "planted-named-token-2e8c6d";
    /** Secrets a job's own output may carry: a parameter, a password in a connection string, a webhook URL's token. */
    private static final String PARAM = "planted-param-secret-8a1f3c";
    private static final String CONN = "planted-conn-password-6b9d0e";
    private static final String HOOK = "planted-webhook-token-4d2a71";

    @RegisterExtension
    final JsonLogCapture log = new JsonLogCapture();

    @Test
    void planted_password_and_token_appear_in_no_log_output_answer_or_error() throws Exception {
        // The test server trusts local connections, so any password is accepted and none is checked.
        String password = db.env().getOrDefault("NIGHTSHIFT_DB_PASSWORD", PASSWORD);
        JobsDir jobs = new JobsDir(db.tempDir(), "secrets").sql("ok", "SELECT 1", null).sql("broken", "SELECT 1 / 0",
                "max_attempts: 1\nnotify: [\"https://hooks.example.invalid/services/T01/B02/" + HOOK + "\"]\n")
                .sql("leaky", """
                        DO $$ BEGIN
                          RAISE NOTICE 'signing in with password=%%', current_setting('nightshift.param.password');
                          RAISE NOTICE 'source: host=db.internal user=etl password=%s dbname=app';
                          RAISE NOTICE 'jdbc:postgresql://db.internal/app?user=etl&password=%s and postgres://etl:%s@db.internal/app';
                          RAISE NOTICE 'posting to https://hooks.slack.com/services/T01/B02/%s';
                          RAISE NOTICE 'the database password is %%', '%s';
                        END $$""".formatted(CONN, CONN, CONN, HOOK, password), null);
        Map<String, String> env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", jobs.path().toString());
        env.put("NIGHTSHIFT_DB_PASSWORD", password);
        env.put("NIGHTSHIFT_ADMIN_TOKEN", TOKEN);
        env.put("NIGHTSHIFT_READ_TOKEN", READ);
        java.nio.file.Path tokens = db.tempDir().resolve("secrets-tokens");
        java.nio.file.Files.writeString(tokens, "ops-bot operator " + java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(NAMED.getBytes(StandardCharsets.UTF_8))) + "\n");
        env.put("NIGHTSHIFT_TOKENS_FILE", tokens.toString());
        log.start("secrets-node");
        List<String> seen = new ArrayList<>();
        // what is a log: the daemon's, the runs' (API, page, table, CLI); a parameter's value is echoed elsewhere as given
        List<String> logs = new ArrayList<>();

        Settings s = db.settings(jobs.path(), Map.of(Setting.DB_PASSWORD, password, Setting.ADMIN_TOKEN, TOKEN,
                Setting.READ_TOKEN, READ, Setting.TOKENS_FILE, tokens.toString()));
        try (Daemon d = Daemon.start(s)) {
            Http http = new Http(d.httpPort());
            seen.add(http.post("/api/jobs/ok/trigger", "{\"params\": {\"v\": \"1\"}}", TOKEN).body());
            seen.add(http.post("/api/jobs/broken/trigger", null, TOKEN).body());
            seen.add(http.post("/api/jobs/leaky/trigger", "{\"params\": {\"password\": \"" + PARAM + "\"}}", TOKEN).body());
            seen.add(http.post("/api/jobs/ok/trigger", null, TOKEN + "-wrong").body());
            seen.add(http.post("/api/jobs/ok/trigger", null, NAMED).body());
            seen.add(http.get("/api/audit", "Bearer " + NAMED).body());
            seen.add(http.get("/audit", "Bearer " + NAMED).body());
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    db.queryLong("SELECT count(*) FROM nightshift.run WHERE state IN ('succeeded', 'dead')") == 4);
            long leaky = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'leaky'");
            await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/api/runs/" + leaky + "/log", "Bearer " + READ).body()
                    .contains("succeeded"));
            String runLog = http.get("/api/runs/" + leaky + "/log", "Bearer " + READ).body();
            assertThat(runLog).as("the run's log has the notices, masked").contains("signing in with password=****")
                    .contains("user=etl password=****").contains("https://hooks.slack.com/…").contains("etl:****@db.internal");
            logs.add(runLog);
            String page = http.get("/runs/" + leaky, "Bearer " + READ).body();
            logs.add(page.substring(page.indexOf("id=\"run-log-section\"")));
            long dead = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'broken'");
            for (String path : List.of("/api/jobs", "/api/jobs/ok", "/api/runs", "/api/runs/" + dead, "/metrics", "/readyz", "/",
                    "/runs/" + dead)) {
                seen.add(http.get(path, "Bearer " + READ).body());
            }
            seen.add(http.get("/api/jobs", "Bearer " + READ + "-wrong").body());
        }
        // Before the CLI runs below, which set up logging their own way.
        String daemonLog = log.text();
        long dead = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'broken'");
        long leaky = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'leaky'");
        logs.add(String.join("\n", db.rows("SELECT text FROM nightshift.run_log")));
        for (String[] args : List.of(new String[] {"runs"}, new String[] {"show", Long.toString(dead)}, new String[] {"jobs"},
                new String[] {"runs", "--json"}, new String[] {"audit"}, new String[] {"audit", "--json"})) {
            Cli.Result r = Cli.run(env, args);
            seen.add(r.out());
            seen.add(r.err());
        }
        // A database that cannot be reached, with the password inside the URL: the error names the
        // server, never the password.
        Map<String, String> unreachable = new HashMap<>(env);
        unreachable.put("NIGHTSHIFT_DB_URL", "jdbc:postgresql://127.0.0.1:1/nowhere?password=" + password + "&connectTimeout=2");
        Cli.Result r = Cli.run(unreachable, "runs");
        assertThat(r.exitCode()).isNotZero();
        seen.add(r.out());
        seen.add(r.err());
        logs.add(daemonLog);
        for (String[] args : List.<String[]>of(new String[] {"logs", Long.toString(leaky)}, new String[] {"logs", Long.toString(leaky), "--json"},
                new String[] {"logs", Long.toString(dead)})) {
            Cli.Result l = Cli.run(env, args);
            assertThat(l.exitCode()).as(l.err()).isZero();
            logs.add(l.out());
            logs.add(l.err());
        }
        assertThat(logs.get(logs.size() - 2)).contains("division by zero");
        seen.addAll(logs);

        assertThat(daemonLog).as("the daemon's log was captured").contains("division by zero");
        assertThat(seen).anySatisfy(text -> assertThat(text).contains("ops-bot"));
        assertThat(seen).allSatisfy(text -> assertThat(text).doesNotContain(password).doesNotContain(TOKEN)
                .doesNotContain(READ).doesNotContain(NAMED));
        assertThat(logs).allSatisfy(text -> assertThat(text).doesNotContain(PARAM).doesNotContain(CONN).doesNotContain(HOOK));
    }
}
