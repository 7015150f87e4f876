package dev.nightshift.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Params of {@code type: batch-import}. {@code columns} maps CSV header → target column, in file
 * order; when the definition gives none, each header names its column.
 *
 * @param source a file, a directory (its files, in name order) or a glob in the last path element
 */
public record ImportParams(Path source, String target, List<String> key, Map<String, String> columns,
                           CsvFormat format, Mode mode, boolean skipBadRows, boolean moveAfterImport)
        implements JobParams {

    /** What happens to target rows: upsert, upsert + delete the keys missing from the file, or insert new keys only. */
    public enum Mode { UPSERT, MIRROR, INSERT_ONLY }

    public ImportParams {
        if (source == null || target == null || key.isEmpty() || format == null || mode == null) {
            throw new IllegalArgumentException("source, target, key, format and mode are required");
        }
        key = List.copyOf(key);
        columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        if (!columns.isEmpty() && !columns.values().containsAll(key)) {
            throw new IllegalArgumentException("columns must map every key column");
        }
    }

    static ImportParams read(ParamsReader r) {
        Path source = r.path("source");
        if (source == null && !r.has("source")) {
            r.problem("source", "is required (a file, a directory or a glob such as data/artists-*.csv)");
        }
        if (source != null) {
            PeriodTemplate.problems(source.toString()).forEach(p -> r.problem("source", p));
        }
        String target = r.qualifiedName("target", true);
        List<String> key = r.names("key", true);
        Map<String, String> columns = columns(r);
        CsvFormat format = r.has("format") ? CsvFormat.read(r, "format") : CsvFormat.DEFAULT;
        String mode = r.choice("mode", List.of("upsert", "mirror", "insert-only"), "upsert");
        String bad = r.choice("on_bad_row", List.of("fail", "skip"), "fail");
        String after = r.choice("after_import", List.of("keep", "move"), "keep");
        r.rejectUnknown();
        if (!columns.isEmpty() && !columns.values().containsAll(key)) {
            List<String> missing = new ArrayList<>(key);
            missing.removeAll(columns.values());
            r.problem("columns", "must map a header to each key column; missing: " + String.join(", ", missing));
            return null;
        }
        if (format != null && !format.header() && columns.isEmpty()) {
            r.problem("columns", "is required when format.header is false: it gives the fields' order");
            return null;
        }
        if (source == null || target == null || key.isEmpty() || format == null) {
            return null;
        }
        return new ImportParams(source, target, key, columns, format,
                ImportParams.Mode.valueOf(mode.toUpperCase(java.util.Locale.ROOT).replace('-', '_')),
                bad.equals("skip"), after.equals("move"));
    }

    private static Map<String, String> columns(ParamsReader r) {
        Map<String, String> raw = r.stringMap("columns");
        Map<String, String> out = new LinkedHashMap<>();
        raw.forEach((header, column) -> {
            String why = Identifiers.checkName(column);
            if (why != null) {
                r.problem("columns", "header '" + header + "': " + why);
            } else if (out.containsValue(column)) {
                r.problem("columns", "column '" + column + "' is mapped twice");
            } else {
                out.put(header, column);
            }
        });
        return out;
    }
}
