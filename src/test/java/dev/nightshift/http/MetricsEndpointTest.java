package dev.nightshift.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.db.SqlStates;
import dev.nightshift.queue.Maintenance;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.RunRows;
import dev.nightshift.testing.TestDatabase;
import dev.nightshift.testing.Tools;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("database")
class MetricsEndpointTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String TOKEN = "metrics-admin-token-0123456789";

    static JobsDir jobs;
    static Daemon daemon;
    static Http http;

    @BeforeAll
    static void start() {
        jobs = new JobsDir(db.tempDir(), "metrics")
                .sql("ok", "SELECT 1", null)
                .sql("daily", "SELECT 1", "schedule:\n  cron: \"0 0 3 * * ?\"\ndeadline: 2h\n")
                .sql("weekdays", "SELECT 1", "schedule:\n  cron: \"0 0 3 ? * MON-FRI\"\n  timezone: Europe/Paris\n")
                .sql("blocker", "SELECT pg_sleep(30)", "max_attempts: 1\n");
        daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN))));
        http = new Http(daemon.httpPort());
    }

    /** The value of the one sample with exactly this name and these labels, if present. */
    static Optional<Double> sample(String scrape, String nameAndLabels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(nameAndLabels) + " (\\S+)$").matcher(scrape);
        return m.find() ? Optional.of(Double.parseDouble(m.group(1))) : Optional.empty();
    }

    private static long trigger(String job) {
        return http.post("/api/jobs/" + job + "/trigger", null, TOKEN).json().path("run").path("id").asLong();
    }

    @Test
    void every_job_has_its_run_counters_at_zero_before_its_first_run() {
        String scrape = http.get("/metrics").body();
        for (String outcome : List.of("succeeded", "failed", "dead", "cancelled", "aborted")) {
            assertThat(sample(scrape, "nightshift_job_runs_total{job_name=\"daily\",outcome=\"" + outcome + "\",trigger=\"schedule\"}"))
                    .contains(0.0);
        }
        assertThat(sample(scrape, "nightshift_scheduler_misfires_total{job_name=\"daily\"}")).contains(0.0);
    }

    @Test
    void metrics_are_served_as_prometheus_text_with_pool_jvm_process_and_build_meters() {
        Http.Reply r = http.get("/metrics");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).startsWith("text/plain; version=0.0.4");
        assertThat(r.body()).contains("hikaricp_connections_active{pool=\"nightshift\"}", "hikaricp_connections_pending{pool=\"nightshift\"}",
                "jvm_memory_used_bytes{area=\"heap\"", "jvm_gc_memory_allocated_bytes_total", "jvm_threads_live_threads", "process_cpu_usage",
                "process_uptime_seconds", "process_files_open_files");
        assertThat(sample(r.body(), "nightshift_build_info{version=\"dev\"}")).contains(1.0);
    }

    @Test
    void no_metric_has_a_label_named_job() {
        String scrape = http.get("/metrics").body();
        assertThat(Pattern.compile("[{,]job=\"").matcher(scrape).find()).isFalse();
        assertThat(scrape).doesNotContain("run_id=");
    }

    @Test
    void a_succeeded_run_is_counted_and_its_duration_lands_in_buckets_up_to_hours() {
        String before = http.get("/metrics").body();
        double runs = sample(before, "nightshift_job_runs_total{job_name=\"ok\",outcome=\"succeeded\",trigger=\"manual\"}").orElseThrow();
        double slowest = sample(before, "nightshift_job_run_duration_seconds_bucket{job_name=\"ok\",outcome=\"succeeded\",le=\"28800.0\"}").orElse(0.0);
        long id = trigger("ok");
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/api/runs/" + id).json().path("state").asText().equals("succeeded"));
        String scrape = http.get("/metrics").body();
        assertThat(sample(scrape, "nightshift_job_runs_total{job_name=\"ok\",outcome=\"succeeded\",trigger=\"manual\"}")).contains(runs + 1);
        assertThat(sample(scrape, "nightshift_job_run_duration_seconds_bucket{job_name=\"ok\",outcome=\"succeeded\",le=\"0.1\"}")).isPresent();
        assertThat(sample(scrape, "nightshift_job_run_duration_seconds_bucket{job_name=\"ok\",outcome=\"succeeded\",le=\"28800.0\"}")).contains(slowest + 1);
    }

    @Test
    void last_success_comes_from_the_database_and_survives_a_restart() throws Exception {
        long id = trigger("ok");
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/api/runs/" + id).json().path("state").asText().equals("succeeded"));
        double expected = Double.parseDouble(db.queryString(
                "SELECT extract(epoch FROM finished_at) FROM nightshift.run WHERE job_name = 'ok' AND state = 'succeeded' ORDER BY id DESC LIMIT 1"));
        daemon.operations().refreshGauges();
        assertThat(sample(http.get("/metrics").body(), "nightshift_job_last_success_timestamp_seconds{job_name=\"ok\"}"))
                .hasValueSatisfying(v -> assertThat(v).isCloseTo(expected, org.assertj.core.data.Offset.offset(0.001)));

        try (Daemon restarted = Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "restarted")))) {
            restarted.operations().refreshGauges();
            assertThat(sample(new Http(restarted.httpPort()).get("/metrics").body(),
                    "nightshift_job_last_success_timestamp_seconds{job_name=\"ok\"}"))
                    .hasValueSatisfying(v -> assertThat(v).isCloseTo(expected, org.assertj.core.data.Offset.offset(0.001)));
        }
    }

    @Test
    void pruning_keeps_each_jobs_newest_success() throws Exception {
        db.execute("""
                INSERT INTO nightshift.run_history (id, job_name, state, trigger, params, max_attempts, attempt, run_at, created_at,
                                                    finished_at, node)
                SELECT nextval('nightshift.run_seq'), 'daily', s, 'schedule', '{}', 3, 1, now() - interval '30 days',
                       now() - interval '30 days', now() - interval '30 days', 'old'
                FROM unnest(ARRAY['succeeded', 'succeeded', 'dead']) s
                """);
        long newest = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'daily' AND state = 'succeeded'");
        new Maintenance(db.dataSource(), "test").prune(Duration.ofDays(7));
        assertThat(db.rows("SELECT id, state FROM nightshift.run WHERE job_name = 'daily'")).containsExactly(newest + "|succeeded");
    }

    @Test
    void scheduled_jobs_export_their_longest_gap_between_slots() {
        String scrape = http.get("/metrics").body();
        assertThat(sample(scrape, "nightshift_job_expected_interval_seconds{job_name=\"daily\"}")).contains(86_400.0);
        // Friday to Monday; an hour more over a weekend where Paris leaves summer time
        assertThat(sample(scrape, "nightshift_job_expected_interval_seconds{job_name=\"weekdays\"}"))
                .hasValueSatisfying(v -> assertThat(v).isIn(3 * 86_400.0, 3 * 86_400.0 + 3600));
        assertThat(scrape).doesNotContain("nightshift_job_expected_interval_seconds{job_name=\"ok\"}");
    }

    @Test
    void queue_gauges_show_waiting_runs_and_the_age_of_the_oldest() throws Exception {
        long running = trigger("blocker");
        long waiting = trigger("blocker");
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/api/runs/" + running).json().path("state").asText().equals("running"));
        db.execute("UPDATE nightshift.queue SET run_at = now() - interval '1 hour' WHERE id = " + waiting);
        try {
            daemon.operations().refreshGauges();
            String scrape = http.get("/metrics").body();
            assertThat(sample(scrape, "nightshift_queue_runs{state=\"available\"}")).contains(1.0);
            assertThat(sample(scrape, "nightshift_queue_runs{state=\"running\"}")).contains(1.0);
            assertThat(sample(scrape, "nightshift_queue_oldest_available_age_seconds")).hasValueSatisfying(v ->
                    assertThat(v).isBetween(3600.0, 3700.0));
        } finally {
            http.post("/api/runs/" + waiting + "/cancel", null, TOKEN);
            http.post("/api/runs/" + running + "/cancel", null, TOKEN);
        }
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/api/runs/" + running).json().path("state").asText().equals("cancelled"));
    }

    @Test
    void a_gauge_read_that_fails_leaves_the_other_gauges_refreshed() throws Exception {
        long running = trigger("blocker");
        long waiting = trigger("blocker");
        long dropped = trigger("blocker");
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/api/runs/" + running).json().path("state").asText().equals("running"));
        daemon.operations().refreshGauges();
        assertThat(sample(http.get("/metrics").body(), "nightshift_queue_runs{state=\"available\"}")).contains(2.0);
        String scrape;
        try (Connection lock = db.dataSource().getConnection(); Statement st = lock.createStatement()) {
            // The last-success read joins the job table: it waits for this lock until its statement timeout.
            lock.setAutoCommit(false);
            st.execute("LOCK TABLE nightshift.job IN ACCESS EXCLUSIVE MODE");
            // Changes the other reads must see; neither touches the job table.
            db.execute("UPDATE nightshift.queue SET run_at = now() - interval '1 hour' WHERE id = " + waiting);
            RunRows.finish(db, "id = " + dropped, "cancelled");
            SQLException failure = catchThrowableOfType(() -> daemon.operations().refreshGauges(), SQLException.class);
            // (scraped under the lock, so that no timed refresh can come after it)
            scrape = http.get("/metrics").body();
            lock.rollback();
            assertThat((Throwable) failure).as("the last-success read times out").isNotNull();
            assertThat(SqlStates.of(failure)).isEqualTo("57014");
        } finally {
            http.post("/api/runs/" + waiting + "/cancel", null, TOKEN);
            http.post("/api/runs/" + running + "/cancel", null, TOKEN);
        }
        assertThat(sample(scrape, "nightshift_queue_runs{state=\"available\"}")).as("read after the failed one").contains(1.0);
        assertThat(sample(scrape, "nightshift_queue_oldest_available_age_seconds")).hasValueSatisfying(v ->
                assertThat(v).isBetween(3600.0, 3700.0));
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/api/runs/" + running).json().path("state").asText().equals("cancelled"));
    }

    @Test
    void every_metric_the_alerts_and_the_grafana_dashboard_use_is_in_a_scrape() throws Exception {
        long id = trigger("ok");
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/api/runs/" + id).json().path("state").asText().equals("succeeded"));
        daemon.operations().refreshGauges();
        String scrape = http.get("/metrics").body();
        String queries = java.nio.file.Files.readString(Path.of("deploy/prometheus/alerts.yml"))
                + java.nio.file.Files.readString(Path.of("deploy/grafana/nightshift.json"));
        Matcher m = Pattern.compile("\\b(?:nightshift|hikaricp|jvm)_[a-z_]+").matcher(queries);
        java.util.Set<String> names = new java.util.TreeSet<>();
        while (m.find()) {
            names.add(m.group());
        }
        // counted only once an import or rebuild has reported rows
        names.remove("nightshift_import_rows_total");
        assertThat(names).hasSizeGreaterThan(10).allSatisfy(n -> assertThat(scrape).contains("\n" + n));
    }

    @Test
    void promtool_accepts_a_real_scrape() {
        Path promtool = Tools.required("promtool", "run .ci/ops-setup");
        Tools.Result r = Tools.run(List.of(promtool.toString(), "check", "metrics"), null, http.get("/metrics").body());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).isBlank();
    }
}
