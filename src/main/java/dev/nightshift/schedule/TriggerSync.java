package dev.nightshift.schedule;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import java.util.Set;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.Trigger;
import org.quartz.TriggerKey;
import org.quartz.impl.matchers.GroupMatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the Quartz triggers of the nightshift group match the catalog: one cron trigger per
 * scheduled job, none for the others. Unchanged triggers are left alone, so their next fire time
 * and misfire state survive a restart. Callers serialize it (see {@link ScheduleSync}).
 */
final class TriggerSync {
    private static final Logger log = LoggerFactory.getLogger(TriggerSync.class);

    private TriggerSync() {
    }

    /** What changed in Quartz. */
    record Result(int scheduled, int rescheduled, int unscheduled) {
    }

    static Result sync(Scheduler scheduler, JobCatalog catalog) throws SchedulerException {
        int scheduled = 0;
        int rescheduled = 0;
        for (JobDefinition d : catalog.all()) {
            if (d.schedule() == null) {
                continue;
            }
            Trigger stored = scheduler.getTrigger(Triggers.triggerKey(d.name()));
            if (stored == null) {
                // replace = true: a job detail left without its trigger by an interrupted sync is overwritten
                scheduler.scheduleJob(Triggers.jobDetail(d), Set.of(Triggers.trigger(d)), true);
                log.info("job {}: scheduled {} ({}, misfire {}); next fire {}", d.name(), d.schedule().cron(),
                        d.schedule().timezone().getId(), d.schedule().misfire().yamlName(),
                        scheduler.getTrigger(Triggers.triggerKey(d.name())).getNextFireTime().toInstant());
                scheduled++;
            } else if (!Triggers.matches(stored, d)) {
                scheduler.scheduleJob(Triggers.jobDetail(d), Set.of(Triggers.trigger(d)), true);
                log.info("job {}: schedule changed to {} ({}, misfire {})", d.name(), d.schedule().cron(),
                        d.schedule().timezone().getId(), d.schedule().misfire().yamlName());
                rescheduled++;
            }
        }
        int unscheduled = 0;
        for (TriggerKey k : scheduler.getTriggerKeys(GroupMatcher.triggerGroupEquals(QuartzCluster.GROUP))) {
            boolean wanted = catalog.find(k.getName()).map(d -> d.schedule() != null).orElse(false);
            if (!wanted) {
                scheduler.deleteJob(Triggers.jobKey(k.getName()));
                log.info("job {}: trigger removed (no schedule in the catalog any more)", k.getName());
                unscheduled++;
            }
        }
        return new Result(scheduled, rescheduled, unscheduled);
    }
}
