package dev.nightshift.schedule;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.Schedule;
import java.util.TimeZone;
import org.quartz.CronScheduleBuilder;
import org.quartz.CronTrigger;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobKey;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;

/** A job definition's schedule as Quartz objects, and the test of whether a stored trigger still matches it. */
public final class Triggers {
    private Triggers() {
    }

    public static JobKey jobKey(String job) {
        return JobKey.jobKey(job, QuartzCluster.GROUP);
    }

    public static TriggerKey triggerKey(String job) {
        return TriggerKey.triggerKey(job, QuartzCluster.GROUP);
    }

    static JobDetail jobDetail(JobDefinition d) {
        return JobBuilder.newJob(ScheduledEnqueue.class)
                .withIdentity(jobKey(d.name()))
                .withDescription("enqueues a run of " + d.name())
                // after a node dies mid-fire, another node fires the slot again; the dedupe key absorbs repeats
                .requestRecovery(true)
                .build();
    }

    /** The trigger of a scheduled job; its first fire is the schedule's next slot from now. */
    public static CronTrigger trigger(JobDefinition d) {
        Schedule s = d.schedule();
        CronScheduleBuilder cron = CronScheduleBuilder.cronSchedule(s.cron()).inTimeZone(TimeZone.getTimeZone(s.timezone()));
        cron = switch (s.misfire()) {
            case FIRE_ONCE -> cron.withMisfireHandlingInstructionFireAndProceed();
            case SKIP -> cron.withMisfireHandlingInstructionDoNothing();
        };
        return TriggerBuilder.newTrigger()
                .withIdentity(triggerKey(d.name()))
                .forJob(jobKey(d.name()))
                .withSchedule(cron)
                .build();
    }

    /** Whether a stored trigger fires as the definition says (cron, zone, misfire policy). */
    static boolean matches(Trigger stored, JobDefinition d) {
        if (!(stored instanceof CronTrigger c) || d.schedule() == null) {
            return false;
        }
        CronTrigger want = trigger(d);
        return c.getCronExpression().equals(want.getCronExpression())
                && c.getTimeZone().getID().equals(want.getTimeZone().getID())
                && c.getMisfireInstruction() == want.getMisfireInstruction();
    }

    static String policyName(int misfireInstruction) {
        return switch (misfireInstruction) {
            case CronTrigger.MISFIRE_INSTRUCTION_FIRE_ONCE_NOW -> "fire-once";
            case CronTrigger.MISFIRE_INSTRUCTION_DO_NOTHING -> "skip";
            default -> "quartz instruction " + misfireInstruction;
        };
    }
}
