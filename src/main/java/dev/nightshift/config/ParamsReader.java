package dev.nightshift.config;

import com.fasterxml.jackson.core.JsonToken;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed access to the {@code params:} mapping of one job definition. Each getter records a
 * problem (with file and line) instead of throwing, so that validation reports everything at once.
 * Not thread-safe; one instance per definition being read.
 */
public final class ParamsReader {
    private final YamlFields fields;

    ParamsReader(Path file, Yaml.MapNode params, int line, List<String> problems) {
        this.fields = new YamlFields(file, params, line, problems, YamlFields.Naming.PARAM, "params.");
    }

    /** Records a problem about {@code key} (or about params as a whole when key is null). */
    public void problem(String key, String message) {
        fields.problem(key, message);
    }

    /** The directory of the definition file, against which relative paths resolve. */
    public Path directory() {
        Path parent = fields.file().toAbsolutePath().getParent();
        return parent == null ? Path.of(".") : parent;
    }

    public boolean has(String key) {
        return fields.has(key);
    }

    public String string(String key) {
        return fields.text(key);
    }

    public String requiredString(String key) {
        return fields.requiredText(key);
    }

    public boolean bool(String key, boolean dflt) {
        Yaml.Scalar s = fields.scalar(key);
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
        return fields.duration(key, dflt);
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
        List<String> out = new ArrayList<>();
        for (Yaml.Node n : fields.items(key)) {
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
        List<Path> out = new ArrayList<>();
        for (Yaml.Node n : fields.items(key)) {
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
        List<Yaml.Node> items = fields.items(key);
        if (items.isEmpty() && !fields.has(key)) {
            if (required) {
                problem(key, "is required");
            }
            return List.of();
        }
        List<String> out = new ArrayList<>();
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
        Yaml.Node n = fields.node(key);
        if (n == null) {
            return Map.of();
        }
        if (!(n instanceof Yaml.MapNode m)) {
            problem(key, "must be a mapping, not " + n.kind());
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Yaml.Entry x : m.entries().values()) {
            if (x.value() instanceof Yaml.Scalar s && !s.isNull()) {
                out.put(x.key(), s.text());
            } else {
                fields.problemAt(x.line(), "params." + key + "." + x.key() + ": must be a single value");
            }
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    /** Reports every key that no getter asked for. Call once, after reading. */
    public void rejectUnknown() {
        fields.rejectUnasked();
    }
}
