package dev.nightshift.queue;

import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;

/**
 * The logical time of a run: its slot and the period it covers, from the schedule's previous slot
 * to this one. {@code zone} is the schedule's time zone, in which the run's settings are written.
 *
 * @param slot  the scheduled fire time the run stands for ({@code scheduled_at})
 * @param start the previous slot of the schedule ({@code period_start}); equal to {@code end} when there is none
 * @param end   the slot ({@code period_end})
 */
public record Period(Instant slot, Instant start, Instant end, ZoneId zone) {
    public Period {
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        Objects.requireNonNull(zone, "zone");
        if (start.isAfter(end)) {
            throw new IllegalArgumentException("period starts at " + start + ", after its end " + end);
        }
    }

    /** A point in time without a schedule: {@code --at} on a job that has none. */
    public static Period instant(Instant at) {
        return new Period(at, at, at, ZoneId.of("UTC"));
    }
}
