package dev.nightshift.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
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
        Yaml.Node root;
        try (Reader in = new java.io.InputStreamReader(Files.newInputStream(f), StandardCharsets.UTF_8.newDecoder())) {
            root = Yaml.read(in);
        } catch (CharacterCodingException e) {
            problems.add(f + ":1: not valid UTF-8");
            return Optional.empty();
        } catch (IOException e) {
            problems.add(f + ":1: cannot read: " + e.getMessage());
            return Optional.empty();
        } catch (Yaml.YamlSyntaxException e) {
            problems.add(f + ":" + e.line + ": invalid YAML: " + e.getMessage());
            return Optional.empty();
        }
        if (!(root instanceof Yaml.MapNode map)) {
            problems.add(f + ":1: a calendar is a mapping (timezone:, dates:, yearly:)");
            return Optional.empty();
        }
        int before = problems.size();
        map.entries().values().stream().filter(e -> !KEYS.contains(e.key()))
                .forEach(e -> problems.add(f + ":" + e.line() + ": unknown field '" + e.key() + "' (known: dates, timezone, yearly)"));
        ZoneId zone = zone(f, map.entries().get("timezone"));
        Set<LocalDate> dates = new TreeSet<>();
        Set<MonthDay> yearly = new TreeSet<>();
        for (Yaml.Scalar s : items(f, map.entries().get("dates"))) {
            try {
                dates.add(LocalDate.parse(s.text().trim()));
            } catch (DateTimeParseException e) {
                problems.add(f + ":" + s.line() + ": dates: '" + s.text() + "' is not a date such as 2026-04-06");
            }
        }
        for (Yaml.Scalar s : items(f, map.entries().get("yearly"))) {
            try {
                yearly.add(MonthDay.parse("--" + s.text().trim()));
            } catch (DateTimeParseException e) {
                problems.add(f + ":" + s.line() + ": yearly: '" + s.text() + "' is not a month and day such as 12-25 (quote it)");
            }
        }
        if (problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new BusinessCalendar(name, zone, new TreeSet<>(dates), new TreeSet<>(yearly)));
    }

    private ZoneId zone(Path f, Yaml.Entry e) {
        if (e == null) {
            return ZoneId.of("UTC");
        }
        if (e.value() instanceof Yaml.Scalar s && s.text() != null) {
            try {
                return ZoneId.of(s.text().trim());
            } catch (DateTimeException ex) {
                problems.add(f + ":" + e.line() + ": timezone: unknown time zone '" + s.text() + "' (example: Europe/Paris)");
                return ZoneId.of("UTC");
            }
        }
        problems.add(f + ":" + e.line() + ": timezone must be a single value");
        return ZoneId.of("UTC");
    }

    private List<Yaml.Scalar> items(Path f, Yaml.Entry e) {
        if (e == null || e.value() instanceof Yaml.Scalar s && s.isNull()) {
            return List.of();
        }
        if (!(e.value() instanceof Yaml.ListNode list)) {
            problems.add(f + ":" + e.line() + ": " + e.key() + " must be a list");
            return List.of();
        }
        List<Yaml.Scalar> out = new java.util.ArrayList<>();
        for (Yaml.Node n : list.items()) {
            if (n instanceof Yaml.Scalar s && s.text() != null) {
                out.add(s);
            } else {
                problems.add(f + ":" + n.line() + ": " + e.key() + ": each item must be a single value");
            }
        }
        return out;
    }
}
