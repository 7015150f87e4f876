package dev.nightshift.schedule;

import dev.nightshift.config.Schedule;
import dev.nightshift.metrics.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.sql.DataSource;
import org.quartz.JobDetail;
import org.quartz.impl.JobExecutionContextImpl;
import org.quartz.impl.triggers.SimpleTriggerImpl;
import org.quartz.spi.OperableTrigger;
import org.quartz.spi.TriggerFiredBundle;

/**
 * Fires a schedule for one slot as a node's Quartz scheduler would, through the real Quartz job
 * ({@link ScheduledEnqueue}), without waiting for the clock to reach the slot. Stateless.
 */
final class Fires {
    private Fires() {
    }

    static void fire(DataSource ds, Schedule schedule, Instant slot) throws Exception {
        JobDetail detail = Triggers.jobDetail(schedule);
        SimpleTriggerImpl trigger = new SimpleTriggerImpl();
        trigger.setKey(Triggers.triggerKey(Triggers.key(schedule)));
        trigger.setJobKey(detail.getKey());
        TriggerFiredBundle bundle = new TriggerFiredBundle(detail, (OperableTrigger) trigger, null, false,
                new Date(), Date.from(slot), null, null);
        ScheduledEnqueue e = new ScheduledEnqueue(ds, new Metrics(new SimpleMeterRegistry()), Duration.ofMinutes(1));
        e.execute(new JobExecutionContextImpl(null, bundle, e));
    }
}
