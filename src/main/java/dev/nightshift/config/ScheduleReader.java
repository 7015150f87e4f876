package dev.nightshift.config;

import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import org.quartz.CronExpression;

/**
 * Reads the {@code schedule:} mapping of one job definition (cron, timezone, misfire, calendar, pick,
 * overlap), recording each problem with file and line. Not thread-safe: one per definition being read.
 */
final class ScheduleReader {
    private static final Set<String> KEYS = Set.of("cron", "timezone", "misfire", "calendar", "pick", "overlap");
    private static final Map<String, Schedule.Misfire> MISFIRES = Map.of(
            "fire-once", Schedule.Misfire.FIRE_ONCE, "skip", Schedule.Misfire.SKIP);
    private static final Map<String, Schedule.Pick> PICKS = Map.of(
            Schedule.Pick.FIRST_IN_MONTH.yamlName(), Schedule.Pick.FIRST_IN_MONTH,
            Schedule.Pick.LAST_IN_MONTH.yamlName(), Schedule.Pick.LAST_IN_MONTH);
    private static final Map<String, Schedule.Overlap> OVERLAPS = Map.of(
            Schedule.Overlap.QUEUE.yamlName(), Schedule.Overlap.QUEUE,
            Schedule.Overlap.SKIP.yamlName(), Schedule.Overlap.SKIP,
            Schedule.Overlap.COALESCE.yamlName(), Schedule.Overlap.COALESCE);

    private final CalendarFiles calendars;

    ScheduleReader(CalendarFiles calendars) {
        this.calendars = calendars;
    }

    /** The schedule, or null when there is none or it has problems (recorded in {@code problems}). */
    Schedule read(java.nio.file.Path file, Yaml.Entry entry, List<String> problems) {
        if (entry == null || entry.value() instanceof Yaml.Scalar s && s.isNull()) {
            return null;
        }
        if (!(entry.value() instanceof Yaml.MapNode m)) {
            problems.add(file + ":" + entry.line() + ": schedule must be a mapping with cron:, timezone:, misfire:");
            return null;
        }
        YamlFields f = new YamlFields(file, m, entry.line(), problems, YamlFields.Naming.FIELD, "schedule.");
        f.rejectOthers(KEYS, "schedule: ");
        String cron = f.requiredText("cron");
        ZoneId zone = zone(f);
        Schedule.Misfire misfire = f.oneOf("misfire", MISFIRES, "fire-once or skip", Schedule.Misfire.FIRE_ONCE);
        if (cron == null) {
            return null;
        }
        CronExpression expression;
        try {
            expression = new CronExpression(cron);
        } catch (java.text.ParseException ex) {
            f.problemAt(f.line("cron"), "schedule.cron '" + cron + "' is not a Quartz cron expression (seconds minutes hours "
                    + "day-of-month month day-of-week [year], e.g. \"0 */5 * * * ?\"): " + ex.getMessage());
            return null;
        }
        // Quartz refuses to schedule a trigger that will never fire; found here, with the file
        // and line, it cannot stop a sync half-way or keep a node from starting.
        expression.setTimeZone(TimeZone.getTimeZone(zone));
        if (expression.getNextValidTimeAfter(new Date()) == null) {
            f.problemAt(f.line("cron"), "schedule.cron '" + cron + "' never fires (no such date after now, e.g. 30 February)");
            return null;
        }
        BusinessCalendar calendar = calendar(f);
        Schedule.Pick pick = f.oneOf("pick", PICKS, "first-in-month or last-in-month", null);
        Schedule.Overlap overlap = f.oneOf("overlap", OVERLAPS, "queue, skip or coalesce", null);
        return new Schedule(cron, zone, misfire, calendar, pick, overlap);
    }

    private static ZoneId zone(YamlFields f) {
        String tz = f.text("timezone");
        if (tz == null) {
            return ZoneOffset.UTC;
        }
        try {
            return ZoneId.of(tz);
        } catch (DateTimeException ex) {
            f.detail("timezone", "unknown time zone '" + tz + "' (example: Europe/Paris)");
            return ZoneOffset.UTC;
        }
    }

    private BusinessCalendar calendar(YamlFields f) {
        String name = f.text("calendar");
        if (name == null) {
            return null;
        }
        BusinessCalendar c = calendars.find(name.trim()).orElse(null);
        if (c == null) {
            String why = calendars.missing(name.trim());
            f.problemAt(f.line("calendar"), why != null ? why : "schedule.calendar '" + name + "' is invalid (see its file's problems)");
        }
        return c;
    }
}
