package dev.nightshift.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads one job definition file into a {@link JobDefinition}, recording every problem with file
 * and line; the {@code schedule:} part is read by {@link ScheduleReader}, the {@code params:} by the
 * job type's own reader. Not thread-safe: one instance per file.
 */
final class DefinitionReader {
    /** A job's timeout becomes statement_timeout, an int of milliseconds in PostgreSQL. */
    static final Duration MAX_TIMEOUT = Duration.ofMillis(Integer.MAX_VALUE).truncatedTo(ChronoUnit.HOURS);
    private static final String MAX_TIMEOUT_WHY = "PostgreSQL's statement_timeout holds at most 2147483647 ms";
    /** The first retry delay; it doubles per attempt, so a larger one would put retries past any useful horizon. */
    static final Duration MAX_BACKOFF = Duration.ofDays(7);
    private static final String MAX_BACKOFF_WHY = "it doubles with each attempt";

    private static final Set<String> KEYS = Set.of("name", "description", "type", "schedule", "timeout",
            "max_attempts", "backoff", "concurrency", "after", "params", "deadline", "notify");
    private static final Map<JobKind, Function<ParamsReader, JobParams>> PARAM_READERS = Map.of(
            JobKind.SQL, SqlParams::read,
            JobKind.BATCH_IMPORT, ImportParams::read,
            JobKind.REBUILD_SUMMARY, SummaryParams::read,
            JobKind.REFRESH_MATERIALIZED_VIEW, RefreshParams::read);

    private final Path file;
    private final List<String> problems;
    private final int problemsBefore;
    private final ScheduleReader schedules;
    /** Where the name and the after: list stand, for the catalog's problems across files. */
    int nameLine = 1;
    int afterLine = 1;

    DefinitionReader(Path file, List<String> problems, ScheduleReader schedules) {
        this.file = file;
        this.problems = problems;
        this.schedules = schedules;
        this.problemsBefore = problems.size();
    }

    /** The definition, or null when the file has problems (recorded). */
    JobDefinition read() {
        Yaml.MapNode map = YamlFields.readMapping(file, "job definition", "a job definition is a mapping (name:, type:, ...)",
                false, problems);
        if (map == null) {
            return null;
        }
        YamlFields f = new YamlFields(file, map, map.line(), problems, YamlFields.Naming.FIELD, "");
        f.rejectOthers(KEYS, "");
        String name = f.requiredText("name");
        nameLine = f.line("name");
        if (name != null && !JobDefinition.NAME.matcher(name).matches()) {
            f.problemAt(nameLine, "name '" + name + "' must be lower-case letters, digits and -, starting with a letter or digit, at most 63 characters");
        }
        String description = f.text("description");
        JobKind kind = kind(f);
        Schedule schedule = schedules.read(file, map.entries().get("schedule"), problems);
        Duration timeout = f.duration("timeout", null, MAX_TIMEOUT, MAX_TIMEOUT_WHY);
        int maxAttempts = f.integer("max_attempts", JobDefinition.DEFAULT_MAX_ATTEMPTS, 1, 100);
        Duration backoff = f.duration("backoff", JobDefinition.DEFAULT_BACKOFF, MAX_BACKOFF, MAX_BACKOFF_WHY);
        int concurrency = "unlimited".equals(f.text("concurrency"))
                ? JobDefinition.UNLIMITED : f.integer("concurrency", 1, 1, 1000);
        List<String> afterAll = new ArrayList<>();
        List<String> after = after(f, map.entries().get("after"), afterAll);
        JobParams params = params(kind, map.entries().get("params"), map.line());
        Deadline deadline = deadline(f, schedule);
        List<NotifyTarget> notify = notify(f);
        if (problems.size() > problemsBefore || kind == null || params == null) {
            return null;
        }
        return JobDefinition.builder(name, params).description(description).schedule(schedule).timeout(timeout)
                .maxAttempts(maxAttempts).backoff(backoff).concurrency(concurrency).after(after).afterAll(afterAll)
                .deadline(deadline).notifyTargets(notify).file(file).build();
    }

    private static JobKind kind(YamlFields f) {
        String typeName = f.requiredText("type");
        if (typeName == null) {
            return null;
        }
        JobKind kind = JobKind.byYamlName(typeName).orElse(null);
        if (kind == null) {
            f.problemAt(f.line("type"), "unknown type '" + typeName + "' (known: " + JobKind.names() + ")");
        }
        return kind;
    }

    /** {@code notify:} a list of webhook URLs, each a URL or {url: …, format: json|slack}. */
    private List<NotifyTarget> notify(YamlFields f) {
        List<NotifyTarget> out = new ArrayList<>();
        for (Yaml.Node n : f.items("notify")) {
            String url;
            String format = "json";
            if (n instanceof Yaml.Scalar s && !s.isNull()) {
                url = s.text();
            } else if (n instanceof Yaml.MapNode m) {
                YamlFields target = new YamlFields(file, m, m.line(), problems, YamlFields.Naming.FIELD, "");
                target.entries().values().stream().filter(x -> !Set.of("url", "format").contains(x.key()))
                        .forEach(x -> target.problemAt(x.line(), "notify: unknown field '" + x.key() + "' (known: url, format)"));
                url = target.text("url");
                format = target.text("format") == null ? "json" : target.text("format");
            } else {
                f.problemAt(n.line(), "notify: each target is a URL or {url: …, format: json|slack}");
                continue;
            }
            String why = NotifyTarget.problem(url);
            NotifyTarget.Format nf = NotifyTarget.format(format);
            if (why != null) {
                f.problemAt(n.line(), "notify: " + why);
            } else if (nf == null) {
                f.problemAt(n.line(), "notify: format must be json or slack, got '" + format + "'");
            } else {
                out.add(new NotifyTarget(URI.create(url.strip()), nf));
            }
        }
        return out;
    }

    private static Deadline deadline(YamlFields f, Schedule schedule) {
        String v = f.text("deadline");
        if (v == null) {
            return null;
        }
        if (schedule == null && !f.entries().containsKey("schedule")) {
            f.problemAt(f.line("deadline"), "deadline: needs a schedule (it is counted from each slot)");
            return null;
        }
        try {
            return Deadline.parse(v);
        } catch (IllegalArgumentException ex) {
            f.detail("deadline", ex.getMessage());
            return null;
        }
    }

    /** {@code after: [a, b]} (each) or {@code after: {all: [a, b]}} (fan-in, into {@code all}). */
    private List<String> after(YamlFields f, Yaml.Entry entry, List<String> all) {
        if (entry == null || entry.value() instanceof Yaml.Scalar s && s.isNull()) {
            return List.of();
        }
        afterLine = entry.line();
        if (entry.value() instanceof Yaml.MapNode m) {
            m.entries().values().stream().filter(x -> !x.key().equals("all"))
                    .forEach(x -> f.problemAt(x.line(), "after: unknown field '" + x.key() + "' (after: [a, b] runs after each; "
                            + "after: {all: [a, b]} once per period when all succeeded)"));
            Yaml.Entry listed = m.entries().get("all");
            if (listed == null) {
                f.problemAt(entry.line(), "after: a mapping must be {all: [job, ...]}");
                return List.of();
            }
            all.addAll(after(f, listed, new ArrayList<>()));
            if (all.size() < 2) {
                f.problemAt(listed.line(), "after: all: lists at least two jobs (for one, write after: [job])");
            }
            return List.of();
        }
        List<Yaml.Node> items = entry.value() instanceof Yaml.ListNode l ? l.items() : List.of(entry.value());
        List<String> out = new ArrayList<>();
        for (Yaml.Node n : items) {
            if (n instanceof Yaml.Scalar s && !s.isNull() && JobDefinition.NAME.matcher(s.text()).matches()) {
                out.add(s.text());
            } else {
                f.problemAt(n.line(), "after: must list job names, got " + (n instanceof Yaml.Scalar s ? "'" + s.text() + "'" : n.kind()));
            }
        }
        return out;
    }

    private JobParams params(JobKind kind, Yaml.Entry entry, int defLine) {
        Yaml.MapNode m = null;
        if (entry != null && entry.value() instanceof Yaml.MapNode mm) {
            m = mm;
        } else if (entry != null && !(entry.value() instanceof Yaml.Scalar s && s.isNull())) {
            problems.add(file + ":" + entry.line() + ": params must be a mapping, not " + entry.value().kind());
            return null;
        }
        if (kind == null) {
            return null;
        }
        return PARAM_READERS.get(kind).apply(new ParamsReader(file, m, entry == null ? defLine : entry.line(), problems));
    }
}
