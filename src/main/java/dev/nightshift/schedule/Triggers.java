package dev.nightshift.schedule;

import dev.nightshift.config.Schedule;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TimeZone;
import org.quartz.CronScheduleBuilder;
import org.quartz.CronTrigger;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobKey;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;

/**
 * A schedule (cron, time zone, misfire policy) as Quartz objects: one job detail and one cron
 * trigger per distinct schedule, both named by the schedule's key, which the job rows of that
 * schedule carry in {@code nightshift.job.schedule_key}. Stateless.
 */
public final class Triggers {
    /** Length of the readable cron prefix of a key; the hash after it is what makes keys distinct. */
    private static final int PREFIX_CHARS = 60;

    private Triggers() {
    }

    /**
     * The schedule's key: its cron fields joined by {@code _} (cut to 60 characters) for people,
     * then 12 hex digits of a SHA-256 of {@code cron|zone|misfire[|calendar][|pick]}, e.g. {@code 0_*_*_*_*_?-3fa2c9d81b07}.
     * Stable across versions and nodes; a job name can never look like one (no {@code _}).
     */
    public static String key(Schedule s) {
        String readable = s.cron().trim().replaceAll("\\s+", "_");
        if (readable.length() > PREFIX_CHARS) {
            readable = readable.substring(0, PREFIX_CHARS);
        }
        // the zone as Quartz stores it: the default (Z) and "UTC" are one schedule
        String identity = s.cron() + "|" + TimeZone.getTimeZone(s.timezone()).getID() + "|" + s.misfire().yamlName()
                // only when set, so that the keys of schedules without them stay as they were
                + (s.calendar() == null ? "" : "|calendar " + s.calendar().fingerprint())
                + (s.pick() == null ? "" : "|pick " + s.pick().yamlName());
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
            return readable + "-" + HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    public static JobKey jobKey(String scheduleKey) {
        return JobKey.jobKey(scheduleKey, QuartzCluster.GROUP);
    }

    public static TriggerKey triggerKey(String scheduleKey) {
        return TriggerKey.triggerKey(scheduleKey, QuartzCluster.GROUP);
    }

    static JobDetail jobDetail(Schedule s) {
        return JobBuilder.newJob(ScheduledEnqueue.class)
                .withIdentity(jobKey(key(s)))
                .withDescription("enqueues the runs of the jobs whose schedule_key is its name")
                // after a node dies mid-fire, another node fires the slot again; the dedupe keys absorb repeats
                .requestRecovery(true)
                .build();
    }

    /** The trigger of a schedule; its first fire is the schedule's next slot from now. */
    public static CronTrigger trigger(Schedule s) {
        CronScheduleBuilder cron = CronScheduleBuilder.cronSchedule(s.cron()).inTimeZone(TimeZone.getTimeZone(s.timezone()));
        cron = switch (s.misfire()) {
            case FIRE_ONCE -> cron.withMisfireHandlingInstructionFireAndProceed();
            case SKIP -> cron.withMisfireHandlingInstructionDoNothing();
        };
        String key = key(s);
        return TriggerBuilder.newTrigger()
                .withIdentity(triggerKey(key))
                .forJob(jobKey(key))
                .withSchedule(cron)
                .build();
    }

    /** Whether a stored trigger fires as the schedule says (cron, zone, misfire policy). */
    static boolean matches(Trigger stored, Schedule s) {
        if (!(stored instanceof CronTrigger c)) {
            return false;
        }
        CronTrigger want = trigger(s);
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
