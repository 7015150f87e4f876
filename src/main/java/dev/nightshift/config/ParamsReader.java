package dev.nightshift.config;

import com.fasterxml.jackson.core.JsonToken;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed access to the {@code params:} mapping of one job definition. Each getter records a
 * problem (with file and line) instead of throwing, so that validation reports everything at once.
 * Not thread-safe; one instance per definition being read.
 */
public final class ParamsReader {
    private final Path file;
    private final int line;
    private final Map<String, Yaml.Entry> entries;
    private final Set<String> read = new HashSet<>();
    private final List<String> problems;

    ParamsReader(Path file, Yaml.MapNode params, int line, List<String> problems) {
        this.file = file;
        this.line = params == null ? line : params.line();
        this.entries = params == null ? Map.of() : params.entries();
        this.problems = problems;
    }

    /** Records a problem about {@code key} (or about params as a whole when key is null). */
    public void problem(String key, String message) {
        Yaml.Entry e = key == null ? null : entries.get(key);
        int at = e == null ? line : e.line();
        problems.add(file + ":" + at + ": " + (key == null ? "params" : "params." + key) + ": " + message);
    }

    /** The directory of the definition file, against which relative paths resolve. */
    public Path directory() {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? Path.of(".") : parent;
    }

    public boolean has(String key) {
        read.add(key);
        Yaml.Entry e = entries.get(key);
        return e != null && !(e.value() instanceof Yaml.Scalar s && s.isNull());
    }

    private Yaml.Scalar scalar(String key) {
        read.add(key);
        Yaml.Entry e = entries.get(key);
        if (e == null || e.value() instanceof Yaml.Scalar s && s.isNull()) {
            return null;
        }
        if (e.value() instanceof Yaml.Scalar s) {
            return s;
        }
        problem(key, "must be a single value, not " + e.value().kind());
        return null;
    }

    public String string(String key) {
        Yaml.Scalar s = scalar(key);
        return s == null ? null : s.text();
    }

    public String requiredString(String key) {
        String v = string(key);
        if (v == null || v.isBlank()) {
            if (!entries.containsKey(key)) {
                problem(key, "is required");
            } else {
                problem(key, "must not be empty");
            }
            return null;
        }
        return v;
    }

    public boolean bool(String key, boolean dflt) {
        Yaml.Scalar s = scalar(key);
        if (s == null) {
            return dflt;
        }
        if (s.token() == JsonToken.VALUE_TRUE || s.token() == JsonToken.VALUE_FALSE) {
            return s.token() == JsonToken.VALUE_TRUE;
        }
        problem(key, "must be true or false, got '" + s.text() + "'");
        return dflt;
    }

    public Duration duration(String key, Duration dflt) {
        String v = string(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            problem(key, e.getMessage());
            return dflt;
        }
    }

    /** One of {@code allowed}; {@code dflt} when absent. */
    public String choice(String key, List<String> allowed, String dflt) {
        String v = string(key);
        if (v == null) {
            return dflt;
        }
        if (!allowed.contains(v)) {
            problem(key, "must be one of " + String.join(" | ", allowed) + ", got '" + v + "'");
            return dflt;
        }
        return v;
    }

    /** A path relative to the definition's directory (or absolute). Existence is not checked. */
    public Path path(String key) {
        String v = string(key);
        if (v == null) {
            return null;
        }
        try {
            return directory().resolve(v).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            problem(key, "not a valid path: " + e.getMessage());
            return null;
        }
    }

    /** A list of strings (or a single one); empty when absent. */
    public List<String> strings(String key) {
        read.add(key);
        Yaml.Entry e = entries.get(key);
        if (e == null || e.value() instanceof Yaml.Scalar s && s.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (Yaml.Node n : e.value() instanceof Yaml.ListNode l ? l.items() : List.of(e.value())) {
            if (!(n instanceof Yaml.Scalar s) || s.isNull()) {
                problem(key, "must be a list of values");
            } else {
                out.add(s.text());
            }
        }
        return List.copyOf(out);
    }

    /** A list of paths (or a single one), each relative to the definition's directory or absolute. */
    public List<Path> paths(String key) {
        read.add(key);
        Yaml.Entry e = entries.get(key);
        if (e == null || e.value() instanceof Yaml.Scalar s && s.isNull()) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        for (Yaml.Node n : e.value() instanceof Yaml.ListNode l ? l.items() : List.of(e.value())) {
            if (!(n instanceof Yaml.Scalar s) || s.isNull() || s.text().isBlank()) {
                problem(key, "must be a list of paths");
                continue;
            }
            try {
                out.add(directory().resolve(s.text()).normalize());
            } catch (java.nio.file.InvalidPathException x) {
                problem(key, "not a valid path: " + x.getMessage());
            }
        }
        return List.copyOf(out);
    }

    /** A schema-qualified table or view name, validated. */
    public String qualifiedName(String key, boolean required) {
        String v = required ? requiredString(key) : string(key);
        if (v == null) {
            return null;
        }
        String why = Identifiers.checkQualified(v);
        if (why != null) {
            problem(key, why);
            return null;
        }
        return v;
    }

    /** A list of plain identifiers, given as a YAML list or a single name. */
    public List<String> names(String key, boolean required) {
        read.add(key);
        Yaml.Entry e = entries.get(key);
        if (e == null || e.value() instanceof Yaml.Scalar s && s.isNull()) {
            if (required) {
                problem(key, "is required");
            }
            return List.of();
        }
        List<String> out = new ArrayList<>();
        List<Yaml.Node> items = e.value() instanceof Yaml.ListNode l ? l.items() : List.of(e.value());
        for (Yaml.Node n : items) {
            if (!(n instanceof Yaml.Scalar s) || s.isNull()) {
                problem(key, "must be a list of names");
                continue;
            }
            String why = Identifiers.checkName(s.text());
            if (why != null) {
                problem(key, why);
            } else if (out.contains(s.text())) {
                problem(key, "'" + s.text() + "' is listed twice");
            } else {
                out.add(s.text());
            }
        }
        if (required && out.isEmpty() && items.isEmpty()) {
            problem(key, "must name at least one column");
        }
        return List.copyOf(out);
    }

    /** A mapping of strings to strings, in file order. */
    public Map<String, String> stringMap(String key) {
        read.add(key);
        Yaml.Entry e = entries.get(key);
        if (e == null || e.value() instanceof Yaml.Scalar s && s.isNull()) {
            return Map.of();
        }
        if (!(e.value() instanceof Yaml.MapNode m)) {
            problem(key, "must be a mapping, not " + e.value().kind());
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Yaml.Entry x : m.entries().values()) {
            if (x.value() instanceof Yaml.Scalar s && !s.isNull()) {
                out.put(x.key(), s.text());
            } else {
                problems.add(file + ":" + x.line() + ": params." + key + "." + x.key() + ": must be a single value");
            }
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    /** Reports every key that no getter asked for. Call once, after reading. */
    public void rejectUnknown() {
        for (Yaml.Entry e : entries.values()) {
            if (!read.contains(e.key())) {
                problems.add(file + ":" + e.line() + ": params." + e.key() + ": unknown parameter");
            }
        }
    }
}
