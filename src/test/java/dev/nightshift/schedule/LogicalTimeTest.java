package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every run knows its slot and period: scheduled fires, manual triggers with and without
 * {@code --at} (CLI and HTTP), {@code after:} dependents, and what the job's SQL, a summary's query
 * and a batch import's source template see of them.
 */
@Tag("database")
class LogicalTimeTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String TOKEN = "logical-time-token-0123456789";
    /** Records what a run sees of its logical time. */
    static final String RECORD = "INSERT INTO seen VALUES (current_setting('nightshift.run_id')::bigint, "
            + "current_setting('nightshift.scheduled_at'), current_setting('nightshift.period_start'), "
            + "current_setting('nightshift.period_end'))";
    static final String DAILY_PARIS = "schedule:\n  cron: \"0 0 0 * * ?\"\n  timezone: Europe/Paris\n";

    static JobsDir jobs;
    static Daemon daemon;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        db.execute("CREATE TABLE seen (run_id bigint PRIMARY KEY, scheduled_at text, period_start text, period_end text)");
        db.execute("CREATE TABLE event (at timestamptz NOT NULL, amount integer NOT NULL)");
        db.execute("CREATE TABLE day_total (day date PRIMARY KEY, total bigint NOT NULL)");
        db.execute("CREATE TABLE artist (id integer PRIMARY KEY, name text NOT NULL)");
        db.execute("""
                INSERT INTO event VALUES ('2026-03-28T22:59:59Z', 1), ('2026-03-28T23:00:00Z', 10),
                                         ('2026-03-29T21:59:59Z', 100), ('2026-03-29T22:00:00Z', 1000)""");
        Files.createDirectories(db.tempDir().resolve("drop"));
        Files.writeString(db.tempDir().resolve("drop/artists-2026-02.csv"), "id,name\n1,Ada\n2,Grace\n");
        Files.writeString(db.tempDir().resolve("drop/artists-2026-03.csv"), "id,name\n1,Ada\n2,Grace\n3,Hedy\n");
        jobs = new JobsDir(db.tempDir(), "logical")
                .sql("nightly", RECORD, DAILY_PARIS + "max_attempts: 1\n")
                .sql("report", RECORD, "after: [nightly]\n")
                .sql("adhoc", RECORD, null)
                .sql("http-backfilled", RECORD, "schedule:\n  cron: \"0 0 7 * * ?\"\n  timezone: Europe/Paris\n")
                .sql("backfilled", RECORD, "schedule:\n  cron: \"0 0 6 * * ?\"\n  timezone: Europe/Paris\nconcurrency: 3\n")
                .file("day-total.yaml", """
                        name: day-total
                        type: rebuild-summary
                        schedule:
                          cron: "0 0 0 * * ?"
                          timezone: Europe/Paris
                        params:
                          target: public.day_total
                          key: [day]
                          query: |
                            SELECT (current_setting('nightshift.period_start')::timestamptz AT TIME ZONE 'Europe/Paris')::date AS day,
                                   sum(amount) AS total
                            FROM event
                            WHERE at >= current_setting('nightshift.period_start')::timestamptz
                              AND at < current_setting('nightshift.period_end')::timestamptz
                        """)
                .file("monthly-artists.yaml", """
                        name: monthly-artists
                        type: batch-import
                        schedule:
                          cron: "0 0 3 1 * ?"
                        max_attempts: 1
                        params:
                          source: %s/artists-{period_start:yyyy-MM}.csv
                          target: public.artist
                          key: [id]
                          mode: mirror
                        """.formatted(db.tempDir().resolve("drop")));
        daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN)), ClusterFiringTest.FAST));
        http = new Http(daemon.httpPort());
    }

    /** Fires the job's schedule for {@code slot} as Quartz would, through the real Quartz job. */
    static void fire(String job, Instant slot) throws Exception {
        var schedule = JobCatalog.load(jobs.path()).find(job).orElseThrow().schedule();
        Fires.fire(db.dataSource(), schedule, slot);
    }

    static long runOf(String job, Instant slot) throws Exception {
        return db.queryLong("SELECT id FROM nightshift.run WHERE job_name = '" + job + "' AND scheduled_at = '" + slot + "' AND trigger = 'schedule'");
    }

    static String awaitFinished(long run) {
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryString(
                "SELECT state FROM nightshift.run WHERE id = " + run + " AND state IN ('succeeded', 'dead', 'cancelled')") != null);
        try {
            return db.queryString("SELECT state || coalesce(': ' || last_error, '') FROM nightshift.run WHERE id = " + run);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String seen(long run) throws Exception {
        return db.queryString("SELECT scheduled_at || ' ' || period_start || ' ' || period_end FROM seen WHERE run_id = " + run);
    }

    @Test
    void a_scheduled_run_sees_its_slot_and_its_23_hour_period_across_the_spring_change_in_its_zone() throws Exception {
        Instant slot = Instant.parse("2026-03-29T22:00:00Z");   // 2026-03-30 00:00 CEST
        fire("nightly", slot);
        long run = runOf("nightly", slot);
        assertThat(awaitFinished(run)).isEqualTo("succeeded");

        assertThat(seen(run)).isEqualTo("2026-03-30T00:00:00+02:00 2026-03-29T00:00:00+01:00 2026-03-30T00:00:00+02:00");
        assertThat(db.rows("SELECT period_start, period_end, period_zone FROM nightshift.run WHERE id = " + run))
                .containsExactly("2026-03-28 23:00:00+00|2026-03-29 22:00:00+00|Europe/Paris");
    }

    @Test
    void an_after_dependent_inherits_its_parents_slot_and_period() throws Exception {
        Instant slot = Instant.parse("2026-10-25T23:00:00Z");   // 2026-10-26 00:00 CET, a 25-hour day before it
        fire("nightly", slot);
        long parent = runOf("nightly", slot);
        assertThat(awaitFinished(parent)).isEqualTo("succeeded");
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.run WHERE parent_run_id = " + parent + " AND state = 'succeeded'") == 1);
        long child = db.queryLong("SELECT id FROM nightshift.run WHERE parent_run_id = " + parent);

        assertThat(seen(child)).isEqualTo(seen(parent))
                .isEqualTo("2026-10-26T00:00:00+01:00 2026-10-25T00:00:00+02:00 2026-10-26T00:00:00+01:00");
    }

    @Test
    void trigger_at_a_slot_runs_the_schedules_period_ending_there_and_show_and_runs_print_it() throws Exception {
        Cli.Result r = Cli.run(db.env(), "trigger", "nightly", "--at", "2026-03-01T00:00+01:00", "--wait", "--jobs-dir", jobs.path().toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        long run = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'nightly' AND trigger = 'manual'");

        assertThat(seen(run)).isEqualTo("2026-03-01T00:00:00+01:00 2026-02-28T00:00:00+01:00 2026-03-01T00:00:00+01:00");
        Cli.Result show = Cli.run(db.env(), "show", Long.toString(run));
        assertThat(show.out()).contains("period:       2026-02-28 00:00 → 2026-03-01 00:00 (Europe/Paris)");
        Cli.Result runs = Cli.run(db.env(), "runs", "--job", "nightly", "--limit", "1");
        assertThat(runs.out()).contains("PERIOD (LOCAL)").contains("2026-02-28 00:00 → 2026-03-01 00:00");
    }

    @Test
    void trigger_at_a_time_that_is_no_slot_is_a_usage_error_naming_the_nearest_slots_and_enqueues_nothing() throws Exception {
        long before = db.queryLong("SELECT count(*) FROM nightshift.run");
        Cli.Result r = Cli.run(db.env(), "trigger", "nightly", "--at", "2026-03-01T12:00Z");
        Cli.Result bad = Cli.run(db.env(), "trigger", "nightly", "--at", "yesterday");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("2026-03-01T12:00:00Z is not a slot of job nightly's schedule (in Europe/Paris)")
                .contains("2026-02-28T23:00:00Z and 2026-03-01T23:00:00Z");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--at must be a date and time with an offset").contains("'yesterday'");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run")).isEqualTo(before);
    }

    @Test
    void trigger_without_at_stands_for_the_schedules_latest_slot_and_a_job_without_schedule_for_the_instant_named() throws Exception {
        Instant now = Instant.now();
        Cli.Result r = Cli.run(db.env(), "trigger", "nightly", "--wait");
        assertThat(r.exitCode()).as(r.err()).isZero();
        long run = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'nightly' AND trigger = 'manual'");
        Instant latest = Slots.of("0 0 0 * * ?", ZoneId.of("Europe/Paris")).latestAtOrBefore(now);
        assertThat(db.queryString("SELECT scheduled_at = '" + latest + "' FROM nightshift.run WHERE id = " + run)).isEqualTo("t");

        Cli.Result plain = Cli.run(db.env(), "trigger", "adhoc", "--wait");
        long plainRun = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'adhoc'");
        assertThat(plain.exitCode()).isZero();
        assertThat(seen(plainRun)).as("no period: empty settings").isEqualTo("  ");

        Cli.Result at = Cli.run(db.env(), "trigger", "adhoc", "--at", "2026-05-04T08:15+02:00", "--wait");
        long atRun = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'adhoc'");
        assertThat(at.exitCode()).isZero();
        assertThat(seen(atRun)).isEqualTo("2026-05-04T06:15:00Z 2026-05-04T06:15:00Z 2026-05-04T06:15:00Z");
    }

    @Test
    void http_trigger_takes_at_and_the_api_shows_the_period() throws Exception {
        Http.Reply r = http.post("/api/jobs/nightly/trigger", "{\"at\": \"2026-03-29T00:00+01:00\"}", TOKEN);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        long run = r.json().path("run").path("id").asLong();
        assertThat(awaitFinished(run)).isEqualTo("succeeded");

        JsonNode shown = http.get("/api/runs/" + run).json();
        assertThat(shown.path("scheduledAt").asText()).isEqualTo("2026-03-28T23:00:00Z");
        assertThat(shown.path("periodStart").asText()).isEqualTo("2026-03-27T23:00:00Z");
        assertThat(shown.path("periodEnd").asText()).isEqualTo("2026-03-28T23:00:00Z");
        assertThat(shown.path("periodZone").asText()).isEqualTo("Europe/Paris");
        assertThat(http.get("/runs/" + run).body()).contains("2026-03-28 00:00 → 2026-03-29 00:00");

        Http.Reply notSlot = http.post("/api/jobs/nightly/trigger", "{\"at\": \"2026-03-29T00:30+01:00\"}", TOKEN);
        Http.Reply notTime = http.post("/api/jobs/nightly/trigger", "{\"at\": 5}", TOKEN);
        assertThat(notSlot.status()).isEqualTo(400);
        assertThat(notSlot.json().path("error").asText()).contains("is not a slot of job nightly's schedule");
        assertThat(notTime.status()).isEqualTo(400);
    }

    @Test
    void a_summary_query_reads_the_period_and_rebuilds_its_own_day_only() throws Exception {
        Instant slot = Instant.parse("2026-03-29T22:00:00Z");   // the period is 2026-03-29, 23 hours long
        fire("day-total", slot);
        assertThat(awaitFinished(runOf("day-total", slot))).isEqualTo("succeeded");

        assertThat(db.rows("SELECT day, total FROM day_total")).containsExactly("2026-03-29|110");
    }

    @Test
    void a_batch_import_source_names_its_file_by_the_period() throws Exception {
        Instant march = Instant.parse("2026-03-01T03:00:00Z");   // the period is February
        fire("monthly-artists", march);
        assertThat(awaitFinished(runOf("monthly-artists", march))).isEqualTo("succeeded");
        assertThat(db.rows("SELECT id, name FROM artist ORDER BY id")).containsExactly("1|Ada", "2|Grace");

        Instant april = Instant.parse("2026-04-01T03:00:00Z");
        fire("monthly-artists", april);
        assertThat(awaitFinished(runOf("monthly-artists", april))).isEqualTo("succeeded");
        assertThat(db.rows("SELECT id, name FROM artist ORDER BY id")).containsExactly("1|Ada", "2|Grace", "3|Hedy");

        Instant may = Instant.parse("2026-05-01T03:00:00Z");    // no file for April
        fire("monthly-artists", may);
        assertThat(awaitFinished(runOf("monthly-artists", may))).startsWith("dead: ").contains("artists-2026-04.csv");
    }

    @Test
    void a_source_template_naming_no_logical_time_is_refused_with_file_and_line() throws Exception {
        JobsDir bad = new JobsDir(db.tempDir(), "bad-template").file("x.yaml", """
                name: x
                type: batch-import
                params:
                  source: data/x-{period_begin:yyyy}.csv
                  target: public.artist
                  key: [id]
                """);
        Cli.Result r = Cli.run(db.env(), "validate", "--jobs-dir", bad.path().toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err() + r.out()).contains("x.yaml:4").contains("{period_begin:…} names no logical time");
    }

    @Test
    void a_backfill_runs_every_slot_of_its_range_with_its_period_at_most_max_active_at_once_and_ends_done() throws Exception {
        Cli.Result r = Cli.run(db.env(), "backfill", "backfilled", "--from", "2026-03-25T00:00+01:00", "--to", "2026-04-01T00:00+02:00",
                "--max-active", "2", "--wait");

        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("7 slots").contains("7 succeeded");
        assertThat(db.rows("SELECT s.period_start || ' ' || s.period_end FROM seen s JOIN nightshift.run r ON r.id = s.run_id"
                + " WHERE r.job_name = 'backfilled' ORDER BY r.scheduled_at")).containsExactly(
                "2026-03-24T06:00:00+01:00 2026-03-25T06:00:00+01:00", "2026-03-25T06:00:00+01:00 2026-03-26T06:00:00+01:00",
                "2026-03-26T06:00:00+01:00 2026-03-27T06:00:00+01:00", "2026-03-27T06:00:00+01:00 2026-03-28T06:00:00+01:00",
                "2026-03-28T06:00:00+01:00 2026-03-29T06:00:00+02:00", "2026-03-29T06:00:00+02:00 2026-03-30T06:00:00+02:00",
                "2026-03-30T06:00:00+02:00 2026-03-31T06:00:00+02:00");
        // oldest first, never more than two at once: no run started before the one two places back had finished
        assertThat(db.queryLong("""
                SELECT count(*) FROM (SELECT started_at, lag(finished_at, 2) OVER (ORDER BY scheduled_at) AS two_back
                                      FROM nightshift.run WHERE job_name = 'backfilled') x
                WHERE started_at < two_back""")).isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> "done".equals(
                db.queryString("SELECT state FROM nightshift.backfill WHERE job_name = 'backfilled'")));
    }

    @Test
    void backfills_over_http_plan_start_list_and_cancel_and_the_dashboard_shows_their_progress() throws Exception {
        String range = "\"from\": \"2026-02-01T00:00Z\", \"to\": \"2026-02-05T00:00Z\"";
        Http.Reply plan = http.post("/api/jobs/http-backfilled/backfill", "{" + range + ", \"dryRun\": true}", TOKEN);
        assertThat(plan.status()).as(plan.body()).isEqualTo(200);
        assertThat(plan.json().path("slots")).hasSize(4);
        assertThat(plan.json().path("slots").get(0).path("action").asText()).isEqualTo("enqueue");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.backfill WHERE job_name = 'http-backfilled'")).isZero();

        Http.Reply noToken = http.post("/api/jobs/http-backfilled/backfill", "{" + range + "}", null);
        Http.Reply unscheduled = http.post("/api/jobs/adhoc/backfill", "{" + range + "}", TOKEN);
        Http.Reply unknown = http.post("/api/jobs/nope/backfill", "{" + range + "}", TOKEN);
        Http.Reply badMax = http.post("/api/jobs/http-backfilled/backfill", "{" + range + ", \"maxActive\": 0}", TOKEN);
        assertThat(noToken.status()).isEqualTo(401);
        assertThat(unscheduled.status()).isEqualTo(400);
        assertThat(unscheduled.json().path("error").asText()).contains("job adhoc has no schedule");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(badMax.status()).isEqualTo(400);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.backfill WHERE job_name IN ('http-backfilled', 'adhoc')")).isZero();

        Http.Reply started = http.post("/api/jobs/http-backfilled/backfill", "{" + range + ", \"maxActive\": 1, \"reverse\": true}", TOKEN);
        assertThat(started.status()).as(started.body()).isEqualTo(201);
        long id = started.json().path("backfill").path("id").asLong();
        assertThat(started.header("Location")).isEqualTo("/api/backfills/" + id);
        assertThat(http.get("/api/backfills/" + id).json().path("slots").asInt()).isEqualTo(4);
        assertThat(http.get("/api/backfills").json().path("backfills").findValuesAsText("job")).contains("http-backfilled");
        String page = http.get("/").body();
        assertThat(page).contains("id=\"backfills\"").contains("data-backfill-id=\"" + id + "\"").contains("<progress max=\"4\"")
                .contains("data-backfill=\"http-backfilled\"");

        Http.Reply cancelled = http.post("/api/backfills/" + id + "/cancel", "", TOKEN);
        Http.Reply again = http.post("/api/backfills/" + id + "/cancel", "", TOKEN);
        assertThat(cancelled.status()).as(cancelled.body()).isEqualTo(200);
        assertThat(cancelled.json().path("backfill").path("state").asText()).isEqualTo("cancelled");
        assertThat(again.status()).isEqualTo(409);
        assertThat(http.post("/api/backfills/999999/cancel", "", TOKEN).status()).isEqualTo(404);
    }

    @Test
    void runs_without_a_period_after_runs_with_one_on_the_same_worker_see_empty_settings() throws Exception {
        Instant slot = Instant.parse("2026-01-10T23:00:00Z");
        fire("nightly", slot);
        long withPeriod = runOf("nightly", slot);
        Cli.Result r = Cli.run(db.env(), "trigger", "adhoc", "--wait");
        long without = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'adhoc'");

        assertThat(awaitFinished(withPeriod)).isEqualTo("succeeded");
        assertThat(r.exitCode()).isZero();
        assertThat(seen(without)).isEqualTo("  ");
        List<String> none = db.rows("SELECT id FROM nightshift.run WHERE job_name = 'adhoc' AND period_start IS NOT NULL AND id = " + without);
        assertThat(none).isEmpty();
    }
}
