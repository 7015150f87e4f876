package dev.nightshift.schedule;

import dev.nightshift.metrics.Metrics;
import java.time.Clock;
import java.time.Duration;
import javax.sql.DataSource;
import org.quartz.Job;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.spi.JobFactory;
import org.quartz.spi.TriggerFiredBundle;

/** Gives Quartz a {@link ScheduledEnqueue} wired to this node's pool and meters. Thread-safe. */
final class EnqueueJobFactory implements JobFactory {
    private final DataSource pool;
    private final Metrics metrics;
    private final Duration misfireThreshold;
    private final Clock clock;

    EnqueueJobFactory(DataSource pool, Metrics metrics, Duration misfireThreshold, Clock clock) {
        this.clock = clock;
        this.pool = pool;
        this.metrics = metrics;
        this.misfireThreshold = misfireThreshold;
    }

    @Override
    public Job newJob(TriggerFiredBundle bundle, Scheduler scheduler) throws SchedulerException {
        Class<? extends Job> type = bundle.getJobDetail().getJobClass();
        if (type != ScheduledEnqueue.class) {
            throw new SchedulerException("unexpected Quartz job class " + type.getName() + " for "
                    + bundle.getJobDetail().getKey() + "; run `nightshift sync` to rewrite the triggers");
        }
        return new ScheduledEnqueue(pool, metrics, misfireThreshold, clock);
    }
}
