package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The catalog → job rows and Quartz triggers sync: changes, removals, and nodes syncing at once. */
class SyncTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void migrate() {
        assertThat(Cli.run(db.env(), "migrate").exitCode()).isZero();
    }

    private static final String TRIGGERS = """
            SELECT t.trigger_name, c.cron_expression, c.time_zone_id, t.misfire_instr, t.trigger_state
            FROM nightshift.qrtz_triggers t
            JOIN nightshift.qrtz_cron_triggers c USING (sched_name, trigger_name, trigger_group)
            ORDER BY t.trigger_name
            """;

    private static String schedule(String cron, String extra) {
        return "schedule:\n  cron: \"" + cron + "\"\n" + extra;
    }

    private Cli.Result cli(JobsDir dir, String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--jobs-dir";
        all[args.length + 1] = dir.path().toString();
        return Cli.run(db.env(), all);
    }

    @Test
    void sync_makes_triggers_match_the_catalog_and_keeps_a_removed_jobs_runs() throws Exception {
        JobsDir v1 = new JobsDir(db.tempDir(), "v1")
                .sql("alpha", "SELECT 1", schedule("0 0 * * * ?", "  timezone: Europe/Paris\n"))
                .sql("beta", "SELECT 1", schedule("0 15 3 * * ?", "  misfire: skip\n"))
                .sql("gamma", "SELECT 1", null);
        Cli.Result first = cli(v1, "sync");
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).contains("triggers: 2 new, 0 changed");
        assertThat(db.rows(TRIGGERS)).containsExactly(
                "alpha|0 0 * * * ?|Europe/Paris|1|WAITING",
                "beta|0 15 3 * * ?|UTC|2|WAITING");
        long betaRun = new RunQueue(db.dataSource()).enqueue(NewRun.manual("beta", Map.of(), null)).id();

        JobsDir v2 = new JobsDir(db.tempDir(), "v2")
                .sql("alpha", "SELECT 1", schedule("0 */5 * * * ?", "  timezone: Europe/Paris\n"))
                .sql("gamma", "SELECT 1", null)
                .sql("delta", "SELECT 1", schedule("30 * * * * ?", "  timezone: America/New_York\n  misfire: skip\n"));
        Cli.Result second = cli(v2, "sync");
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.out()).contains("1 added", "1 removed", "triggers: 1 new, 1 changed, 1 deleted");
        assertThat(db.rows(TRIGGERS)).containsExactly(
                "alpha|0 */5 * * * ?|Europe/Paris|1|WAITING",
                "delta|30 * * * * ?|America/New_York|2|WAITING");
        assertThat(db.rows("SELECT job_name FROM nightshift.qrtz_job_details ORDER BY job_name")).containsExactly("alpha", "delta");
        assertThat(db.rows("SELECT name, removed_at IS NOT NULL FROM nightshift.job WHERE name NOT LIKE 'race-%' ORDER BY name"))
                .containsExactly("alpha|f", "beta|t", "delta|f", "gamma|f");

        Cli.Result runs = cli(v2, "runs", "--job", "beta");
        assertThat(runs.out()).contains(Long.toString(betaRun)).contains("beta");
        Cli.Result jobs = cli(v2, "jobs", "--removed");
        assertThat(jobs.out()).contains("beta (removed)");

        Cli.Result again = cli(v2, "sync");
        assertThat(again.out()).contains("0 added, 0 updated, 0 removed; triggers: 0 new, 0 changed, 0 deleted");
    }

    @Test
    void nodes_syncing_the_same_catalog_at_once_end_with_one_trigger_per_job() throws Exception {
        JobsDir dir = new JobsDir(Files.createTempDirectory("race"), "race");
        for (int i = 0; i < 20; i++) {
            dir.sql("race-" + i, "SELECT 1", schedule("0 " + i + " * * * ?", ""));
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
        assertThat(scheduled).as("the first sync schedules, the others find it done").isEqualTo(20);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.qrtz_triggers WHERE trigger_name LIKE 'race-%'")).isEqualTo(20);
        assertThat(db.queryLong("SELECT count(DISTINCT trigger_name) FROM nightshift.qrtz_triggers WHERE trigger_name LIKE 'race-%'")).isEqualTo(20);
    }
}
