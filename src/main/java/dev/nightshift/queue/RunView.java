package dev.nightshift.queue;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * One run as operators see it (CLI, HTTP): the stable shape of {@code --json} output.
 *
 * @param scheduledAt the slot the run stands for, or null
 * @param periodStart start of the period the run covers (the schedule's previous slot), or null
 * @param periodEnd   end of that period (the slot), or null
 * @param periodZone  the schedule's time zone, in which the period is shown, or null
 * @param counts      numbers (rows read, inserted...) and, for a run a guard refused, the guard's
 *                    name ({@code "guard"}) and limit ({@code "guard_limit"}) as text
 * @param actor       who triggered the run or last cancelled or retried it, or null (the scheduler's)
 */
public record RunView(
        long id,
        String job,
        String state,
        String trigger,
        Map<String, String> params,
        String dedupeKey,
        Instant scheduledAt,
        Instant periodStart,
        Instant periodEnd,
        String periodZone,
        Long parentRunId,
        int attempt,
        int maxAttempts,
        Instant runAt,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        String node,
        Integer backendPid,
        boolean cancelRequested,
        Map<String, Object> counts,
        String lastError,
        String lastErrorSqlstate,
        String actor) {

    private static final DateTimeFormatter DAY_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm");

    /**
     * The period in its zone's local time, e.g. {@code 2026-03-28 00:00 → 2026-03-29 00:00} (the end's
     * date left out when it is the start's), a lone time for a period of one instant, "-" without one.
     */
    public String periodLabel() {
        if (periodStart == null || periodEnd == null) {
            return "-";
        }
        ZoneId zone = ZoneId.of(periodZone == null ? "UTC" : periodZone);
        ZonedDateTime start = periodStart.atZone(zone);
        ZonedDateTime end = periodEnd.atZone(zone);
        if (start.equals(end)) {
            return DAY_TIME.format(end);
        }
        return DAY_TIME.format(start) + " → " + (start.toLocalDate().equals(end.toLocalDate()) ? TIME : DAY_TIME).format(end);
    }

    public boolean finished() {
        return state.equals("succeeded") || state.equals("dead") || state.equals("cancelled");
    }
}
