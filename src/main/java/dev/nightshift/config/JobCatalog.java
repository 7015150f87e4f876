package dev.nightshift.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.quartz.CronExpression;

/**
 * The job catalog: every {@code *.yaml} / {@code *.yml} file of the jobs directory, read and
 * validated as a whole (names unique, {@code after:} names known and free of cycles). Immutable.
 */
public final class JobCatalog {
    private static final Map<JobKind, Function<ParamsReader, JobParams>> PARAM_READERS = new EnumMap<>(JobKind.class);
    /** A job's timeout becomes statement_timeout, an int of milliseconds in PostgreSQL. */
    static final Duration MAX_TIMEOUT = Duration.ofMillis(Integer.MAX_VALUE).truncatedTo(java.time.temporal.ChronoUnit.HOURS);
    private static final String MAX_TIMEOUT_WHY = "PostgreSQL's statement_timeout holds at most 2147483647 ms";
    /** The first retry delay; it doubles per attempt, so a larger one would put retries past any useful horizon. */
    static final Duration MAX_BACKOFF = Duration.ofDays(7);
    private static final String MAX_BACKOFF_WHY = "it doubles with each attempt";

    private static final Set<String> TOP_KEYS = Set.of("name", "description", "type", "schedule", "timeout",
            "max_attempts", "backoff", "concurrency", "after", "params", "deadline", "notify");
    private static final Set<String> SCHEDULE_KEYS = Set.of("cron", "timezone", "misfire", "calendar", "pick", "overlap");

    static {
        PARAM_READERS.put(JobKind.SQL, SqlParams::read);
        PARAM_READERS.put(JobKind.BATCH_IMPORT, ImportParams::read);
        PARAM_READERS.put(JobKind.REBUILD_SUMMARY, SummaryParams::read);
        PARAM_READERS.put(JobKind.REFRESH_MATERIALIZED_VIEW, RefreshParams::read);
    }

    private final Map<String, JobDefinition> jobs;

    private JobCatalog(Map<String, JobDefinition> jobs) {
        this.jobs = jobs;
    }

    public static JobCatalog of(List<JobDefinition> definitions) {
        Map<String, JobDefinition> m = new LinkedHashMap<>();
        definitions.forEach(d -> m.put(d.name(), d));
        return new JobCatalog(java.util.Collections.unmodifiableMap(m));
    }

    public List<JobDefinition> all() {
        return List.copyOf(jobs.values());
    }

    public Optional<JobDefinition> find(String name) {
        return Optional.ofNullable(jobs.get(name));
    }

    public int size() {
        return jobs.size();
    }

    /** Reads and validates the whole directory; throws {@link ConfigException} listing every problem. */
    public static JobCatalog load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(dir + ": jobs directory not found (set NIGHTSHIFT_JOBS_DIR or --jobs-dir)");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().matches(".*\\.ya?ml"))
                    .filter(Files::isRegularFile)
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new ConfigException(dir + ": cannot list jobs directory: " + e.getMessage());
        }
        List<String> problems = new ArrayList<>();
        Map<String, JobDefinition> byName = new LinkedHashMap<>();
        Map<String, Integer> afterLines = new HashMap<>();
        CalendarFiles calendars = new CalendarFiles(dir, problems);
        for (Path f : files) {
            DefinitionReader reader = new DefinitionReader(f, problems, calendars);
            JobDefinition d = reader.read();
            if (d == null) {
                continue;
            }
            JobDefinition earlier = byName.putIfAbsent(d.name(), d);
            if (earlier != null) {
                problems.add(f + ":" + reader.nameLine + ": job name '" + d.name() + "' is already used by " + earlier.file());
            }
            afterLines.put(d.name(), reader.afterLine);
        }
        checkAfter(byName, afterLines, problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new JobCatalog(java.util.Collections.unmodifiableMap(byName));
    }

    private static void checkAfter(Map<String, JobDefinition> byName, Map<String, Integer> lines, List<String> problems) {
        for (JobDefinition d : byName.values()) {
            for (String a : upstream(d)) {
                if (!byName.containsKey(a)) {
                    problems.add(d.file() + ":" + lines.get(d.name()) + ": after: unknown job '" + a + "'");
                }
            }
        }
        Map<String, Integer> state = new HashMap<>();
        for (String name : byName.keySet()) {
            List<String> path = new ArrayList<>();
            if (cycle(name, byName, state, path)) {
                JobDefinition d = byName.get(path.get(0));
                problems.add(d.file() + ":" + lines.get(d.name()) + ": after: cycle " + String.join(" -> ", path));
                return;
            }
        }
    }

    private static List<String> upstream(JobDefinition d) {
        List<String> all = new ArrayList<>(d.after());
        all.addAll(d.afterAll());
        return all;
    }

    /** Depth-first search over after: edges; 1 = on the current path, 2 = done. */
    private static boolean cycle(String name, Map<String, JobDefinition> byName, Map<String, Integer> state, List<String> path) {
        Integer s = state.get(name);
        if (s != null && s == 2) {
            return false;
        }
        if (s != null && s == 1) {
            int from = path.indexOf(name);
            List<String> loop = new ArrayList<>(path.subList(from, path.size()));
            loop.add(name);
            path.clear();
            path.addAll(loop);
            return true;
        }
        JobDefinition d = byName.get(name);
        if (d == null) {
            return false;
        }
        state.put(name, 1);
        path.add(name);
        for (String a : upstream(d)) {
            if (cycle(a, byName, state, path)) {
                return true;
            }
        }
        path.remove(path.size() - 1);
        state.put(name, 2);
        return false;
    }

    /** Reads one file; records problems and returns null when the definition is invalid. */
    private static final class DefinitionReader {
        private final Path file;
        private final List<String> problems;
        private final int problemsBefore;
        private final CalendarFiles calendars;
        int nameLine = 1;
        int afterLine = 1;

        DefinitionReader(Path file, List<String> problems, CalendarFiles calendars) {
            this.file = file;
            this.problems = problems;
            this.calendars = calendars;
            this.problemsBefore = problems.size();
        }

        private void problem(int line, String message) {
            problems.add(file + ":" + line + ": " + message);
        }

        JobDefinition read() {
            Yaml.Node root;
            try (Reader in = new java.io.StringReader(Yaml.readUtf8(file))) {
                root = Yaml.read(in);
            } catch (Yaml.NotUtf8Exception e) {
                problem(e.line, e.getMessage());
                return null;
            } catch (IOException e) {
                problem(1, "cannot read: " + e.getMessage());
                return null;
            } catch (Yaml.YamlSyntaxException e) {
                problem(e.line, "invalid YAML: " + e.getMessage());
                return null;
            }
            if (!(root instanceof Yaml.MapNode map)) {
                problem(root == null ? 1 : root.line(), "a job definition is a mapping (name:, type:, ...), the file has "
                        + (root == null ? "nothing" : root.kind()));
                return null;
            }
            return definition(map);
        }

        private JobDefinition definition(Yaml.MapNode map) {
            Map<String, Yaml.Entry> e = map.entries();
            e.values().stream().filter(x -> !TOP_KEYS.contains(x.key()))
                    .forEach(x -> problem(x.line(), "unknown field '" + x.key() + "' (known: " + String.join(", ", sorted(TOP_KEYS)) + ")"));
            String name = requiredText(map, "name");
            if (e.containsKey("name")) {
                nameLine = e.get("name").line();
            }
            if (name != null && !JobDefinition.NAME.matcher(name).matches()) {
                problem(nameLine, "name '" + name + "' must be lower-case letters, digits and -, starting with a letter or digit, at most 63 characters");
            }
            String description = text(map, "description");
            String typeName = requiredText(map, "type");
            JobKind kind = null;
            if (typeName != null) {
                kind = JobKind.byYamlName(typeName).orElse(null);
                if (kind == null) {
                    problem(e.get("type").line(), "unknown type '" + typeName + "' (known: " + JobKind.names() + ")");
                }
            }
            Schedule schedule = schedule(e.get("schedule"));
            Duration timeout = duration(map, "timeout", null, MAX_TIMEOUT, MAX_TIMEOUT_WHY);
            int maxAttempts = integer(map, "max_attempts", JobDefinition.DEFAULT_MAX_ATTEMPTS, 1, 100);
            Duration backoff = duration(map, "backoff", JobDefinition.DEFAULT_BACKOFF, MAX_BACKOFF, MAX_BACKOFF_WHY);
            int concurrency = "unlimited".equals(text(map, "concurrency"))
                    ? JobDefinition.UNLIMITED : integer(map, "concurrency", 1, 1, 1000);
            List<String> afterAll = new ArrayList<>();
            List<String> after = after(e.get("after"), afterAll);
            JobParams params = params(kind, e.get("params"), map.line());
            Deadline deadline = deadline(map, schedule);
            List<NotifyTarget> notify = notify(e.get("notify"));
            if (problems.size() > problemsBefore || kind == null || params == null) {
                return null;
            }
            return new JobDefinition(name, description, kind, schedule, timeout, maxAttempts, backoff, concurrency,
                    after, params, file, deadline, afterAll, notify);
        }

        /** {@code notify:} a list of webhook URLs, each a URL or {url: …, format: json|slack}. */
        private List<NotifyTarget> notify(Yaml.Entry entry) {
            if (entry == null || entry.value() instanceof Yaml.Scalar s && s.isNull()) {
                return List.of();
            }
            List<Yaml.Node> items = entry.value() instanceof Yaml.ListNode l ? l.items() : List.of(entry.value());
            List<NotifyTarget> out = new ArrayList<>();
            for (Yaml.Node n : items) {
                String url;
                String format = "json";
                if (n instanceof Yaml.Scalar s && !s.isNull()) {
                    url = s.text();
                } else if (n instanceof Yaml.MapNode m) {
                    m.entries().values().stream().filter(x -> !Set.of("url", "format").contains(x.key()))
                            .forEach(x -> problem(x.line(), "notify: unknown field '" + x.key() + "' (known: url, format)"));
                    url = text(m, "url");
                    format = text(m, "format") == null ? "json" : text(m, "format");
                } else {
                    problem(n.line(), "notify: each target is a URL or {url: …, format: json|slack}");
                    continue;
                }
                String why = NotifyTarget.problem(url);
                NotifyTarget.Format f = NotifyTarget.format(format);
                if (why != null) {
                    problem(n.line(), "notify: " + why);
                } else if (f == null) {
                    problem(n.line(), "notify: format must be json or slack, got '" + format + "'");
                } else {
                    out.add(new NotifyTarget(java.net.URI.create(url.strip()), f));
                }
            }
            return out;
        }

        private Deadline deadline(Yaml.MapNode map, Schedule schedule) {
            String v = text(map, "deadline");
            if (v == null) {
                return null;
            }
            int line = map.entries().get("deadline").line();
            if (schedule == null && !map.entries().containsKey("schedule")) {
                problem(line, "deadline: needs a schedule (it is counted from each slot)");
                return null;
            }
            try {
                return Deadline.parse(v);
            } catch (IllegalArgumentException ex) {
                problem(line, "deadline: " + ex.getMessage());
                return null;
            }
        }

        private static List<String> sorted(Set<String> s) {
            return s.stream().sorted().toList();
        }

        private Yaml.Scalar scalar(Yaml.MapNode map, String key) {
            Yaml.Entry x = map.entries().get(key);
            if (x == null) {
                return null;
            }
            if (x.value() instanceof Yaml.Scalar s) {
                return s.isNull() ? null : s;
            }
            problem(x.line(), key + " must be a single value, not " + x.value().kind());
            return null;
        }

        private String text(Yaml.MapNode map, String key) {
            Yaml.Scalar s = scalar(map, key);
            return s == null ? null : s.text();
        }

        private String requiredText(Yaml.MapNode map, String key) {
            String v = text(map, key);
            if (v == null || v.isBlank()) {
                problem(map.entries().containsKey(key) ? map.entries().get(key).line() : map.line(),
                        "missing required field '" + key + "'");
                return null;
            }
            return v;
        }

        private Duration duration(Yaml.MapNode map, String key, Duration dflt, Duration max, String why) {
            String v = text(map, key);
            if (v == null) {
                return dflt;
            }
            try {
                Duration d = Durations.parse(v);
                if (d.isZero()) {
                    problem(map.entries().get(key).line(), key + " must be longer than 0");
                } else if (d.compareTo(max) > 0) {
                    problem(map.entries().get(key).line(), key + " must be at most " + Durations.format(max) + " (" + why + "), got " + v.trim());
                    return dflt;
                }
                return d;
            } catch (IllegalArgumentException ex) {
                problem(map.entries().get(key).line(), key + ": " + ex.getMessage());
                return dflt;
            }
        }

        private int integer(Yaml.MapNode map, String key, int dflt, int min, int max) {
            String v = text(map, key);
            if (v == null) {
                return dflt;
            }
            int line = map.entries().get(key).line();
            try {
                int n = Integer.parseInt(v.trim());
                if (n < min || n > max) {
                    problem(line, key + " must be between " + min + " and " + max + ", got " + n);
                    return dflt;
                }
                return n;
            } catch (NumberFormatException ex) {
                problem(line, key + " must be a whole number, got '" + v + "'");
                return dflt;
            }
        }

        private Schedule schedule(Yaml.Entry entry) {
            if (entry == null || entry.value() instanceof Yaml.Scalar s && s.isNull()) {
                return null;
            }
            if (!(entry.value() instanceof Yaml.MapNode m)) {
                problem(entry.line(), "schedule must be a mapping with cron:, timezone:, misfire:");
                return null;
            }
            m.entries().values().stream().filter(x -> !SCHEDULE_KEYS.contains(x.key()))
                    .forEach(x -> problem(x.line(), "schedule: unknown field '" + x.key() + "' (known: calendar, cron, misfire, overlap, pick, timezone)"));
            String cron = requiredText(m, "cron");
            ZoneId zone = java.time.ZoneOffset.UTC;
            String tz = text(m, "timezone");
            if (tz != null) {
                try {
                    zone = ZoneId.of(tz);
                } catch (DateTimeException ex) {
                    problem(m.entries().get("timezone").line(), "schedule.timezone: unknown time zone '" + tz + "' (example: Europe/Paris)");
                }
            }
            Schedule.Misfire misfire = Schedule.Misfire.FIRE_ONCE;
            String mf = text(m, "misfire");
            if (mf != null) {
                misfire = switch (mf) {
                    case "fire-once" -> Schedule.Misfire.FIRE_ONCE;
                    case "skip" -> Schedule.Misfire.SKIP;
                    default -> {
                        problem(m.entries().get("misfire").line(), "schedule.misfire must be fire-once or skip, got '" + mf + "'");
                        yield Schedule.Misfire.FIRE_ONCE;
                    }
                };
            }
            if (cron == null) {
                return null;
            }
            CronExpression expression;
            try {
                expression = new CronExpression(cron);
            } catch (java.text.ParseException ex) {
                problem(m.entries().get("cron").line(), "schedule.cron '" + cron + "' is not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year], e.g. \"0 */5 * * * ?\"): " + ex.getMessage());
                return null;
            }
            // Quartz refuses to schedule a trigger that will never fire; found here, with the file
            // and line, it cannot stop a sync half-way or keep a node from starting.
            expression.setTimeZone(java.util.TimeZone.getTimeZone(zone));
            if (expression.getNextValidTimeAfter(new java.util.Date()) == null) {
                problem(m.entries().get("cron").line(), "schedule.cron '" + cron + "' never fires (no such date after now, e.g. 30 February)");
                return null;
            }
            return new Schedule(cron, zone, misfire, calendar(m), pick(m), overlap(m));
        }

        private BusinessCalendar calendar(Yaml.MapNode m) {
            String name = text(m, "calendar");
            if (name == null) {
                return null;
            }
            BusinessCalendar c = calendars.find(name.trim()).orElse(null);
            if (c == null) {
                String why = calendars.missing(name.trim());
                if (why != null) {
                    problem(m.entries().get("calendar").line(), why);
                } else {
                    problem(m.entries().get("calendar").line(), "schedule.calendar '" + name + "' is invalid (see its file's problems)");
                }
            }
            return c;
        }

        private Schedule.Overlap overlap(Yaml.MapNode m) {
            String o = text(m, "overlap");
            if (o == null) {
                return null;
            }
            Schedule.Overlap overlap = Schedule.Overlap.byYamlName(o);
            if (overlap == null) {
                problem(m.entries().get("overlap").line(), "schedule.overlap must be queue, skip or coalesce, got '" + o + "'");
            }
            return overlap;
        }

        private Schedule.Pick pick(Yaml.MapNode m) {
            String p = text(m, "pick");
            if (p == null) {
                return null;
            }
            Schedule.Pick pick = Schedule.Pick.byYamlName(p.trim());
            if (pick == null) {
                problem(m.entries().get("pick").line(), "schedule.pick must be first-in-month or last-in-month, got '" + p + "'");
            }
            return pick;
        }

        /** {@code after: [a, b]} (each) or {@code after: {all: [a, b]}} (fan-in, into {@code all}). */
        private List<String> after(Yaml.Entry entry, List<String> all) {
            if (entry == null || entry.value() instanceof Yaml.Scalar s && s.isNull()) {
                return List.of();
            }
            afterLine = entry.line();
            if (entry.value() instanceof Yaml.MapNode m) {
                m.entries().values().stream().filter(x -> !x.key().equals("all"))
                        .forEach(x -> problem(x.line(), "after: unknown field '" + x.key() + "' (after: [a, b] runs after each; "
                                + "after: {all: [a, b]} once per period when all succeeded)"));
                Yaml.Entry listed = m.entries().get("all");
                if (listed == null) {
                    problem(entry.line(), "after: a mapping must be {all: [job, ...]}");
                    return List.of();
                }
                all.addAll(after(listed, new ArrayList<>()));
                if (all.size() < 2) {
                    problem(listed.line(), "after: all: lists at least two jobs (for one, write after: [job])");
                }
                return List.of();
            }
            List<Yaml.Node> items = entry.value() instanceof Yaml.ListNode l ? l.items() : List.of(entry.value());
            List<String> out = new ArrayList<>();
            for (Yaml.Node n : items) {
                if (n instanceof Yaml.Scalar s && !s.isNull() && JobDefinition.NAME.matcher(s.text()).matches()) {
                    out.add(s.text());
                } else {
                    problem(n.line(), "after: must list job names, got " + (n instanceof Yaml.Scalar s ? "'" + s.text() + "'" : n.kind()));
                }
            }
            return out;
        }

        private JobParams params(JobKind kind, Yaml.Entry entry, int defLine) {
            Yaml.MapNode m = null;
            if (entry != null && entry.value() instanceof Yaml.MapNode mm) {
                m = mm;
            } else if (entry != null && !(entry.value() instanceof Yaml.Scalar s && s.isNull())) {
                problem(entry.line(), "params must be a mapping, not " + entry.value().kind());
                return null;
            }
            if (kind == null) {
                return null;
            }
            Function<ParamsReader, JobParams> reader = PARAM_READERS.get(kind);
            if (reader == null) {
                problem(entry == null ? defLine : entry.line(), "type '" + kind.yamlName() + "' is not available in this version");
                return null;
            }
            return reader.apply(new ParamsReader(file, m, entry == null ? defLine : entry.line(), problems));
        }
    }
}
