package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backfills without a worker (each run's fate is set by hand, so every count is exact), then one
 * with a daemon running it. Each test uses its own job, so their runs never mix.
 */
@Tag("database")
class BackfillTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    /** Daily at midnight UTC, written eight ways: a fire of one job's schedule must not add runs of the others. */
    static final List<String> DAILY = List.of("0 0 0 * * ?", "0 0 0 ? * *", "0 0 0 * * ? *", "0 0 0 ? * * *");

    static JobsDir jobs;

    @BeforeAll
    static void sync() {
        jobs = new JobsDir(db.tempDir(), "backfill");
        List<String> names = List.of("plain", "failed-policy", "all-policy", "bounded", "backwards", "raced", "cancelled", "dry");
        for (int i = 0; i < names.size(); i++) {
            jobs.sql(names.get(i), "SELECT 1", "schedule:\n  cron: \"" + DAILY.get(i % 4) + "\"\n  misfire: "
                    + (i < 4 ? "fire-once" : "skip") + "\nconcurrency: 4\n");
        }
        jobs.sql("unscheduled", "SELECT 1", null);
        Cli.Result r = Cli.run(db.env(), "sync", "--jobs-dir", jobs.path().toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    static Cli.Result cli(String... args) {
        return Cli.run(db.env(), args);
    }

    static Backfills backfills() {
        return new Backfills(db.dataSource(), Clock.systemUTC());
    }

    /** Fires the job's schedule for {@code slot} through the real Quartz job, as one node's scheduler would. */
    static void fire(String job, Instant slot) {
        var schedule = JobCatalog.load(jobs.path()).find(job).orElseThrow().schedule();
        try {
            Fires.fire(db.dataSource(), schedule, slot);
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    static void finish(String job, String slot, String state) throws Exception {
        dev.nightshift.testing.RunRows.finish(db, "job_name = '" + job + "' AND scheduled_at = '" + slot + "'", state);
    }

    /** slot|trigger|state|attempt of the job's runs, by slot. */
    static List<String> runs(String job) throws Exception {
        return db.rows("SELECT to_char(scheduled_at AT TIME ZONE 'UTC', 'MM-DD') || '|' || trigger || '|' || state"
                + " FROM nightshift.run WHERE job_name = '" + job + "' ORDER BY scheduled_at");
    }

    @Test
    void a_job_without_a_schedule_a_future_range_or_a_bad_policy_is_refused_and_nothing_is_recorded() throws Exception {
        Cli.Result unscheduled = cli("backfill", "unscheduled", "--from", "2026-01-01T00:00Z", "--to", "2026-01-05T00:00Z");
        Cli.Result future = cli("backfill", "plain", "--from", "2026-01-01T00:00Z", "--to", "2999-01-01T00:00Z");
        Cli.Result policy = cli("backfill", "plain", "--from", "2026-01-01T00:00Z", "--to", "2026-01-05T00:00Z", "--reprocess", "some");
        Cli.Result unknown = cli("backfill", "nope", "--from", "2026-01-01T00:00Z", "--to", "2026-01-05T00:00Z");
        Cli.Result empty = cli("backfill", "plain", "--from", "2026-01-05T00:00Z", "--to", "2026-01-01T00:00Z");

        assertThat(unscheduled.exitCode()).isEqualTo(2);
        assertThat(unscheduled.err()).contains("job unscheduled has no schedule, so it has no slots to backfill")
                .contains("trigger unscheduled --at TIME");
        assertThat(future.exitCode()).isEqualTo(2);
        assertThat(future.err()).contains("is in the future");
        assertThat(policy.exitCode()).isEqualTo(2);
        assertThat(policy.err()).contains("--reprocess must be none, failed or all; got 'some'");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown job 'nope'");
        assertThat(empty.exitCode()).isEqualTo(2);
        assertThat(empty.err()).contains("must be before --to");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.backfill WHERE job_name IN ('unscheduled', 'nope') OR range_to > now()"
                + " OR range_to < range_from OR reprocess <> 'none'")).isZero();
    }

    @Test
    void each_slot_gets_one_run_with_the_schedulers_key_and_period_and_slots_already_run_are_left_alone() throws Exception {
        fire("plain", Instant.parse("2026-01-02T00:00:00Z"));
        finish("plain", "2026-01-02T00:00:00Z", "succeeded");
        fire("plain", Instant.parse("2026-01-03T00:00:00Z"));
        finish("plain", "2026-01-03T00:00:00Z", "dead");
        fire("plain", Instant.parse("2026-01-04T00:00:00Z"));     // still waiting

        Cli.Result r = cli("backfill", "plain", "--from", "2026-01-01T00:00Z", "--to", "2026-01-06T00:00Z");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("5 slots").contains("3 left alone");
        assertThat(runs("plain")).containsExactly("01-01|backfill|available", "01-02|schedule|succeeded", "01-03|schedule|dead",
                "01-04|schedule|available", "01-05|backfill|available");
        assertThat(db.rows("SELECT dedupe_key, period_start, period_end FROM nightshift.run WHERE job_name = 'plain'"
                + " AND trigger = 'backfill' ORDER BY scheduled_at")).containsExactly(
                "schedule:plain:" + Instant.parse("2026-01-01T00:00:00Z").toEpochMilli() + "|2025-12-31 00:00:00+00|2026-01-01 00:00:00+00",
                "schedule:plain:" + Instant.parse("2026-01-05T00:00:00Z").toEpochMilli() + "|2026-01-04 00:00:00+00|2026-01-05 00:00:00+00");

        // the scheduler firing a slot the backfill made adds nothing
        fire("plain", Instant.parse("2026-01-05T00:00:00Z"));
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'plain'")).isEqualTo(5);
    }

    @Test
    void reprocess_failed_reruns_the_dead_slot_as_the_same_run_and_keeps_the_succeeded_one() throws Exception {
        fire("failed-policy", Instant.parse("2026-01-02T00:00:00Z"));
        finish("failed-policy", "2026-01-02T00:00:00Z", "succeeded");
        fire("failed-policy", Instant.parse("2026-01-03T00:00:00Z"));
        finish("failed-policy", "2026-01-03T00:00:00Z", "dead");
        long dead = db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'failed-policy' AND state = 'dead'");

        Cli.Result r = cli("backfill", "failed-policy", "--from", "2026-01-02T00:00Z", "--to", "2026-01-04T00:00Z", "--reprocess", "failed");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(runs("failed-policy")).containsExactly("01-02|schedule|succeeded", "01-03|backfill|available");
        assertThat(db.queryLong("SELECT id FROM nightshift.run WHERE job_name = 'failed-policy' AND state = 'available'")).isEqualTo(dead);
    }

    @Test
    void reprocess_all_reruns_finished_slots_but_never_beside_a_waiting_run_of_the_same_slot() throws Exception {
        fire("all-policy", Instant.parse("2026-01-02T00:00:00Z"));
        finish("all-policy", "2026-01-02T00:00:00Z", "succeeded");
        fire("all-policy", Instant.parse("2026-01-03T00:00:00Z"));     // waiting

        Cli.Result r = cli("backfill", "all-policy", "--from", "2026-01-02T00:00Z", "--to", "2026-01-04T00:00Z", "--reprocess", "all");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(runs("all-policy")).containsExactly("01-02|backfill|available", "01-03|schedule|available");
        assertThat(r.out()).contains("1 left alone");
    }

    @Test
    void max_active_bounds_the_backfills_waiting_and_running_runs_and_finished_ones_make_room() throws Exception {
        Cli.Result r = cli("backfill", "bounded", "--from", "2026-02-01T00:00Z", "--to", "2026-02-11T00:00Z", "--max-active", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        long id = db.queryLong("SELECT id FROM nightshift.backfill WHERE job_name = 'bounded'");

        assertThat(runs("bounded")).containsExactly("02-01|backfill|available", "02-02|backfill|available");
        backfills().pumpAll();
        assertThat(runs("bounded")).hasSize(2);

        finish("bounded", "2026-02-01T00:00:00Z", "succeeded");
        finish("bounded", "2026-02-02T00:00:00Z", "dead");
        backfills().pumpAll();
        assertThat(runs("bounded")).containsExactly("02-01|backfill|succeeded", "02-02|backfill|dead",
                "02-03|backfill|available", "02-04|backfill|available");
        BackfillView v = backfills().find(id).orElseThrow();
        assertThat(v.pending()).isEqualTo(6);
        assertThat(v.succeeded()).isEqualTo(1);
        assertThat(v.failed()).isEqualTo(1);
        assertThat(v.waiting()).isEqualTo(2);
        assertThat(v.bar(10)).isEqualTo("[##........] 2/10");
    }

    @Test
    void reverse_runs_the_newest_slot_first() throws Exception {
        Cli.Result r = cli("backfill", "backwards", "--from", "2026-03-01T00:00Z", "--to", "2026-03-04T00:00Z", "--reverse",
                "--max-active", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(runs("backwards")).containsExactly("03-03|backfill|available");
        finish("backwards", "2026-03-03T00:00:00Z", "succeeded");
        backfills().pumpAll();
        assertThat(runs("backwards")).containsExactly("03-02|backfill|available", "03-03|backfill|succeeded");
    }

    @Test
    void a_dry_run_prints_each_slots_fate_and_changes_nothing() throws Exception {
        fire("dry", Instant.parse("2026-01-02T00:00:00Z"));
        finish("dry", "2026-01-02T00:00:00Z", "dead");
        Cli.Result r = cli("backfill", "dry", "--from", "2026-01-01T00:00Z", "--to", "2026-01-04T00:00Z", "--reprocess", "failed",
                "--dry-run");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("3 slots, 2 to enqueue, 1 to re-run, 0 left alone")
                .containsPattern("2026-01-01T00:00:00Z +enqueue")
                .containsPattern("2026-01-02T00:00:00Z +rerun +run \\d+ is dead");
        assertThat(runs("dry")).containsExactly("01-02|schedule|dead");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.backfill WHERE job_name = 'dry'")).isZero();
    }

    @Test
    void cancelling_a_backfill_cancels_its_waiting_runs_and_enqueues_no_more() throws Exception {
        Cli.Result r = cli("backfill", "cancelled", "--from", "2026-04-01T00:00Z", "--to", "2026-04-10T00:00Z", "--max-active", "3");
        assertThat(r.exitCode()).as(r.err()).isZero();
        long id = db.queryLong("SELECT id FROM nightshift.backfill WHERE job_name = 'cancelled'");

        Cli.Result c = cli("backfills", "--cancel", Long.toString(id));
        backfills().pumpAll();

        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("backfill " + id + " cancelled: 3 waiting runs cancelled");
        assertThat(runs("cancelled")).containsExactly("04-01|backfill|cancelled", "04-02|backfill|cancelled", "04-03|backfill|cancelled");
        BackfillView v = backfills().find(id).orElseThrow();
        assertThat(v.state()).isEqualTo("cancelled");
        assertThat(v.pending()).isZero();
        assertThat(cli("backfills").out()).contains("backfill " + id + " of job cancelled").contains("cancelled [");
        assertThat(cli("backfills", "--cancel", "999999").exitCode()).isEqualTo(2);
    }

    @Test
    void a_slot_fired_by_the_scheduler_while_a_backfill_enqueues_it_on_another_node_gets_one_run() throws Exception {
        Instant first = Instant.parse("2026-05-01T00:00:00Z");
        int slots = 30;
        List<String> outcomes = new ArrayList<>();
        for (int i = 0; i < slots; i++) {
            Instant slot = first.plus(Duration.ofDays(i));
            CyclicBarrier start = new CyclicBarrier(2);
            CompletableFuture<Void> scheduler = CompletableFuture.runAsync(() -> {
                await(start);
                fire("raced", slot);
            });
            CompletableFuture<Long> backfill = CompletableFuture.supplyAsync(() -> {
                await(start);
                try {
                    return backfills().start(new Backfills.Request("raced", slot, slot.plusSeconds(1), Backfills.Reprocess.NONE, null, false), dev.nightshift.audit.Actor.cli());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            scheduler.get(30, TimeUnit.SECONDS);
            long id = backfill.get(30, TimeUnit.SECONDS);
            outcomes.add(db.queryString("SELECT trigger FROM nightshift.run WHERE job_name = 'raced' AND scheduled_at = '" + slot + "'")
                    + "/" + backfills().find(id).orElseThrow().skipped());
        }

        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'raced'")).isEqualTo(slots);
        assertThat(db.queryLong("SELECT count(DISTINCT scheduled_at) FROM nightshift.run WHERE job_name = 'raced'")).isEqualTo(slots);
        // whoever came first made the run; the backfill left the slot alone exactly when the scheduler won
        assertThat(outcomes).allMatch(o -> o.equals("schedule/1") || o.equals("backfill/0"));
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
