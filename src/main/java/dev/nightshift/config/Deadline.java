package dev.nightshift.config;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;

/**
 * When a slot must have succeeded: a time after the slot ({@code deadline: 2h}) or a local time of
 * the schedule's zone ({@code deadline: "06:00"}: the first 06:00 at or after the slot). Exactly one
 * of the two is set. Immutable.
 */
public record Deadline(Duration after, LocalTime local) {
    public Deadline {
        if ((after == null) == (local == null)) {
            throw new IllegalArgumentException("a deadline is either a duration or a local time");
        }
    }

    /** @throws IllegalArgumentException saying what is expected */
    public static Deadline parse(String text) {
        String t = text.trim();
        if (t.matches("\\d{1,2}:\\d{2}")) {
            try {
                return new Deadline(null, LocalTime.parse(t.length() == 4 ? "0" + t : t));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("'" + text + "' is not a time of day such as \"06:00\"");
            }
        }
        try {
            Duration d = Durations.parse(t);
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException("must be longer than 0");
            }
            return new Deadline(d, null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is neither a duration after the slot (2h, 90m) nor a local time "
                    + "(\"06:00\", quoted)");
        }
    }

    /** The instant by which the slot must have succeeded. */
    public Instant of(Instant slot, ZoneId zone) {
        if (after != null) {
            return slot.plus(after);
        }
        ZonedDateTime at = slot.atZone(zone);
        ZonedDateTime due = at.toLocalDate().atTime(local).atZone(zone);
        return (due.isBefore(at) ? at.toLocalDate().plusDays(1).atTime(local).atZone(zone) : due).toInstant();
    }

    /** As written in a definition: {@code 2h} or {@code 06:00}. */
    public String text() {
        return after != null ? Durations.format(after) : local.toString();
    }
}
