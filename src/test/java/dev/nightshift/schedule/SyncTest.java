package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.json.Json;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.quartz.CronScheduleBuilder;
import org.quartz.JobBuilder;
import org.quartz.TriggerBuilder;

/**
 * The catalog → job rows and Quartz triggers sync: one trigger per distinct schedule, jobs moving
 * between triggers, removals, the upgrade from per-job triggers, and nodes syncing at once.
 */
@Tag("database")
class SyncTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void migrate() {
        assertThat(Cli.run(db.env(), "migrate").exitCode()).isZero();
    }

    /** Each test starts from an empty catalog: no current job, no trigger. */
    @BeforeEach
    void emptyCatalog() throws Exception {
        JobsDir empty = new JobsDir(Files.createTempDirectory("empty"), "none");
        assertThat(cli(empty, "sync").exitCode()).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers")).isZero();
    }

    /** Each current job with the trigger of its schedule. */
    private static final String JOB_TRIGGERS = """
            SELECT j.name, c.cron_expression, c.time_zone_id, t.misfire_instr, t.trigger_state
            FROM nightshift.job j
            JOIN nightshift.qrtz_triggers t ON t.trigger_name = j.schedule_key
            JOIN nightshift.qrtz_cron_triggers c USING (sched_name, trigger_name, trigger_group)
            WHERE j.removed_at IS NULL
            ORDER BY j.name
            """;

    private static String schedule(String cron, String extra) {
        return "schedule:\n  cron: \"" + cron + "\"\n" + extra;
    }

    private static Cli.Result cli(JobsDir dir, String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--jobs-dir";
        all[args.length + 1] = dir.path().toString();
        return Cli.run(db.env(), all);
    }

    private static long triggers() throws Exception {
        return db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers");
    }

    private static String triggerOf(String job) throws Exception {
        return db.queryString("SELECT schedule_key FROM nightshift.job WHERE name = '" + job + "'");
    }

    @Test
    void sync_makes_triggers_match_the_catalog_and_keeps_a_removed_jobs_runs() throws Exception {
        JobsDir v1 = new JobsDir(db.tempDir(), "v1")
                .sql("alpha", "SELECT 1", schedule("0 0 * * * ?", "  timezone: Europe/Paris\n"))
                .sql("beta", "SELECT 1", schedule("0 15 3 * * ?", "  misfire: skip\n"))
                .sql("gamma", "SELECT 1", null);
        Cli.Result first = cli(v1, "sync");
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).contains("triggers: 2 new, 0 rewritten, 0 deleted");
        assertThat(db.rows(JOB_TRIGGERS)).containsExactly(
                "alpha|0 0 * * * ?|Europe/Paris|1|WAITING",
                "beta|0 15 3 * * ?|UTC|2|WAITING");
        assertThat(triggers()).isEqualTo(2);
        assertThat(triggerOf("gamma")).isNull();
        long betaRun = new RunQueue(db.dataSource()).enqueue(NewRun.manual("beta", Map.of(), null)).id();

        JobsDir v2 = new JobsDir(db.tempDir(), "v2")
                .sql("alpha", "SELECT 1", schedule("0 */5 * * * ?", "  timezone: Europe/Paris\n"))
                .sql("gamma", "SELECT 1", null)
                .sql("delta", "SELECT 1", schedule("30 * * * * ?", "  timezone: America/New_York\n  misfire: skip\n"));
        Cli.Result second = cli(v2, "sync");
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.out()).contains("1 added", "1 removed", "triggers: 2 new, 0 rewritten, 2 deleted");
        assertThat(db.rows(JOB_TRIGGERS)).containsExactly(
                "alpha|0 */5 * * * ?|Europe/Paris|1|WAITING",
                "delta|30 * * * * ?|America/New_York|2|WAITING");
        assertThat(triggers()).isEqualTo(2);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_job_details")).isEqualTo(2);
        assertThat(db.rows("SELECT name, removed_at IS NOT NULL, schedule_key IS NULL FROM nightshift.job"
                + " WHERE name IN ('alpha', 'beta', 'gamma', 'delta') ORDER BY name"))
                .as("a removed job leaves its schedule").containsExactly("alpha|f|f", "beta|t|t", "delta|f|f", "gamma|f|t");

        Cli.Result runs = cli(v2, "runs", "--job", "beta");
        assertThat(runs.out()).contains(Long.toString(betaRun)).contains("beta");
        Cli.Result jobs = cli(v2, "jobs", "--removed");
        assertThat(jobs.out()).contains("beta (removed)");

        Cli.Result again = cli(v2, "sync");
        assertThat(again.out()).contains("0 added, 0 updated, 0 removed; triggers: 0 new, 0 rewritten, 0 deleted");
    }

    @Test
    void jobs_share_a_trigger_only_when_cron_zone_and_misfire_policy_all_match() throws Exception {
        String hourly = "0 0 * * * ?";
        JobsDir dir = new JobsDir(db.tempDir(), "shared")
                .sql("s-one", "SELECT 1", schedule(hourly, ""))
                .sql("s-two", "SELECT 1", schedule(hourly, "  timezone: UTC\n  misfire: fire-once\n"))
                .sql("s-paris", "SELECT 1", schedule(hourly, "  timezone: Europe/Paris\n"))
                .sql("s-skip", "SELECT 1", schedule(hourly, "  misfire: skip\n"))
                .sql("s-other", "SELECT 1", schedule("0 30 * * * ?", ""));
        Cli.Result r = cli(dir, "sync");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("triggers: 4 new");

        assertThat(triggers()).isEqualTo(4);
        assertThat(triggerOf("s-one")).isEqualTo(triggerOf("s-two")).startsWith("0_0_*_*_*_?-");
        assertThat(List.of(triggerOf("s-one"), triggerOf("s-paris"), triggerOf("s-skip"), triggerOf("s-other"))).doesNotHaveDuplicates();
        assertThat(db.rows(JOB_TRIGGERS)).containsExactly(
                "s-one|0 0 * * * ?|UTC|1|WAITING",
                "s-other|0 30 * * * ?|UTC|1|WAITING",
                "s-paris|0 0 * * * ?|Europe/Paris|1|WAITING",
                "s-skip|0 0 * * * ?|UTC|2|WAITING",
                "s-two|0 0 * * * ?|UTC|1|WAITING");

        // the listing takes each job's next fire time from its schedule's trigger
        long next = db.queryLong("SELECT next_fire_time FROM nightshift.qrtz_triggers WHERE trigger_name = '" + triggerOf("s-one") + "'");
        var listed = Json.MAPPER.readTree(cli(dir, "jobs", "--json").out());
        assertThat(listed).filteredOn(j -> j.get("name").asText().matches("s-(one|two)"))
                .extracting(j -> Instant.parse(j.get("nextFireAt").asText()).toEpochMilli())
                .containsExactly(next, next);
    }

    @Test
    void a_job_whose_cron_changes_moves_to_another_trigger_and_the_old_one_goes_when_no_job_has_it() throws Exception {
        JobsDir v1 = new JobsDir(db.tempDir(), "move-v1")
                .sql("m-one", "SELECT 1", schedule("0 0 * * * ?", ""))
                .sql("m-two", "SELECT 1", schedule("0 0 * * * ?", ""));
        assertThat(cli(v1, "sync").out()).contains("triggers: 1 new, 0 rewritten, 0 deleted");
        String hourly = triggerOf("m-one");
        long hourlyNext = db.queryLong("SELECT next_fire_time FROM nightshift.qrtz_triggers WHERE trigger_name = '" + hourly + "'");

        JobsDir v2 = new JobsDir(db.tempDir(), "move-v2")
                .sql("m-one", "SELECT 1", schedule("0 30 * * * ?", ""))
                .sql("m-two", "SELECT 1", schedule("0 0 * * * ?", ""));
        Cli.Result moved = cli(v2, "sync");
        assertThat(moved.out()).contains("0 added", "triggers: 1 new, 0 rewritten, 0 deleted");
        assertThat(triggerOf("m-one")).isNotEqualTo(hourly).startsWith("0_30_");
        assertThat(triggerOf("m-two")).isEqualTo(hourly);
        assertThat(db.rows(JOB_TRIGGERS)).containsExactly("m-one|0 30 * * * ?|UTC|1|WAITING", "m-two|0 0 * * * ?|UTC|1|WAITING");
        assertThat(db.queryLong("SELECT next_fire_time FROM nightshift.qrtz_triggers WHERE trigger_name = '" + hourly + "'"))
                .as("the trigger still in use was left alone").isEqualTo(hourlyNext);

        JobsDir v3 = new JobsDir(db.tempDir(), "move-v3")
                .sql("m-one", "SELECT 1", schedule("0 30 * * * ?", ""))
                .sql("m-two", "SELECT 1", schedule("0 30 * * * ?", ""));
        assertThat(cli(v3, "sync").out()).contains("0 added", "triggers: 0 new, 0 rewritten, 1 deleted");
        assertThat(triggers()).isEqualTo(1);
        assertThat(triggerOf("m-two")).isEqualTo(triggerOf("m-one"));
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers WHERE trigger_name = '" + hourly + "'")).isZero();
    }

    @Test
    void upgrading_from_per_job_triggers_replaces_them_with_one_trigger_per_schedule() throws Exception {
        JobsDir dir = new JobsDir(db.tempDir(), "upgrade")
                .sql("u-one", "SELECT 1", schedule("0 0 * * * ?", ""))
                .sql("u-two", "SELECT 1", schedule("0 0 * * * ?", ""));
        assertThat(cli(dir, "sync").exitCode()).isZero();
        // What an older version left: job rows without a schedule key and a trigger named after each job.
        db.execute("UPDATE nightshift.job SET schedule_key = NULL");
        try (QuartzCluster old = QuartzCluster.create(db.dataSource(), "old-version", SchedulerOptions.defaults(),
                new Metrics(new SimpleMeterRegistry()))) {
            old.quartz().clear();
            for (String job : List.of("u-one", "u-two")) {
                old.quartz().scheduleJob(
                        JobBuilder.newJob(ScheduledEnqueue.class).withIdentity(Triggers.jobKey(job)).requestRecovery(true).build(),
                        TriggerBuilder.newTrigger().withIdentity(Triggers.triggerKey(job))
                                .withSchedule(CronScheduleBuilder.cronSchedule("0 0 * * * ?")).build());
            }
        }
        assertThat(db.rows("SELECT trigger_name FROM nightshift.qrtz_triggers ORDER BY 1")).containsExactly("u-one", "u-two");

        Cli.Result r = cli(dir, "sync");
        assertThat(r.out()).contains("0 added, 2 updated", "triggers: 1 new, 0 rewritten, 2 deleted");
        assertThat(db.rows("SELECT trigger_name FROM nightshift.qrtz_triggers")).containsExactly(triggerOf("u-one"));
        assertThat(db.rows("SELECT job_name FROM nightshift.qrtz_job_details")).containsExactly(triggerOf("u-two"));
    }

    @Test
    void nodes_syncing_the_same_catalog_at_once_end_with_one_trigger_per_schedule() throws Exception {
        JobsDir dir = new JobsDir(Files.createTempDirectory("race"), "race");
        for (int i = 0; i < 20; i++) {
            // 20 jobs, 10 schedules
            dir.sql("race-" + i, "SELECT 1", schedule("0 " + (i / 2) + " * * * ?", ""));
        }
        JobCatalog catalog = JobCatalog.load(dir.path());
        List<CompletableFuture<ScheduleSync.Result>> syncs = new java.util.ArrayList<>();
        for (int n = 0; n < 4; n++) {
            QuartzCluster q = db.closeAfterAll(QuartzCluster.create(db.dataSource(), "racer-" + n, SchedulerOptions.defaults(),
                    new Metrics(new SimpleMeterRegistry())));
            syncs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return new ScheduleSync(db.dataSource(), q).sync(catalog);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        int scheduled = syncs.stream().mapToInt(f -> f.join().scheduled()).sum();
        assertThat(scheduled).as("the first sync schedules, the others find it done").isEqualTo(10);
        assertThat(triggers()).isEqualTo(10);
        assertThat(db.queryLong("SELECT count(DISTINCT schedule_key) FROM nightshift.job WHERE name LIKE 'race-%'")).isEqualTo(10);
        assertThat(db.queryLong("""
                SELECT count(*) FROM nightshift.job j
                WHERE j.name LIKE 'race-%' AND NOT EXISTS (SELECT 1 FROM nightshift.qrtz_triggers t WHERE t.trigger_name = j.schedule_key)
                """)).as("every job has its trigger").isZero();
    }
}
