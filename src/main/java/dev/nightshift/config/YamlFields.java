package dev.nightshift.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one reader of YAML files and of their fields, for job definitions, schedules, params,
 * calendars and the config file: a file read strictly as UTF-8, parsed, and required to be a mapping;
 * then each field read as text, a duration, a whole number, one of a set or a list. A problem is
 * recorded with the file and the field's line instead of thrown, so a reader reports every problem
 * at once. Not thread-safe: one instance per mapping being read.
 */
final class YamlFields {

    /** How a field is named in a problem. */
    enum Naming {
        /** A definition's own fields, a schedule's, a calendar's: "timeout must be …", "missing required field 'name'". */
        FIELD,
        /** A job type's params: "params.mode: must be …", "params.target: is required". */
        PARAM
    }

    private final Path file;
    private final Map<String, Yaml.Entry> entries;
    private final int line;
    private final List<String> problems;
    private final Naming naming;
    private final String prefix;
    private final Set<String> asked = new HashSet<>();

    /**
     * @param map    the mapping, or null for an absent one (every field then reads as absent)
     * @param line   where a problem about the mapping as a whole, or about a missing field, is reported
     * @param prefix put before a field's name in problems ({@code "schedule."}); empty for none
     */
    YamlFields(Path file, Yaml.MapNode map, int line, List<String> problems, Naming naming, String prefix) {
        this.file = file;
        this.entries = map == null ? Map.of() : map.entries();
        this.line = map == null ? line : map.line();
        this.problems = problems;
        this.naming = naming;
        this.prefix = prefix;
    }

    /**
     * Reads {@code file} as a YAML mapping. Records a problem and gives null when the file cannot be read,
     * is not UTF-8 (at the line of its first bad byte), is not YAML, or is not a mapping.
     *
     * @param what         what the file is, for "config file not found", "cannot read calendar: …"
     * @param shape        the first half of the not-a-mapping problem: "a calendar is a mapping (timezone:, dates:, yearly:)"
     * @param emptyAllowed whether an empty file reads as an empty mapping (true) or is that problem
     */
    static Yaml.MapNode readMapping(Path file, String what, String shape, boolean emptyAllowed, List<String> problems) {
        Yaml.Node root;
        try {
            root = Yaml.read(new StringReader(Yaml.readUtf8(file)));
        } catch (Yaml.NotUtf8Exception e) {
            problems.add(file + ":" + e.line + ": " + e.getMessage());
            return null;
        } catch (NoSuchFileException e) {
            problems.add(file + ": " + what + " not found");
            return null;
        } catch (IOException e) {
            problems.add(file + ": cannot read " + what + ": " + e.getMessage());
            return null;
        } catch (Yaml.YamlSyntaxException e) {
            problems.add(file + ":" + e.line + ": invalid YAML: " + e.getMessage());
            return null;
        }
        if (root == null && emptyAllowed) {
            return new Yaml.MapNode(Map.of(), 1);
        }
        if (root instanceof Yaml.MapNode map) {
            return map;
        }
        problems.add(file + ":" + (root == null ? 1 : root.line()) + ": " + shape + ", not "
                + (root == null ? "an empty file" : root.kind()));
        return null;
    }

    Path file() {
        return file;
    }

    Map<String, Yaml.Entry> entries() {
        return entries;
    }

    /** The line of {@code key}, or of the mapping when the key is absent. */
    int line(String key) {
        Yaml.Entry e = key == null ? null : entries.get(key);
        return e == null ? line : e.line();
    }

    /** Records {@code message} as it is, at {@code at}. */
    void problemAt(int at, String message) {
        problems.add(file + ":" + at + ": " + message);
    }

    /** Records a problem about {@code key} ("must be …"), named as the naming says; about the mapping when key is null. */
    void problem(String key, String message) {
        String name = key == null ? prefix.replaceAll("\\.$", "") : prefix + key;
        problemAt(line(key), name + (naming == Naming.PARAM ? ": " : " ") + message);
    }

    /** Records a problem whose message is a parser's sentence ("timeout: not a duration …"). */
    void detail(String key, String message) {
        problemAt(line(key), prefix + key + ": " + message);
    }

    /** Reports every field not in {@code known}, listing them. */
    void rejectOthers(Set<String> known, String what) {
        entries.values().stream().filter(x -> !known.contains(x.key()))
                .forEach(x -> problemAt(x.line(), what + "unknown field '" + x.key() + "' (known: "
                        + String.join(", ", known.stream().sorted().toList()) + ")"));
    }

    /** Reports every field that no getter asked for, as an unknown parameter. */
    void rejectUnasked() {
        entries.values().stream().filter(x -> !asked.contains(x.key()))
                .forEach(x -> problemAt(x.line(), prefix + x.key() + ": unknown parameter"));
    }

    /** The field's value node; null when absent or YAML null. */
    Yaml.Node node(String key) {
        asked.add(key);
        Yaml.Entry e = entries.get(key);
        return e == null || e.value() instanceof Yaml.Scalar s && s.isNull() ? null : e.value();
    }

    boolean has(String key) {
        return node(key) != null;
    }

    Yaml.Scalar scalar(String key) {
        Yaml.Node n = node(key);
        if (n == null || n instanceof Yaml.Scalar) {
            return (Yaml.Scalar) n;
        }
        problem(key, "must be a single value, not " + n.kind());
        return null;
    }

    String text(String key) {
        Yaml.Scalar s = scalar(key);
        return s == null ? null : s.text();
    }

    /** Text that must be there and not blank. */
    String requiredText(String key) {
        String v = text(key);
        if (v != null && !v.isBlank()) {
            return v;
        }
        if (naming == Naming.FIELD) {
            problemAt(line(key), "missing required field '" + key + "'");
        } else {
            problem(key, entries.containsKey(key) ? "must not be empty" : "is required");
        }
        return null;
    }

    Duration duration(String key, Duration dflt) {
        String v = text(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            detail(key, e.getMessage());
            return dflt;
        }
    }

    /** A duration longer than zero and at most {@code max}; {@code why} says where the bound comes from. */
    Duration duration(String key, Duration dflt, Duration max, String why) {
        Duration d = duration(key, null);
        if (d == null) {
            return dflt;
        }
        if (d.isZero()) {
            problem(key, "must be longer than 0");
        } else if (d.compareTo(max) > 0) {
            problem(key, "must be at most " + Durations.format(max) + " (" + why + "), got " + text(key).trim());
            return dflt;
        }
        return d;
    }

    int integer(String key, int dflt, int min, int max) {
        String v = text(key);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
            problem(key, "must be between " + min + " and " + max + ", got " + n);
        } catch (NumberFormatException ex) {
            problem(key, "must be a whole number, got '" + v + "'");
        }
        return dflt;
    }

    /** One of {@code allowed} (named as in YAML), {@code dflt} when absent or not one of them. */
    <E> E oneOf(String key, Map<String, E> allowed, String listed, E dflt) {
        String v = text(key);
        if (v == null) {
            return dflt;
        }
        E e = allowed.get(v.trim());
        if (e == null) {
            problem(key, "must be " + listed + ", got '" + v + "'");
            return dflt;
        }
        return e;
    }

    /** The items of a list (or a lone value); empty when absent. */
    List<Yaml.Node> items(String key) {
        Yaml.Node n = node(key);
        return n == null ? List.of() : n instanceof Yaml.ListNode l ? l.items() : List.of(n);
    }

    /** The values of a list (or a lone value); a non-value item is the problem {@code notValue}. */
    List<Yaml.Scalar> scalars(String key, String notValue) {
        List<Yaml.Scalar> out = new ArrayList<>();
        for (Yaml.Node n : items(key)) {
            if (n instanceof Yaml.Scalar s && !s.isNull()) {
                out.add(s);
            } else {
                problemAt(n.line(), prefix + key + ": " + notValue);
            }
        }
        return out;
    }
}
