package dev.nightshift.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.MonthDay;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The business calendars of a catalog, {@code calendars/NAME.yaml} beside the job files, each read
 * once when a schedule first names it. A file looks like:
 * <pre>
 * timezone: Europe/Paris      # default UTC
 * dates: [2026-04-06, 2026-05-14]
 * yearly: ["01-01", "05-01", "12-25"]
 * </pre>
 * Problems are reported with file and line into the catalog's list. Not thread-safe (one per catalog load).
 */
final class CalendarFiles {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final Set<String> KEYS = Set.of("timezone", "dates", "yearly");

    private final Path dir;
    private final List<String> problems;
    private final Map<String, Optional<BusinessCalendar>> read = new HashMap<>();

    CalendarFiles(Path jobsDir, List<String> problems) {
        this.dir = jobsDir.resolve("calendars");
        this.problems = problems;
    }

    /** Empty when the name is not one, the file is missing or invalid; the caller reports the first two at its line. */
    Optional<BusinessCalendar> find(String name) {
        if (!NAME.matcher(name).matches()) {
            return Optional.empty();
        }
        return read.computeIfAbsent(name, this::load);
    }

    /** Why {@link #find} found nothing, for the job file's line; null when the calendar file itself was at fault. */
    String missing(String name) {
        if (!NAME.matcher(name).matches()) {
            return "schedule.calendar '" + name + "' must be lower-case letters, digits, - and _";
        }
        Path f = file(name);
        return Files.isRegularFile(f) ? null : "schedule.calendar: no calendar '" + name + "' (" + f + " not found)";
    }

    private Path file(String name) {
        return dir.resolve(name + ".yaml");
    }

    private Optional<BusinessCalendar> load(String name) {
        Path f = file(name);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        Yaml.MapNode map = YamlFields.readMapping(f, "calendar", "a calendar is a mapping (timezone:, dates:, yearly:)", false, problems);
        if (map == null) {
            return Optional.empty();
        }
        int before = problems.size();
        YamlFields fields = new YamlFields(f, map, map.line(), problems, YamlFields.Naming.FIELD, "");
        fields.rejectOthers(KEYS, "");
        ZoneId zone = zone(fields);
        Set<LocalDate> dates = new TreeSet<>();
        Set<MonthDay> yearly = new TreeSet<>();
        for (Yaml.Scalar s : items(fields, "dates")) {
            try {
                dates.add(LocalDate.parse(s.text().trim()));
            } catch (DateTimeParseException e) {
                fields.problemAt(s.line(), "dates: '" + s.text() + "' is not a date such as 2026-04-06");
            }
        }
        for (Yaml.Scalar s : items(fields, "yearly")) {
            try {
                yearly.add(MonthDay.parse("--" + s.text().trim()));
            } catch (DateTimeParseException e) {
                fields.problemAt(s.line(), "yearly: '" + s.text() + "' is not a month and day such as 12-25 (quote it)");
            }
        }
        if (problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new BusinessCalendar(name, zone, new TreeSet<>(dates), new TreeSet<>(yearly)));
    }

    private static ZoneId zone(YamlFields fields) {
        String tz = fields.text("timezone");
        if (tz == null) {
            return ZoneId.of("UTC");
        }
        try {
            return ZoneId.of(tz.trim());
        } catch (DateTimeException ex) {
            fields.detail("timezone", "unknown time zone '" + tz + "' (example: Europe/Paris)");
            return ZoneId.of("UTC");
        }
    }

    /** A list's values; a lone value is not a list. */
    private static List<Yaml.Scalar> items(YamlFields fields, String key) {
        Yaml.Node n = fields.node(key);
        if (n != null && !(n instanceof Yaml.ListNode)) {
            fields.problem(key, "must be a list");
            return List.of();
        }
        return fields.scalars(key, "each item must be a single value");
    }
}
