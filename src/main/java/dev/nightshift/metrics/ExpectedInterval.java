package dev.nightshift.metrics;

import dev.nightshift.config.Schedule;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.TimeZone;
import org.quartz.CronExpression;

/**
 * The longest gap between consecutive slots of a schedule, looked at over its next slots: a
 * weekday job's is the weekend, not a day. Stateless.
 */
final class ExpectedInterval {
    /** Enough slots to see a week of an hourly schedule, or years of a daily one; cheap at start. */
    private static final int SLOTS = 1000;

    private ExpectedInterval() {
    }

    /** Looking at the slots after {@code from}; null when there are fewer than two (e.g. a single date). */
    static Duration of(Schedule schedule, Instant from) {
        CronExpression cron;
        try {
            cron = new CronExpression(schedule.cron());
        } catch (ParseException e) {
            // validated definitions always parse; a cron Quartz refuses simply gets no interval gauge
            return null;
        }
        cron.setTimeZone(TimeZone.getTimeZone(schedule.timezone()));
        Date previous = cron.getNextValidTimeAfter(Date.from(from));
        long longest = -1;
        for (int i = 0; i < SLOTS && previous != null; i++) {
            Date next = cron.getNextValidTimeAfter(previous);
            if (next == null) {
                break;
            }
            longest = Math.max(longest, next.getTime() - previous.getTime());
            previous = next;
        }
        return longest <= 0 ? null : Duration.ofMillis(longest);
    }
}
