package dev.nightshift.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.MonthDay;
import java.time.ZoneId;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Dates on which a schedule does not fire, from {@code jobs/calendars/NAME.yaml}: fixed dates
 * and dates that recur every year, as days of the calendar's time zone. Immutable.
 */
public record BusinessCalendar(String name, ZoneId zone, SortedSet<LocalDate> dates, SortedSet<MonthDay> yearly) {
    public BusinessCalendar {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(zone, "zone");
        dates = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(dates));
        yearly = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(yearly));
    }

    /** Whether {@code t} falls on an excluded day (in the calendar's zone). */
    public boolean excludes(Instant t) {
        LocalDate day = t.atZone(zone).toLocalDate();
        return dates.contains(day) || yearly.contains(MonthDay.from(day));
    }

    /** 12 hex digits identifying the content: a changed calendar is a changed schedule. */
    public String fingerprint() {
        String content = name + "|" + zone.getId() + "|" + dates + "|" + yearly;
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The excluded dates as text, for storage: fixed ones as 2026-04-06, yearly ones as 12-25. */
    public Set<String> yearlyText() {
        Set<String> out = new TreeSet<>();
        yearly.forEach(m -> out.add(String.format("%02d-%02d", m.getMonthValue(), m.getDayOfMonth())));
        return out;
    }
}
