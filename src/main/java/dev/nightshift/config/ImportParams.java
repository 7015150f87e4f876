package dev.nightshift.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Params of {@code type: batch-import}. {@code columns} maps CSV header → target column, in file
 * order; when the definition gives none, each header names its column. Several headers may map
 * to one column (a column renamed between two releases of a file): the first of them listed that
 * a file has fills the column. Without a header line, {@code columns} gives the fields' order, and
 * each column is mapped once.
 *
 * @param source         a file, a directory (its files, in name order) or a glob in the last path element;
 *                       null when the source is a URL ({@code remote})
 * @param allowedSources directories besides the source's own from which a run's {@code source}
 *                       parameter may take a file
 * @param arrival        with {@code on_arrival: true}, how new files are noticed; null otherwise
 * @param guards         limits checked before each file's commit ({@link Guards}); mirror has a default
 * @param remote         the source as a URL, and the rules of fetching it (or a run's {@code source}
 *                       parameter given as a URL, when allowed_sources names URL prefixes); null
 *                       for a file source without URL prefixes in allowed_sources
 */
public record ImportParams(Path source, String target, List<String> key, Map<String, String> columns,
                           CsvFormat format, Mode mode, boolean skipBadRows, boolean moveAfterImport,
                           List<Path> allowedSources, Arrival arrival, Guards guards, RemoteSource remote)
        implements JobParams {

    @Override
    public JobKind kind() {
        return JobKind.BATCH_IMPORT;
    }

    @Override
    public <R, X extends Exception> R match(Cases<R, X> cases) throws X {
        return cases.batchImport(this);
    }

    /** A file source, without URLs. */
    public ImportParams(Path source, String target, List<String> key, Map<String, String> columns, CsvFormat format, Mode mode,
                        boolean skipBadRows, boolean moveAfterImport, List<Path> allowedSources, Arrival arrival, Guards guards) {
        this(source, target, key, columns, format, mode, skipBadRows, moveAfterImport, allowedSources, arrival, guards, null);
    }

    /** Whether the job's own source is a URL. */
    public boolean remoteSource() {
        return source == null;
    }

    /**
     * {@code on_arrival: true}: a node looks at the source every {@code poll}; a new or changed file
     * is imported once it is complete: when {@code marker} is set, once the file named like it plus
     * that suffix exists ({@code data.csv.done}); otherwise once its size and modification time
     * have not changed for {@code settle}.
     */
    public record Arrival(Duration poll, Duration settle, String marker) {
        public static final Duration DEFAULT_POLL = Duration.ofSeconds(2);
        public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(5);

        public Arrival {
            if (poll == null || settle == null || poll.isNegative() || poll.isZero() || settle.isNegative()) {
                throw new IllegalArgumentException("poll must be positive and settle not negative");
            }
            if (marker != null && (marker.isEmpty() || marker.contains("/") || marker.contains("\\"))) {
                throw new IllegalArgumentException("marker must be a file name suffix such as .done");
            }
        }
    }

    /** What happens to target rows: upsert, upsert + delete the keys missing from the file, or insert new keys only. */
    public enum Mode { UPSERT, MIRROR, INSERT_ONLY }

    public ImportParams {
        if (source == null && remote == null || target == null || key.isEmpty() || format == null || mode == null) {
            throw new IllegalArgumentException("source, target, key, format and mode are required");
        }
        key = List.copyOf(key);
        allowedSources = allowedSources == null ? List.of() : List.copyOf(allowedSources);
        guards = guards == null ? Guards.NONE : guards;
        columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        if (!columns.isEmpty() && !columns.values().containsAll(key)) {
            throw new IllegalArgumentException("columns must map every key column");
        }
    }

    static ImportParams read(ParamsReader r) {
        String raw = r.string("source");
        boolean url = raw != null && RemoteSource.isUrl(raw);
        Path source = url ? null : r.path("source");
        if (raw == null && !r.has("source")) {
            r.problem("source", "is required (a file, a directory, a glob such as data/artists-*.csv, or an https:// URL)");
        }
        if (raw != null) {
            PeriodTemplate.problems(raw).forEach(p -> r.problem("source", p));
        }
        String target = r.qualifiedName("target", true);
        List<String> key = r.names("key", true);
        Map<String, String> columns = columns(r);
        CsvFormat format = r.has("format") ? CsvFormat.read(r, "format") : CsvFormat.DEFAULT;
        String mode = r.choice("mode", List.of("upsert", "mirror", "insert-only"), "upsert");
        String bad = r.choice("on_bad_row", List.of("fail", "skip"), "fail");
        String after = r.choice("after_import", List.of("keep", "move"), "keep");
        List<String> allowedUrls = new ArrayList<>();
        List<Path> allowed = allowedPaths(r, allowedUrls);
        Arrival arrival = arrival(r);
        Guards guards = Guards.read(r, mode.equals("mirror"), false, null);
        RemoteSource remote = null;
        if (url || !allowedUrls.isEmpty()) {
            remote = RemoteSource.read(r, url ? raw : null, allowedUrls);
        } else {
            RemoteSource.KEYS.stream().filter(r::has).forEach(k -> r.problem(k, "only applies to a source that is a URL"));
        }
        if (url && arrival != null) {
            r.problem("on_arrival", "only applies to a source of files; a URL's changes are found by its ETag and Last-Modified");
        }
        if (url && after.equals("move")) {
            r.problem("after_import", "move only applies to a source of files");
        }
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
        if (format != null && !format.header() && new java.util.HashSet<>(columns.values()).size() != columns.size()) {
            r.problem("columns", "maps a column twice; alternative header names for one column need format.header: true");
            return null;
        }
        if (source == null && remote == null || (url || !allowedUrls.isEmpty()) && remote == null || target == null || key.isEmpty()
                || format == null) {
            return null;
        }
        return new ImportParams(source, target, key, columns, format,
                ImportParams.Mode.valueOf(mode.toUpperCase(java.util.Locale.ROOT).replace('-', '_')),
                bad.equals("skip"), after.equals("move"), allowed, arrival, guards, remote);
    }

    /** allowed_sources: directories (relative to the definition's), and URL prefixes, put in {@code urls}. */
    private static List<Path> allowedPaths(ParamsReader r, List<String> urls) {
        List<Path> out = new ArrayList<>();
        for (String a : r.strings("allowed_sources")) {
            if (a.isBlank()) {
                r.problem("allowed_sources", "must be a list of directories or URL prefixes");
            } else if (RemoteSource.isUrl(a)) {
                urls.add(a.strip());
            } else {
                try {
                    out.add(r.directory().resolve(a).normalize());
                } catch (java.nio.file.InvalidPathException x) {
                    r.problem("allowed_sources", "not a valid path: " + x.getMessage());
                }
            }
        }
        return out;
    }

    private static Arrival arrival(ParamsReader r) {
        boolean on = r.bool("on_arrival", false);
        Duration poll = r.duration("arrival_poll", Arrival.DEFAULT_POLL);
        Duration settle = r.duration("arrival_settle", Arrival.DEFAULT_SETTLE);
        String marker = r.string("arrival_marker");
        if (!on) {
            for (String k : List.of("arrival_poll", "arrival_settle", "arrival_marker")) {
                if (r.has(k)) {
                    r.problem(k, "only applies with on_arrival: true");
                }
            }
            return null;
        }
        try {
            return new Arrival(poll, settle, marker);
        } catch (IllegalArgumentException e) {
            r.problem("on_arrival", e.getMessage());
            return null;
        }
    }

    private static Map<String, String> columns(ParamsReader r) {
        Map<String, String> raw = r.stringMap("columns");
        Map<String, String> out = new LinkedHashMap<>();
        raw.forEach((header, column) -> {
            String why = Identifiers.checkName(column);
            if (why != null) {
                r.problem("columns", "header '" + header + "': " + why);
            } else {
                out.put(header, column);
            }
        });
        return out;
    }
}
