package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.Date;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.quartz.JobDetail;
import org.quartz.JobExecutionContext;
import org.quartz.Scheduler;
import org.quartz.impl.JobExecutionContextImpl;
import org.quartz.impl.triggers.SimpleTriggerImpl;
import org.quartz.spi.OperableTrigger;
import org.quartz.spi.TriggerFiredBundle;

/** The Quartz job alone, given fires as Quartz builds them: normal, repeated, recovering. */
class ScheduledEnqueueTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static JobsDir jobs;
    static final Metrics metrics = new Metrics(new SimpleMeterRegistry());

    @BeforeAll
    static void sync() {
        jobs = new JobsDir(db.tempDir(), "enqueue")
                .sql("hourly", "SELECT 1", "schedule:\n  cron: \"0 0 * * * ?\"\n")
                .sql("resting", "SELECT 1", "schedule:\n  cron: \"0 0 * * * ?\"\n");
        assertThat(Cli.run(db.env(), "sync", "--jobs-dir", jobs.path().toString()).exitCode()).isZero();
        assertThat(Cli.run(db.env(), "pause", "resting", "--jobs-dir", jobs.path().toString()).exitCode()).isZero();
    }

    private static JobExecutionContext fire(String job, Instant scheduled, Instant recoveredSlot) {
        JobDetail detail = Triggers.jobDetail(JobCatalog.load(jobs.path()).find(job).orElseThrow());
        SimpleTriggerImpl trigger = new SimpleTriggerImpl();
        trigger.setKey(Triggers.triggerKey(job));
        trigger.setJobKey(detail.getKey());
        if (recoveredSlot != null) {
            // what Quartz puts in the data map of the one-shot trigger that re-fires a dead node's job
            trigger.getJobDataMap().put(Scheduler.FAILED_JOB_ORIGINAL_TRIGGER_SCHEDULED_FIRETIME_IN_MILLISECONDS,
                    Long.toString(recoveredSlot.toEpochMilli()));
        }
        Date at = Date.from(scheduled);
        TriggerFiredBundle bundle = new TriggerFiredBundle(detail, (OperableTrigger) trigger, null, recoveredSlot != null,
                new Date(), at, null, null);
        ScheduledEnqueue e = new ScheduledEnqueue(db.dataSource(), metrics);
        return new JobExecutionContextImpl(null, bundle, e);
    }

    private static void execute(JobExecutionContext c) throws Exception {
        new ScheduledEnqueue(db.dataSource(), metrics).execute(c);
    }

    private static double fires(String result) {
        return metrics.registry().find("nightshift.scheduler.fires").tag("result", result).counters().stream()
                .mapToDouble(x -> x.count()).sum();
    }

    @Test
    void a_fire_repeated_after_recovery_finds_its_slots_run_and_adds_none() throws Exception {
        Instant slot = Instant.parse("2026-11-22T03:00:00Z");
        execute(fire("hourly", slot, null));
        execute(fire("hourly", slot, null));
        execute(fire("hourly", Instant.parse("2026-11-22T03:00:14.250Z"), slot));

        assertThat(db.rows("SELECT trigger, scheduled_at, dedupe_key FROM nightshift.run WHERE job_name = 'hourly'"))
                .containsExactly("schedule|2026-11-22 03:00:00+00|schedule:hourly:" + slot.toEpochMilli());
        assertThat(fires("enqueued")).isEqualTo(1);
        assertThat(fires("duplicate")).isEqualTo(2);
    }

    @Test
    void a_fire_of_a_paused_job_adds_no_run() throws Exception {
        execute(fire("resting", Instant.parse("2026-11-22T04:00:00Z"), null));
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'resting'")).isZero();
        assertThat(fires("paused")).isEqualTo(1);
    }
}
