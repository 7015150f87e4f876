package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.config.Schedule;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.testing.SteppedClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Date;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.quartz.CronTrigger;
import org.quartz.JobDetail;
import org.quartz.JobExecutionException;
import org.quartz.impl.JobExecutionContextImpl;
import org.quartz.impl.triggers.CronTriggerImpl;
import org.quartz.spi.TriggerFiredBundle;

/**
 * A fire that cannot reach the database keeps trying until its slot is past the misfire
 * threshold; the threshold is read on a stepped clock, so an hour's threshold is crossed at once.
 * The database is a port where nothing listens: the real driver, refused at once, no server needed.
 */
class FireThroughOutageTest {
    private static final Instant SLOT = Instant.parse("2026-03-10T05:00:00Z");
    private static final Duration THRESHOLD = Duration.ofHours(1);

    private static PGSimpleDataSource unreachable() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {"127.0.0.1"});
        ds.setPortNumbers(new int[] {1});
        ds.setDatabaseName("nightshift");
        ds.setUser("nightshift");
        ds.setConnectTimeout(1);
        return ds;
    }

    private static CompletableFuture<Void> fire(ScheduledEnqueue e, Schedule.Misfire policy) throws Exception {
        Schedule schedule = new Schedule("0 0 5 * * ?", ZoneId.of("UTC"), policy);
        JobDetail detail = Triggers.jobDetail(schedule);
        CronTriggerImpl trigger = new CronTriggerImpl();
        trigger.setKey(Triggers.triggerKey(Triggers.key(schedule)));
        trigger.setJobKey(detail.getKey());
        trigger.setCronExpression(schedule.cron());
        trigger.setMisfireInstruction(policy == Schedule.Misfire.SKIP
                ? CronTrigger.MISFIRE_INSTRUCTION_DO_NOTHING : CronTrigger.MISFIRE_INSTRUCTION_FIRE_ONCE_NOW);
        TriggerFiredBundle bundle = new TriggerFiredBundle(detail, trigger, null, false, new Date(), Date.from(SLOT), null, null);
        return CompletableFuture.runAsync(() -> {
            try {
                e.execute(new JobExecutionContextImpl(null, bundle, e));
            } catch (JobExecutionException x) {
                throw new IllegalStateException(x.getMessage(), x);
            }
        });
    }

    @Test
    void a_skip_schedule_keeps_trying_until_the_clock_passes_the_threshold_then_counts_a_misfire_and_stops() throws Exception {
        SteppedClock clock = new SteppedClock(SLOT);
        ScheduledEnqueue e = new ScheduledEnqueue(unreachable(), new Metrics(new SimpleMeterRegistry()), THRESHOLD, clock);
        CompletableFuture<Void> f = fire(e, Schedule.Misfire.SKIP);
        // within the threshold it goes on trying, however long the outage lasts in real time
        assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
        clock.step(THRESHOLD.minusSeconds(1));
        assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
        clock.step(Duration.ofSeconds(2));
        f.get(10, TimeUnit.SECONDS);   // the misfire ends the fire without an error: the slot is skipped, as Quartz would
        assertThat(f).isCompleted();
    }

    @Test
    void a_fire_once_schedule_never_gives_up_on_its_slot_until_the_node_stops() throws Exception {
        SteppedClock clock = new SteppedClock(SLOT);
        ScheduledEnqueue e = new ScheduledEnqueue(unreachable(), new Metrics(new SimpleMeterRegistry()), THRESHOLD, clock);
        CompletableFuture<Void> f = fire(e, Schedule.Misfire.FIRE_ONCE);
        clock.step(THRESHOLD.multipliedBy(24));
        assertThatThrownBy(() -> f.get(2, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
        e.interrupt();
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasMessageContaining("Connection");
    }
}
