package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Schedule;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.quartz.JobDetail;
import org.quartz.JobExecutionContext;
import org.quartz.JobExecutionException;
import org.quartz.Scheduler;
import org.quartz.impl.JobExecutionContextImpl;
import org.quartz.impl.triggers.SimpleTriggerImpl;
import org.quartz.spi.OperableTrigger;
import org.quartz.spi.TriggerFiredBundle;

/** The Quartz job alone, given fires of a shared schedule as Quartz builds them: normal, repeated, recovering. */
@Tag("database")
class ScheduledEnqueueTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final String HOURLY = "schedule:\n  cron: \"0 0 * * * ?\"\n";
    static JobsDir jobs;
    static final Metrics metrics = new Metrics(new SimpleMeterRegistry());

    @BeforeAll
    static void sync() {
        jobs = new JobsDir(db.tempDir(), "enqueue")
                .sql("hourly", "SELECT 1", HOURLY)
                .sql("hourly-too", "SELECT 1", HOURLY + "max_attempts: 7\n")
                .sql("resting", "SELECT 1", HOURLY)
                .sql("leaving", "SELECT 1", HOURLY)
                .sql("daily", "SELECT 1", "schedule:\n  cron: \"0 0 3 * * ?\"\n");
        assertThat(Cli.run(db.env(), "sync", "--jobs-dir", jobs.path().toString()).exitCode()).isZero();
        assertThat(Cli.run(db.env(), "pause", "resting", "--jobs-dir", jobs.path().toString()).exitCode()).isZero();
    }

    private static Schedule schedule(String job) {
        return JobCatalog.load(jobs.path()).find(job).orElseThrow().schedule();
    }

    private static JobExecutionContext fire(Schedule schedule, Instant scheduled, Instant recoveredSlot) {
        JobDetail detail = Triggers.jobDetail(schedule);
        SimpleTriggerImpl trigger = new SimpleTriggerImpl();
        trigger.setKey(Triggers.triggerKey(Triggers.key(schedule)));
        trigger.setJobKey(detail.getKey());
        if (recoveredSlot != null) {
            // what Quartz puts in the data map of the one-shot trigger that re-fires a dead node's job
            trigger.getJobDataMap().put(Scheduler.FAILED_JOB_ORIGINAL_TRIGGER_SCHEDULED_FIRETIME_IN_MILLISECONDS,
                    Long.toString(recoveredSlot.toEpochMilli()));
        }
        Date at = Date.from(scheduled);
        TriggerFiredBundle bundle = new TriggerFiredBundle(detail, (OperableTrigger) trigger, null, recoveredSlot != null,
                new Date(), at, null, null);
        ScheduledEnqueue e = new ScheduledEnqueue(db.dataSource(), metrics, Duration.ofMinutes(1));
        return new JobExecutionContextImpl(null, bundle, e);
    }

    private static void execute(JobExecutionContext c) throws Exception {
        new ScheduledEnqueue(db.dataSource(), metrics, Duration.ofMinutes(1)).execute(c);
    }

    private static double fires(String job, String result) {
        return metrics.registry().find("nightshift.scheduler.fires").tag("job_name", job).tag("result", result).counters().stream()
                .mapToDouble(x -> x.count()).sum();
    }

    @Test
    void one_fire_enqueues_one_run_for_each_current_unpaused_job_of_the_schedule_with_one_notify() throws Exception {
        Instant slot = Instant.parse("2026-11-22T05:00:00Z");
        List<PGNotification> notifications;
        try (Connection listen = db.dataSource().getConnection()) {
            try (Statement s = listen.createStatement()) {
                s.execute("LISTEN " + RunQueue.CHANNEL);
            }
            execute(fire(schedule("hourly"), slot, null));
            // pgjdbc reads notifications that arrived with the reply to any statement
            try (Statement s = listen.createStatement()) {
                s.execute("SELECT 1");
            }
            notifications = Arrays.asList(listen.unwrap(PGConnection.class).getNotifications());
        }

        assertThat(db.rows("SELECT job_name, trigger, state, scheduled_at, dedupe_key, max_attempts FROM nightshift.run"
                + " WHERE scheduled_at = '" + slot + "' ORDER BY job_name")).containsExactly(
                "hourly|schedule|available|2026-11-22 05:00:00+00|schedule:hourly:" + slot.toEpochMilli() + "|3",
                "hourly-too|schedule|available|2026-11-22 05:00:00+00|schedule:hourly-too:" + slot.toEpochMilli() + "|7",
                "leaving|schedule|available|2026-11-22 05:00:00+00|schedule:leaving:" + slot.toEpochMilli() + "|3");
        assertThat(notifications).extracting(PGNotification::getParameter).containsExactly("hourly");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'daily' AND scheduled_at = '" + slot + "'"))
                .as("another schedule").isZero();
    }

    @Test
    void a_fire_repeated_after_recovery_finds_its_slots_runs_and_adds_none() throws Exception {
        Instant slot = Instant.parse("2026-11-22T03:00:00Z");
        Schedule daily = schedule("daily");
        execute(fire(daily, slot, null));
        execute(fire(daily, slot, null));
        execute(fire(daily, Instant.parse("2026-11-22T03:00:14.250Z"), slot));

        assertThat(db.rows("SELECT trigger, scheduled_at, dedupe_key FROM nightshift.run WHERE job_name = 'daily'"))
                .containsExactly("schedule|2026-11-22 03:00:00+00|schedule:daily:" + slot.toEpochMilli());
        assertThat(fires("daily", "enqueued")).isEqualTo(1);
        assertThat(fires("daily", "duplicate")).isEqualTo(2);
    }

    @Test
    void paused_and_removed_jobs_of_a_shared_schedule_get_no_run_and_are_counted_as_such() throws Exception {
        // a sync marked the job removed and has not yet dealt with the triggers
        db.execute("UPDATE nightshift.job SET removed_at = now() WHERE name = 'leaving'");
        try {
            Instant slot = Instant.parse("2026-11-22T04:00:00Z");
            execute(fire(schedule("hourly"), slot, null));

            assertThat(db.rows("SELECT job_name FROM nightshift.run WHERE scheduled_at = '" + slot + "' ORDER BY job_name"))
                    .containsExactly("hourly", "hourly-too");
            assertThat(fires("resting", "paused")).isEqualTo(1);
            assertThat(fires("leaving", "removed")).isEqualTo(1);
            assertThat(fires("resting", "enqueued") + fires("leaving", "enqueued")).isZero();
        } finally {
            db.execute("UPDATE nightshift.job SET removed_at = NULL WHERE name = 'leaving'");
        }
    }

    @Test
    void a_fire_that_cannot_insert_fails_and_counts_failed_for_each_job_of_the_schedule() throws Exception {
        Schedule everyFiveMinutes = new Schedule("0 */5 * * * ?", ZoneOffset.UTC, Schedule.Misfire.SKIP);
        db.execute("INSERT INTO nightshift.job (name, type, max_attempts, schedule_key) VALUES ('broken', 'sql', 1, '"
                + Triggers.key(everyFiveMinutes) + "')");
        db.execute("ALTER TABLE nightshift.queue ADD CONSTRAINT no_broken CHECK (job_name <> 'broken') NOT VALID");
        try {
            assertThatThrownBy(() -> execute(fire(everyFiveMinutes, Instant.parse("2026-11-22T06:05:00Z"), null))).isInstanceOf(JobExecutionException.class);
            assertThat(fires("broken", "failed")).isEqualTo(1);
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'broken'")).isZero();
        } finally {
            db.execute("ALTER TABLE nightshift.queue DROP CONSTRAINT no_broken");
        }
    }
}
