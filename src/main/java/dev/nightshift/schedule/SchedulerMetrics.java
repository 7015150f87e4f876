package dev.nightshift.schedule;

import dev.nightshift.metrics.Metrics;
import java.time.Duration;
import java.time.Instant;
import org.quartz.JobExecutionContext;
import org.quartz.Trigger;
import org.quartz.Trigger.CompletedExecutionInstruction;
import org.quartz.TriggerListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds Quartz's fires and misfires into the node's meters. Quartz calls listeners inside its
 * own store operations, where an exception would fail the fire, so every method swallows and
 * logs. Thread-safe.
 */
final class SchedulerMetrics implements TriggerListener {
    private static final Logger log = LoggerFactory.getLogger(SchedulerMetrics.class);

    private final Metrics metrics;

    SchedulerMetrics(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public String getName() {
        return "nightshift-metrics";
    }

    @Override
    public void triggerFired(Trigger trigger, JobExecutionContext context) {
        try {
            // A recovery fire's scheduled time is the recovery's own, not the slot's: no lag to tell.
            if (!context.isRecovering() && context.getScheduledFireTime() != null) {
                Duration lag = Duration.between(context.getScheduledFireTime().toInstant(), Instant.now());
                metrics.fireLag(trigger.getJobKey().getName(), lag.isNegative() ? Duration.ZERO : lag);
            }
        } catch (Throwable t) {
            log.warn("could not record the fire of {}: {}", trigger.getKey(), t.toString());
        }
    }

    @Override
    public boolean vetoJobExecution(Trigger trigger, JobExecutionContext context) {
        return false;
    }

    @Override
    public void triggerMisfired(Trigger trigger) {
        try {
            metrics.misfire(trigger.getJobKey().getName());
            log.info("job {} misfired (it was due at {}); policy: {}", trigger.getJobKey().getName(),
                    trigger.getNextFireTime() == null ? null : trigger.getNextFireTime().toInstant(),
                    Triggers.policyName(trigger.getMisfireInstruction()));
        } catch (Throwable t) {
            log.warn("could not record the misfire of {}: {}", trigger.getKey(), t.toString());
        }
    }

    @Override
    public void triggerComplete(Trigger trigger, JobExecutionContext context, CompletedExecutionInstruction instruction) {
        // nothing to record: the run's own metrics start when a worker claims it
    }
}
