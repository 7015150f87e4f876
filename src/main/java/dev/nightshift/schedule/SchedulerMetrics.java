package dev.nightshift.schedule;

import dev.nightshift.metrics.Metrics;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.sql.DataSource;
import org.quartz.JobExecutionContext;
import org.quartz.Trigger;
import org.quartz.Trigger.CompletedExecutionInstruction;
import org.quartz.TriggerListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the misfires of the schedules' triggers, for each job of the misfired schedule. Quartz
 * calls listeners inside its own store operations, under its cluster-wide lock, where an exception
 * would fail the operation and a query would hold the lock longer: so the jobs are looked up and
 * counted on a thread of this listener's own, and every method swallows and logs. (Fire lag and
 * fire outcomes are recorded by {@link ScheduledEnqueue}, which knows the jobs of each fire.)
 * Thread-safe; {@link #close()} once.
 */
final class SchedulerMetrics implements TriggerListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SchedulerMetrics.class);

    private final DataSource pool;
    private final Metrics metrics;
    private final ExecutorService counter = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "nightshift-misfire-counter");
        t.setDaemon(true);
        return t;
    });

    SchedulerMetrics(DataSource pool, Metrics metrics) {
        this.pool = pool;
        this.metrics = metrics;
    }

    @Override
    public String getName() {
        return "nightshift-metrics";
    }

    @Override
    public void triggerFired(Trigger trigger, JobExecutionContext context) {
        // nothing to record: ScheduledEnqueue records the fire's lag for each job it enqueues
    }

    @Override
    public boolean vetoJobExecution(Trigger trigger, JobExecutionContext context) {
        return false;
    }

    @Override
    public void triggerMisfired(Trigger trigger) {
        try {
            String schedule = trigger.getKey().getName();
            Instant next = trigger.getNextFireTime() == null ? null : trigger.getNextFireTime().toInstant();
            String policy = Triggers.policyName(trigger.getMisfireInstruction());
            counter.execute(() -> count(schedule, next, policy));
        } catch (Throwable t) {
            log.warn("could not record the misfire of {}: {}", trigger.getKey(), t.toString());
        }
    }

    private void count(String schedule, Instant next, String policy) {
        try {
            List<String> jobs = ScheduledEnqueue.jobsOf(pool, schedule);
            jobs.forEach(metrics::misfire);
            log.info("schedule {} misfired (policy {}, next fire {}) for its {} jobs: {}", schedule, policy, next, jobs.size(), jobs);
        } catch (Throwable t) {
            log.warn("could not count the misfire of schedule {}: {}", schedule, t.toString());
        }
    }

    @Override
    public void triggerComplete(Trigger trigger, JobExecutionContext context, CompletedExecutionInstruction instruction) {
        // nothing to record: the run's own metrics start when a worker claims it
    }

    /** Stops counting; misfires still queued are dropped (the node is shutting down). */
    @Override
    public void close() {
        counter.shutdownNow();
    }
}
