package dev.nightshift.schedule;

import dev.nightshift.config.Schedule;
import dev.nightshift.queue.Period;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.TimeZone;
import org.quartz.CronExpression;

/**
 * The slots of a schedule (the instants its trigger fires at) and the periods between them,
 * computed with the same Quartz cron expression and time zone as the trigger, so that they agree
 * with Quartz across DST changes (a local time that does not exist is skipped, a repeated one fires
 * once). Quartz's CronExpression has no "previous fire time", so {@link #previous} searches backwards
 * in doubling windows. Not thread-safe (CronExpression is not); cheap to build per use.
 */
public final class Slots {
    /** Further back than any schedule's gap between slots: a cron limited to past years has no previous slot. */
    private static final Duration FARTHEST = Duration.ofDays(366L * 30);

    private final CronExpression cron;
    private final ZoneId zone;

    private Slots(CronExpression cron, ZoneId zone) {
        this.cron = cron;
        this.zone = zone;
    }

    public static Slots of(Schedule s) {
        return of(s.cron(), s.timezone());
    }

    /** @throws IllegalArgumentException when the cron expression does not parse (a definition from another version) */
    public static Slots of(String cron, ZoneId zone) {
        try {
            CronExpression e = new CronExpression(cron);
            e.setTimeZone(TimeZone.getTimeZone(zone));
            return new Slots(e, zone);
        } catch (ParseException e) {
            throw new IllegalArgumentException("cron expression '" + cron + "': " + e.getMessage(), e);
        }
    }

    public ZoneId zone() {
        return zone;
    }

    /** The first slot strictly after {@code t}, or null when the schedule has none. */
    public Instant next(Instant t) {
        Date d = cron.getNextValidTimeAfter(Date.from(t));
        return d == null ? null : d.toInstant();
    }

    /** Whether the trigger fires at exactly {@code t}. */
    public boolean isSlot(Instant t) {
        return t.equals(next(t.minusMillis(1)));
    }

    /** The last slot strictly before {@code t}, or null when there is none within thirty years. */
    public Instant previous(Instant t) {
        for (Duration window = Duration.ofMinutes(1); window.compareTo(FARTHEST) <= 0; window = window.multipliedBy(2)) {
            Instant last = null;
            for (Instant s = next(t.minus(window).minusMillis(1)); s != null && s.isBefore(t); s = next(s)) {
                last = s;
            }
            if (last != null) {
                return last;
            }
        }
        return null;
    }

    /** The latest slot at or before {@code t}, or null. */
    public Instant latestAtOrBefore(Instant t) {
        return isSlot(t) ? t : previous(t);
    }

    /** The period ending at {@code slot}: from the slot before it (the slot itself when there is none). */
    public Period periodEndingAt(Instant slot) {
        Instant start = previous(slot);
        return new Period(slot, start == null ? slot : start, slot, zone);
    }

    /** The slots in {@code [from, to)}, oldest first; at most {@code limit} of them. */
    public List<Instant> between(Instant from, Instant to, int limit) {
        List<Instant> out = new ArrayList<>();
        for (Instant s = next(from.minusMillis(1)); s != null && s.isBefore(to) && out.size() < limit; s = next(s)) {
            out.add(s);
        }
        return out;
    }
}
