package dev.nightshift.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 15's sweep of bad inputs, as a hostile or careless user would send them: job files,
 * command-line arguments, environment values and HTTP requests. For each: the exit code or HTTP
 * status, a message naming the problem, and the database unchanged (no job, no run, no backfill
 * row more or less). The CSV side is {@code jobs.BadCsvSweepTest}. The table of these cases is in
 * {@code src/site/markdown/bad-input.md}.
 */
@Tag("database")
class BadInputSweepTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String TOKEN = "sweep-admin-token-0123456789";

    static JobsDir good;
    static Daemon daemon;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        good = new JobsDir(db.tempDir(), "good").sql("ok", "SELECT 1", null);
        daemon = db.closeAfterAll(Daemon.start(db.settings(good.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN))));
        http = new Http(daemon.httpPort());
    }

    private static Map<String, String> env(JobsDir jobs) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", jobs.path().toString());
        return env;
    }

    /** Every row count a bad input could change. */
    private static List<Long> state() throws Exception {
        return List.of(db.queryLong("SELECT count(*) FROM nightshift.job"), db.queryLong("SELECT count(*) FROM nightshift.run"),
                db.queryLong("SELECT coalesce(sum(xmin::text::bigint), 0) FROM nightshift.job"));
    }

    /** One bad job file in an otherwise empty catalog: validate exits 2 naming file and line. */
    private static void yaml(SoftAssertions soft, String file, String text, String expected) throws Exception {
        yaml(soft, file, text.getBytes(StandardCharsets.UTF_8), expected);
    }

    private static void yaml(SoftAssertions soft, String file, byte[] bytes, String expected) throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "yaml-" + file.replace('.', '-'));
        Files.write(jobs.path().resolve(file), bytes);
        List<Long> before = state();
        for (String command : List.of("validate", "sync")) {
            Cli.Result r = Cli.run(env(jobs), command);
            soft.assertThat(r.exitCode()).as(file + " " + command + ": " + r.err()).isEqualTo(2);
            soft.assertThat(r.err()).as(file + " " + command).contains(jobs.path().resolve(file) + ":").contains(expected);
        }
        soft.assertThat(state()).as(file + ": nothing written").isEqualTo(before);
    }

    private static void cli(SoftAssertions soft, Map<String, String> env, String expected, String... args) throws Exception {
        List<Long> before = state();
        Cli.Result r = Cli.run(env, args);
        soft.assertThat(r.exitCode()).as(String.join(" ", args) + ": " + r.err()).isEqualTo(2);
        soft.assertThat(r.err()).as(String.join(" ", args)).contains(expected);
        soft.assertThat(state()).as(String.join(" ", args) + ": nothing written").isEqualTo(before);
    }

    private static void httpCase(SoftAssertions soft, String what, Http.Reply r, int status, String expected) throws Exception {
        soft.assertThat(r.status()).as(what + ": " + r.body()).isEqualTo(status);
        soft.assertThat(r.header("Content-Type")).as(what).startsWith("application/json");
        soft.assertThat(r.body()).as(what).contains(expected).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void bad_job_files_are_refused_with_file_and_line_and_nothing_is_written() throws Exception {
        SoftAssertions soft = new SoftAssertions();
        String sql = "params:\n  sql: select 1\n";
        yaml(soft, "syntax.yaml", "name: a\ntype: sql\nparams: {sql: [unclosed\n", "syntax.yaml:3: invalid YAML");
        yaml(soft, "root-list.yaml", "- name: a\n- type: sql\n", "a job definition is a mapping");
        yaml(soft, "type.yaml", "name: a\ntype: spreadsheet\n", "unknown type 'spreadsheet'");
        yaml(soft, "no-name.yaml", "type: sql\n" + sql, "missing required field 'name'");
        yaml(soft, "bad-name.yaml", "name: Bad_Name\ntype: sql\n" + sql, "name 'Bad_Name' must be lower-case");
        yaml(soft, "unicode-name.yaml", "name: caf\u00e9\ntype: sql\n" + sql, "name 'caf\u00e9' must be lower-case");
        yaml(soft, "long-name.yaml", "name: " + "a".repeat(64) + "\ntype: sql\n" + sql, "at most 63 characters");
        yaml(soft, "dup-key.yaml", "name: a\ntype: sql\nname: b\n" + sql, "duplicate key 'name'");
        yaml(soft, "field.yaml", "name: a\ntype: sql\nretries: 3\n" + sql, "unknown field 'retries'");
        yaml(soft, "param.yaml", "name: a\ntype: sql\nparams:\n  sql: select 1\n  trasaction: false\n", "params.trasaction: unknown parameter");
        yaml(soft, "params-list.yaml", "name: a\ntype: sql\nparams: [1, 2]\n", "params must be a mapping");
        yaml(soft, "cron.yaml", "name: a\ntype: sql\nschedule:\n  cron: \"every day\"\n" + sql, "is not a Quartz cron expression");
        yaml(soft, "never.yaml", "name: a\ntype: sql\nschedule:\n  cron: \"0 0 0 30 2 ?\"\n" + sql, "never fires");
        yaml(soft, "zone.yaml", "name: a\ntype: sql\nschedule:\n  cron: \"0 0 3 * * ?\"\n  timezone: Mars/Olympus\n" + sql,
                "unknown time zone 'Mars/Olympus'");
        yaml(soft, "misfire.yaml", "name: a\ntype: sql\nschedule:\n  cron: \"0 0 3 * * ?\"\n  misfire: ignore\n" + sql,
                "schedule.misfire must be fire-once or skip");
        yaml(soft, "after.yaml", "name: a\ntype: sql\nafter: [nobody]\n" + sql, "after: unknown job 'nobody'");
        yaml(soft, "timeout.yaml", "name: a\ntype: sql\ntimeout: 30d\n" + sql, "timeout must be at most 24d20h");
        yaml(soft, "overflow.yaml", "name: a\ntype: sql\nbackoff: 9999999999999999d\n" + sql, "duration out of range");
        yaml(soft, "duration.yaml", "name: a\ntype: sql\ntimeout: soon\n" + sql, "not a duration: 'soon'");
        yaml(soft, "zero.yaml", "name: a\ntype: sql\ntimeout: 0s\n" + sql, "timeout must be longer than 0");
        yaml(soft, "concurrency.yaml", "name: a\ntype: sql\nconcurrency: 0\n" + sql, "concurrency must be between 1 and 1000");
        yaml(soft, "attempts.yaml", "name: a\ntype: sql\nmax_attempts: many\n" + sql, "max_attempts must be a whole number");
        yaml(soft, "no-sql.yaml", "name: a\ntype: sql\nparams: {}\n", "params");
        yaml(soft, "utf8.yaml", concat("name: a\ntype: sql\ndescription: caf", new byte[] {(byte) 0xe9}, "\n" + sql),
                "utf8.yaml:3: not valid UTF-8");
        yaml(soft, "binary.yaml", new byte[] {0, 1, 2, (byte) 0xff, 10, 0x7f}, "not valid UTF-8");
        yaml(soft, "notify-scheme.yaml", "name: a\ntype: sql\nnotify: [ftp://example.com/hook]\n" + sql,
                "notify-scheme.yaml:3: notify: 'ftp://example.com/…' is not an http(s) URL");
        yaml(soft, "notify-host.yaml", "name: a\ntype: sql\nnotify: [\"https:///hook\"]\n" + sql, "notify: 'https:///hook' has no host");
        yaml(soft, "notify-format.yaml", "name: a\ntype: sql\nnotify:\n  - {url: https://example.com/h, format: teams}\n" + sql,
                "notify: format must be json or slack, got 'teams'");
        yaml(soft, "notify-field.yaml", "name: a\ntype: sql\nnotify:\n  - {url: https://example.com/h, secret: x}\n" + sql,
                "notify: unknown field 'secret' (known: url, format)");
        yaml(soft, "notify-nested.yaml", "name: a\ntype: sql\nnotify:\n  - [https://example.com/h]\n" + sql,
                "notify: each target is a URL or {url: …, format: json|slack}");
        yaml(soft, "overlap.yaml", "name: a\ntype: sql\nschedule:\n  cron: \"0 0 3 * * ?\"\n  overlap: drop\n" + sql,
                "overlap.yaml:5: schedule.overlap must be queue, skip or coalesce, got 'drop'");
        String imp = "name: a\ntype: batch-import\nparams:\n  source: data.csv\n  target: s.t\n  key: [id]\n  mode: mirror\n";
        yaml(soft, "guard-unknown.yaml", imp + "  guards: {max_deletes: 5%}\n",
                "params.guards: unknown guard 'max_deletes' (known: min_rows, max_delete, max_change, assert)");
        yaml(soft, "guard-pct.yaml", imp + "  guards: {max_delete: 150%}\n",
                "params.guards: max_delete must be a count of rows (e.g. 500) or a percentage of the target's rows from 0% to 100%"
                        + " (e.g. 5%), got '150%'");
        yaml(soft, "guard-neg.yaml", imp + "  guards: {max_change: -5%}\n", "max_change must be a count of rows");
        yaml(soft, "guard-word.yaml", imp + "  guards: {max_change: lots}\n", "got 'lots'");
        yaml(soft, "guard-decimals.yaml", imp + "  guards: {max_delete: 5.125%}\n", "got '5.125%'");
        yaml(soft, "guard-min.yaml", imp + "  guards: {min_rows: 0}\n", "min_rows must be a whole number of rows, 1 or more, got '0'");
        yaml(soft, "guard-min-pct.yaml", imp + "  guards: {min_rows: 10%}\n", "got '10%'");
        yaml(soft, "guard-assert.yaml", imp + "  guards: {assert: \"  \"}\n", "assert must be a query returning true or false");
        yaml(soft, "guard-off.yaml", imp + "  guards: off\n", "params.guards: must be a mapping");
        yaml(soft, "guard-list.yaml", imp + "  guards:\n    - min_rows: 1\n", "params.guards: must be a mapping");
        yaml(soft, "guard-nested.yaml", imp + "  guards:\n    min_rows: [1]\n", "params.guards.min_rows: must be a single value");
        yaml(soft, "guard-replace.yaml", "name: a\ntype: rebuild-summary\nparams:\n  target: s.t\n  key: [id]\n  query: select 1 as id\n"
                + "  strategy: replace\n  guards: {max_delete: 5%}\n",
                "params.guards: max_delete does not apply to strategy: replace, which rewrites every row; use min_rows or assert");
        soft.assertAll();
    }

    @Test
    void bad_arguments_exit_2_with_the_problem_and_write_nothing() throws Exception {
        SoftAssertions soft = new SoftAssertions();
        Map<String, String> env = env(good);
        cli(soft, env, "Unknown option: '--bogus'", "trigger", "ok", "--bogus");
        cli(soft, env, "NAME=VALUE", "trigger", "ok", "--param", "region");
        cli(soft, env, "param Region-1: names are lower-case letters", "trigger", "ok", "--param", "Region-1=eu");
        cli(soft, env, "param override_guards: reserved; use trigger --override-guards", "trigger", "ok", "--param",
                "override_guards=bob");
        cli(soft, env, "value contains a NUL character", "trigger", "ok", "--param", "v=a\0b");
        cli(soft, env, "key must be 1 to", "trigger", "ok", "--key", "");
        cli(soft, env, "key contains a NUL character", "trigger", "ok", "--key", "a\0b");
        cli(soft, env, "unknown job 'nope'", "trigger", "nope");
        cli(soft, env, "Missing required parameter", "trigger");
        cli(soft, env, "--state must be one of", "runs", "--state", "finished");
        cli(soft, env, "--limit", "runs", "--limit", "0");
        cli(soft, env, "Invalid value", "runs", "--limit", "lots");
        cli(soft, env, "RUN must be a run id", "show", "abc");
        cli(soft, env, "999999", "show", "999999");
        cli(soft, env, "RUN must be a run id", "cancel", "-5");
        cli(soft, env, "RUN must be a run id", "retry", "1e3");
        cli(soft, env, "Unmatched argument", "frobnicate");
        cli(soft, env, "unknown job nope", "pause", "nope");
        cli(soft, env, "--jobs-dir /nonexistent/jobs: no such directory", "bench", "idle", "--jobs-dir", "/nonexistent/jobs");
        soft.assertAll();
    }

    @Test
    void bad_environment_values_name_the_variable_and_write_nothing() throws Exception {
        SoftAssertions soft = new SoftAssertions();
        Object[][] cases = {
                {"NIGHTSHIFT_WORKERS", "many", "environment variable NIGHTSHIFT_WORKERS: workers must be a whole number"},
                {"NIGHTSHIFT_WORKERS", "0", "environment variable NIGHTSHIFT_WORKERS: workers must be between 1 and 256"},
                {"NIGHTSHIFT_HTTP_PORT", "70000", "environment variable NIGHTSHIFT_HTTP_PORT: http_port must be between 0 and 65535"},
                {"NIGHTSHIFT_POLL_INTERVAL", "soon", "poll_interval: not a duration: 'soon'"},
                {"NIGHTSHIFT_RETENTION", "99999999999999999d", "retention: duration out of range"},
                {"NIGHTSHIFT_LOG_FORMAT", "xml", "log_format must be text or json, got 'xml'"},
                {"NIGHTSHIFT_DB_URL", "mysql://db/app", "db_url must be a PostgreSQL JDBC URL"},
                {"NIGHTSHIFT_ADMIN_TOKEN", "short", "admin_token must be at least 16 characters long"},
                {"NIGHTSHIFT_NODE_NAME", "node name with spaces", "node_name must be 1-63 characters"},
                {"NIGHTSHIFT_NOTIFY", "file:///etc/passwd", "NIGHTSHIFT_NOTIFY: notify: 'file:///etc/passwd' is not an http(s) URL"},
                {"NIGHTSHIFT_NOTIFY", "https://example.com/h|teams", "notify: format must be json or slack, got 'teams'"},
                {"NIGHTSHIFT_PUBLIC_URL", "dashboard.example.com", "public_url: 'dashboard.example.com' is not an http(s) URL"},
                {"NIGHTSHIFT_WORKER", "4", "unknown environment variable NIGHTSHIFT_WORKER"},
                {"NIGHTSHIFT_JOBS_DIR", "/nonexistent/jobs", "/nonexistent/jobs: jobs directory not found"},
        };
        for (Object[] c : cases) {
            Map<String, String> env = env(good);
            env.put((String) c[0], (String) c[1]);
            cli(soft, env, (String) c[2], "validate");
        }
        soft.assertAll();
    }

    @Test
    void bad_http_requests_get_a_json_error_and_change_nothing() throws Exception {
        SoftAssertions soft = new SoftAssertions();
        List<Long> before = state();
        String t = "/api/jobs/ok/trigger";
        httpCase(soft, "malformed JSON", http.post(t, "{not json", TOKEN), 400, "body is not valid JSON (line 1, column 2)");
        httpCase(soft, "JSON array", http.post(t, "[1, 2]", TOKEN), 400, "must be a JSON object");
        httpCase(soft, "JSON string", http.post(t, "\"run it\"", TOKEN), 400, "must be a JSON object");
        httpCase(soft, "unknown field", http.post(t, "{\"parms\": {}}", TOKEN), 400, "unknown field 'parms'");
        httpCase(soft, "override_guards not a boolean", http.post(t, "{\"override_guards\": \"yes\"}", TOKEN), 400,
                "override_guards must be true or false");
        httpCase(soft, "override_guards as a parameter", http.post(t, "{\"params\": {\"override_guards\": \"bob\"}}", TOKEN), 400,
                "param override_guards: reserved");
        httpCase(soft, "override of a run that is not dead", http.post("/api/runs/99999999/override-guards", "", TOKEN), 404,
                "no run 99999999");
        httpCase(soft, "bad param name", http.post(t, "{\"params\": {\"Bad-Name\": \"x\"}}", TOKEN), 400, "param Bad-Name");
        httpCase(soft, "nested param", http.post(t, "{\"params\": {\"v\": {\"nested\": 1}}}", TOKEN), 400, "param v");
        httpCase(soft, "null param", http.post(t, "{\"params\": {\"v\": null}}", TOKEN), 400, "param v");
        httpCase(soft, "params not an object", http.post(t, "{\"params\": [1]}", TOKEN), 400, "params must be an object");
        httpCase(soft, "key not a string", http.post(t, "{\"key\": 5}", TOKEN), 400, "key must be a string");
        httpCase(soft, "empty key", http.post(t, "{\"key\": \"\"}", TOKEN), 400, "key must be");
        httpCase(soft, "NUL in key", http.post(t, "{\"key\": \"a\\u0000b\"}", TOKEN), 400, "key contains a NUL character");
        httpCase(soft, "NUL in a param value", http.post(t, "{\"params\": {\"v\": \"a\\u0000b\"}}", TOKEN), 400, "NUL character");
        httpCase(soft, "invalid UTF-8 body", http.postBytes(t, new byte[] {'{', '"', 'k', 'e', 'y', '"', ':', '"', (byte) 0xc3, '"', '}'},
                TOKEN), 400, "request body is not valid UTF-8");
        httpCase(soft, "oversized body", http.post(t, "{\"params\": {\"v\": \"" + "x".repeat(70_000) + "\"}}", TOKEN), 413, "larger than");
        httpCase(soft, "no token", http.post(t, null, null), 401, "Authorization");
        httpCase(soft, "wrong token", http.post(t, null, TOKEN + "x"), 401, "wrong admin token");
        httpCase(soft, "unknown job", http.post("/api/jobs/nope/trigger", null, TOKEN), 404, "unknown job 'nope'");
        httpCase(soft, "unicode job name", http.post("/api/jobs/caf%C3%A9/trigger", null, TOKEN), 404, "unknown job");
        httpCase(soft, "NUL in the path", http.post("/api/jobs/o%00k/trigger", null, TOKEN), 404, "NUL character");
        httpCase(soft, "NUL in a query", http.get("/api/runs?job=o%00k"), 400, "NUL character");
        httpCase(soft, "unknown run", http.get("/api/runs/99999999"), 404, "no run 99999999");
        httpCase(soft, "run id not a number", http.get("/api/runs/abc"), 400, "run id");
        httpCase(soft, "bad state filter", http.get("/api/runs?state=exploded"), 400, "state must be one of");
        httpCase(soft, "limit 0", http.get("/api/runs?limit=0"), 400, "limit");
        httpCase(soft, "limit too large", http.get("/api/runs?limit=5000"), 400, "limit");
        httpCase(soft, "unknown route", http.get("/api/nothing-here"), 404, "no such resource");
        httpCase(soft, "wrong method", http.method("PUT", "/api/jobs"), 405, "not allowed");
        httpCase(soft, "cancel of an unknown run", http.post("/api/runs/99999999/cancel", null, TOKEN), 404, "99999999");
        soft.assertThat(state()).as("no bad request changed the database").isEqualTo(before);
        soft.assertAll();
    }

    private static byte[] concat(String a, byte[] b, String c) {
        List<byte[]> parts = new ArrayList<>(List.of(a.getBytes(StandardCharsets.UTF_8), b, c.getBytes(StandardCharsets.UTF_8)));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
