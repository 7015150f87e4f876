package dev.nightshift.schedule;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.Schedule;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.Trigger;
import org.quartz.TriggerKey;
import org.quartz.impl.matchers.GroupMatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the Quartz triggers of the nightshift group match the catalog: one cron trigger per
 * distinct schedule (cron, time zone, misfire policy) of the catalog's jobs, named by its
 * {@linkplain Triggers#key key}, and no other. A job whose schedule changes thus moves to another
 * trigger, and a trigger is deleted only when no job has its schedule any more (per-job triggers
 * of older versions go by the same rule). Unchanged triggers are left alone, so their next fire
 * time and misfire state survive a restart. Callers serialize it (see {@link ScheduleSync}).
 */
final class TriggerSync {
    private static final Logger log = LoggerFactory.getLogger(TriggerSync.class);

    private TriggerSync() {
    }

    /** What changed in Quartz: triggers created, rewritten (stored differently under their key), deleted. */
    record Result(int scheduled, int rewritten, int unscheduled) {
    }

    /** Schedule key → schedule, for every scheduled job of the catalog. */
    static Map<String, Schedule> schedules(JobCatalog catalog) {
        Map<String, Schedule> wanted = new TreeMap<>();
        catalog.all().stream().map(JobDefinition::schedule).filter(Objects::nonNull)
                .forEach(s -> wanted.putIfAbsent(Triggers.key(s), s));
        return wanted;
    }

    static Result sync(Scheduler scheduler, JobCatalog catalog) throws SchedulerException {
        Map<String, Schedule> wanted = schedules(catalog);
        int scheduled = 0;
        int rewritten = 0;
        for (Map.Entry<String, Schedule> e : wanted.entrySet()) {
            Schedule s = e.getValue();
            Trigger stored = scheduler.getTrigger(Triggers.triggerKey(e.getKey()));
            if (stored != null && Triggers.matches(stored, s)) {
                continue;
            }
            // replace = true: also overwrites a job detail left without its trigger by an interrupted sync
            scheduler.scheduleJob(Triggers.jobDetail(s), Set.of(Triggers.trigger(s)), true);
            log.info("schedule {}: trigger {} ({} in {}, misfire {}); next fire {}", e.getKey(),
                    stored == null ? "created" : "rewritten", s.cron(), s.timezone().getId(), s.misfire().yamlName(),
                    scheduler.getTrigger(Triggers.triggerKey(e.getKey())).getNextFireTime().toInstant());
            if (stored == null) {
                scheduled++;
            } else {
                rewritten++;
            }
        }
        int unscheduled = 0;
        for (TriggerKey k : scheduler.getTriggerKeys(GroupMatcher.triggerGroupEquals(QuartzCluster.GROUP))) {
            if (!wanted.containsKey(k.getName())) {
                scheduler.deleteJob(Triggers.jobKey(k.getName()));
                log.info("trigger {} removed: no job of the catalog has its schedule", k.getName());
                unscheduled++;
            }
        }
        return new Result(scheduled, rewritten, unscheduled);
    }
}
