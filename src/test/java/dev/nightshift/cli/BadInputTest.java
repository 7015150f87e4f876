package dev.nightshift.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Guarantee 6 at the command line: every bad input gets a clear message, exit 2, and nothing is written. */
@Tag("database")
class BadInputTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static Map<String, String> env(JobsDir jobs) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", jobs.path().toString());
        return env;
    }

    private static boolean schemaExists() throws Exception {
        return db.queryLong("SELECT count(*) FROM pg_namespace WHERE nspname = 'nightshift'") > 0;
    }

    @Test
    void every_problem_of_a_bad_catalog_is_reported_with_file_and_line_and_nothing_is_written() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "bad-catalog")
                .file("a-syntax.yaml", "name: broken\ntype: sql\nparams: {sql: [unclosed\n")
                .file("b-type.yaml", "name: b\ntype: spreadsheet\n")
                .file("c-missing.yaml", "description: no name nor type\n")
                .file("d-name.yaml", "name: Bad_Name\ntype: sql\nparams:\n  sql: select 1\n")
                .file("e-cron.yaml", "name: e\ntype: sql\nschedule:\n  cron: \"every day\"\nparams:\n  sql: select 1\n")
                .file("f-field.yaml", "name: f\ntype: sql\nretries: 3\nparams:\n  sql: select 1\n  trasaction: false\n")
                .file("g-dup.yaml", "name: g\ntype: sql\nname: g2\n")
                .file("h-after.yaml", "name: h\ntype: sql\nafter: [nobody]\nparams:\n  sql: select 1\n")
                .file("i-zone.yaml", "name: i\ntype: sql\nschedule:\n  cron: \"0 0 3 * * ?\"\n  timezone: Mars/Olympus\nparams:\n  sql: select 1\n")
                .file("j-never.yaml", "name: j\ntype: sql\nschedule:\n  cron: \"0 0 0 30 2 ?\"\nparams:\n  sql: select 1\n")
                .file("k-timeout.yaml", "name: k\ntype: sql\ntimeout: 30d\nbackoff: 9999999999999999d\nparams:\n  sql: select 1\n");
        for (String command : new String[] {"validate", "run", "sync"}) {
            Cli.Result r = Cli.run(env(jobs), command);
            assertThat(r.exitCode()).as(command).isEqualTo(2);
            String p = jobs.path().toString();
            assertThat(r.err()).contains(
                    p + "/a-syntax.yaml:3: invalid YAML",
                    p + "/b-type.yaml:2: unknown type 'spreadsheet' (known: sql | batch-import | rebuild-summary | refresh-materialized-view)",
                    p + "/c-missing.yaml:1: missing required field 'name'",
                    p + "/c-missing.yaml:1: missing required field 'type'",
                    p + "/d-name.yaml:1: name 'Bad_Name' must be lower-case letters",
                    p + "/e-cron.yaml:4: schedule.cron 'every day' is not a Quartz cron expression",
                    p + "/f-field.yaml:3: unknown field 'retries'",
                    p + "/f-field.yaml:6: params.trasaction: unknown parameter",
                    p + "/g-dup.yaml:3: invalid YAML: duplicate key 'name' (first on line 1)",
                    p + "/h-after.yaml:3: after: unknown job 'nobody'",
                    p + "/i-zone.yaml:5: schedule.timezone: unknown time zone 'Mars/Olympus'",
                    p + "/j-never.yaml:4: schedule.cron '0 0 0 30 2 ?' never fires",
                    p + "/k-timeout.yaml:3: timeout must be at most 24d20h (PostgreSQL's statement_timeout holds at most 2147483647 ms), got 30d",
                    p + "/k-timeout.yaml:4: backoff: duration out of range: '9999999999999999d'");
            assertThat(r.out()).isEmpty();
        }
        assertThat(schemaExists()).isFalse();
    }

    @Test
    void a_job_file_with_a_bad_utf8_byte_is_reported_at_the_line_of_that_byte() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "utf8");
        java.nio.file.Files.write(jobs.path().resolve("u.yaml"), concat("name: u\ntype: sql\ndescription: caf".getBytes(
                java.nio.charset.StandardCharsets.UTF_8), new byte[] {(byte) 0xe9}, "\nparams:\n  sql: select 1\n".getBytes(
                java.nio.charset.StandardCharsets.UTF_8)));
        Cli.Result r = Cli.run(env(jobs), "validate");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains(jobs.path() + "/u.yaml:3: not valid UTF-8").doesNotContain("MalformedInput");
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void a_cycle_of_after_is_rejected() {
        JobsDir jobs = new JobsDir(db.tempDir(), "cycle")
                .sql("a", "select 1", "after: [b]\n")
                .sql("b", "select 1", "after: [a]\n");
        Cli.Result r = Cli.run(env(jobs), "validate");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("a.yaml:3: after: cycle a -> b -> a");
    }

    @Test
    void a_missing_sql_file_and_a_missing_jobs_directory_are_named() {
        JobsDir jobs = new JobsDir(db.tempDir(), "missing-file")
                .file("m.yaml", "name: m\ntype: sql\nparams:\n  file: nowhere.sql\n");
        Cli.Result r = Cli.run(env(jobs), "validate");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("m.yaml:4: params.file: file not found or not readable: " + jobs.path().resolve("nowhere.sql"));

        Map<String, String> env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", "/nonexistent/jobs");
        Cli.Result r2 = Cli.run(env, "validate");
        assertThat(r2.exitCode()).isEqualTo(2);
        assertThat(r2.err()).contains("/nonexistent/jobs: jobs directory not found");
    }

    @Test
    void bad_arguments_exit_2_and_enqueue_nothing() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "good").sql("good", "select 1", "");
        assertThat(Cli.run(env(jobs), "sync").exitCode()).isZero();

        Cli.Result unknownOption = Cli.run(env(jobs), "trigger", "good", "--bogus");
        assertThat(unknownOption.exitCode()).isEqualTo(2);
        assertThat(unknownOption.err()).contains("Unknown option: '--bogus'");

        Cli.Result noEquals = Cli.run(env(jobs), "trigger", "good", "--param", "region");
        assertThat(noEquals.exitCode()).isEqualTo(2);

        Cli.Result badName = Cli.run(env(jobs), "trigger", "good", "--param", "Region-1=eu");
        assertThat(badName.exitCode()).isEqualTo(2);
        assertThat(badName.err()).contains("param Region-1: names are lower-case letters, digits and _");

        Cli.Result unknownJob = Cli.run(env(jobs), "trigger", "nope");
        assertThat(unknownJob.exitCode()).isEqualTo(2);
        assertThat(unknownJob.err()).contains("unknown job 'nope' (known: good)");

        assertThat(Cli.run(env(jobs), "runs", "--state", "finished").err())
                .contains("--state must be one of available, running, succeeded, dead, cancelled; got 'finished'");
        assertThat(Cli.run(env(jobs), "runs", "--limit", "0").exitCode()).isEqualTo(2);
        assertThat(Cli.run(env(jobs), "show", "abc").err()).contains("RUN must be a run id");
        assertThat(Cli.run(env(jobs), "show", "999999").exitCode()).isEqualTo(2);
        assertThat(Cli.run(env(jobs), "cancel", "-5").exitCode()).isEqualTo(2);
        assertThat(Cli.run(env(jobs), "frobnicate").exitCode()).isEqualTo(2);

        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name IN ('good', 'nope')")).isZero();
    }

    @Test
    void bad_settings_are_reported_with_their_source() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "settings").sql("s", "select 1", "");
        Map<String, String> env = env(jobs);
        env.put("NIGHTSHIFT_WORKERS", "many");
        env.put("NIGHTSHIFT_WORKER", "4");
        java.nio.file.Path config = db.tempDir().resolve("bad-config.yaml");
        java.nio.file.Files.writeString(config, "workers: 4\npoll_interval: soon\nlog_format: xml\nfoo: bar\n");
        Cli.Result r = Cli.run(env, "validate", "--config", config.toString(), "--retention", "-1d");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains(
                "unknown environment variable NIGHTSHIFT_WORKER",
                config + ":2: poll_interval: not a duration: 'soon'",
                config + ":3: log_format must be text or json, got 'xml'",
                config + ":4: unknown key 'foo'",
                "--retention: retention: not a duration: '-1d'");
        // the file's workers: 4 overrides the environment's bad value
        assertThat(r.err()).doesNotContain("workers must be a whole number");

        Map<String, String> range = env(jobs);
        range.put("NIGHTSHIFT_WORKERS", "0");
        range.put("NIGHTSHIFT_HTTP_PORT", "70000");
        Cli.Result r2 = Cli.run(range, "validate");
        assertThat(r2.exitCode()).isEqualTo(2);
        assertThat(r2.err()).contains("environment variable NIGHTSHIFT_WORKERS: workers must be between 1 and 256, got 0",
                "environment variable NIGHTSHIFT_HTTP_PORT: http_port must be between 0 and 65535, got 70000");
    }

    @Test
    void a_schedule_that_never_fires_never_keeps_a_node_from_starting_and_sync_writes_nothing() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "never")
                .sql("fine", "select 1", "schedule:\n  cron: \"0 0 3 * * ?\"\n")
                .file("never.yaml", "name: never\ntype: sql\nschedule:\n  cron: \"0 0 0 30 2 ?\"\nparams:\n  sql: select 1\n");
        for (String command : new String[] {"validate", "sync"}) {
            Cli.Result r = Cli.run(env(jobs), command);
            assertThat(r.exitCode()).as(command).isEqualTo(2);
            assertThat(r.err()).as(command).contains(jobs.path() + "/never.yaml:4: schedule.cron '0 0 0 30 2 ?' never fires");
        }
        if (schemaExists()) {
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.job WHERE name IN ('fine', 'never')")).isZero();
        }
    }

    @Test
    void trigger_wait_exits_1_when_the_run_fails() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "fails").sql("fails", "select 1/0", "max_attempts: 1\n");
        Map<String, String> env = env(jobs);
        env.put("NIGHTSHIFT_NODE_NAME", "wait-node");
        try (Daemon d = Daemon.start(db.settings(jobs.path()))) {
            Cli.Result r = Cli.run(env, "trigger", "fails", "--wait");
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.out()).containsPattern("run \\d+ dead: sql statement 1 \\(line 1\\): ERROR: division by zero");
        }
    }
}
