package dev.nightshift.schedule;

import dev.nightshift.config.BusinessCalendar;
import dev.nightshift.config.Schedule;
import dev.nightshift.queue.Period;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.TimeZone;
import org.quartz.CronExpression;

/**
 * The slots of a schedule (the instants its trigger fires at, less the days its business calendar
 * excludes, and only the first or last of a month when it picks one) and the periods between them,
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
    private final BusinessCalendar calendar;
    private final Schedule.Pick pick;

    private Slots(CronExpression cron, ZoneId zone, BusinessCalendar calendar, Schedule.Pick pick) {
        this.cron = cron;
        this.zone = zone;
        this.calendar = calendar;
        this.pick = pick;
    }

    public static Slots of(Schedule s) {
        return of(s.cron(), s.timezone(), s.calendar(), s.pick());
    }

    public static Slots of(String cron, ZoneId zone) {
        return of(cron, zone, null, null);
    }

    /** @throws IllegalArgumentException when the cron expression does not parse (a definition from another version) */
    public static Slots of(String cron, ZoneId zone, BusinessCalendar calendar, Schedule.Pick pick) {
        try {
            CronExpression e = new CronExpression(cron);
            e.setTimeZone(TimeZone.getTimeZone(zone));
            return new Slots(e, zone, calendar, pick);
        } catch (ParseException e) {
            throw new IllegalArgumentException("cron expression '" + cron + "': " + e.getMessage(), e);
        }
    }

    public ZoneId zone() {
        return zone;
    }

    /** The first slot strictly after {@code t}, or null when the schedule has none. */
    public Instant next(Instant t) {
        Instant s = open(t);
        while (s != null && pick != null && !picked(s)) {
            s = open(s);
        }
        return s;
    }

    /** Whether Quartz's fire at {@code t} is a slot, or falls on a day the calendar excludes or the pick leaves out. */
    public boolean keeps(Instant t) {
        return !(calendar != null && calendar.excludes(t)) && (pick == null || picked(t));
    }

    /** The first fire of the cron after {@code t} on a day the calendar leaves open. */
    private Instant open(Instant t) {
        Instant s = fire(t);
        while (s != null && calendar != null && calendar.excludes(s)) {
            s = fire(s);
        }
        return s;
    }

    private boolean picked(Instant s) {
        YearMonth month = YearMonth.from(s.atZone(zone));
        Instant neighbour = pick == Schedule.Pick.LAST_IN_MONTH ? open(s) : openBefore(s);
        return neighbour == null || !YearMonth.from(neighbour.atZone(zone)).equals(month);
    }

    /** The last open fire before {@code s}, looking back at most two months (enough to tell the month). */
    private Instant openBefore(Instant s) {
        Instant last = null;
        for (Instant x = open(s.atZone(zone).minusMonths(2).toInstant()); x != null && x.isBefore(s); x = open(x)) {
            last = x;
        }
        return last;
    }

    private Instant fire(Instant t) {
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
