package dev.nightshift.schedule;

import dev.nightshift.queue.Period;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

/**
 * The slot and period of a manual trigger ({@code trigger JOB [--at T]}, HTTP {@code {"at": …}}):
 * for a scheduled job, the schedule's period ending at {@code T}, which must be one of its slots,
 * or without {@code T} at its latest slot at or before now; for a job without a schedule,
 * {@code T} alone (the period is that instant), or nothing. Thread-safe.
 */
public final class LogicalTime {
    private final Clock clock;

    public LogicalTime(Clock clock) {
        this.clock = clock;
    }

    /** Thrown for an {@code --at} that is not a slot of the job's schedule; the message says which slots are near. */
    public static final class NotASlotException extends IllegalArgumentException {
        NotASlotException(String message) {
            super(message);
        }
    }

    /** Parses an {@code --at} (ISO-8601 with an offset, e.g. {@code 2026-03-01T00:00Z}); the message names the expected form. */
    public static Instant parseAt(String text) {
        try {
            return java.time.OffsetDateTime.parse(text).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("at must be a date and time with an offset, such as 2026-03-01T00:00Z or "
                    + "2026-03-01T06:00+01:00; got '" + text + "'");
        }
    }

    /**
     * The period of a manual run of {@code job}; empty for a job without a schedule triggered
     * without {@code at}, or a job the database does not know (the enqueue reports that).
     */
    public Optional<Period> ofTrigger(Connection c, String job, Instant at) throws SQLException {
        String definition;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT definition::text FROM nightshift.job WHERE name = ? AND removed_at IS NULL")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                definition = rs.getString(1);
            }
        }
        Slots slots = StoredSchedule.slots(definition);
        if (slots == null) {
            return Optional.ofNullable(at).map(Period::instant);
        }
        if (at == null) {
            Instant latest = slots.latestAtOrBefore(clock.instant());
            return Optional.ofNullable(latest).map(slots::periodEndingAt);
        }
        if (!slots.isSlot(at)) {
            Instant before = slots.previous(at);
            Instant after = slots.next(at);
            throw new NotASlotException(at + " is not a slot of job " + job + "'s schedule (in " + slots.zone().getId()
                    + "); the nearest are " + (before == null ? "none before" : before) + " and "
                    + (after == null ? "none after" : after.toString()));
        }
        return Optional.of(slots.periodEndingAt(at));
    }
}
