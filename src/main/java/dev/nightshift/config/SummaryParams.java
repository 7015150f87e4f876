package dev.nightshift.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Params of {@code type: rebuild-summary}: a query (inline or in a file) whose result is kept in
 * {@code target}, rewritten with one of three strategies.
 *
 * @param lockTimeout     how long the swap strategy may wait for its exclusive lock on the target
 * @param skipIfUnchanged succeed at once when no table the query reads changed since the last success
 * @param sourceTables    the query's source tables as the job lists them; empty: found in the catalog
 * @param guards          limits checked before the commit ({@link Guards})
 */
public record SummaryParams(String target, List<String> key, String query, Path queryFile, Strategy strategy,
                            Duration lockTimeout, boolean skipIfUnchanged, List<String> sourceTables, Guards guards)
        implements JobParams {

    @Override
    public JobKind kind() {
        return JobKind.REBUILD_SUMMARY;
    }

    @Override
    public <R, X extends Exception> R match(Cases<R, X> cases) throws X {
        return cases.rebuildSummary(this);
    }

    /** merge: write only differing rows; replace: delete + insert; swap: build a new table, then rename. */
    public enum Strategy { MERGE, REPLACE, SWAP }

    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(2);

    public SummaryParams {
        if (target == null || key.isEmpty() || (query == null) == (queryFile == null) || strategy == null) {
            throw new IllegalArgumentException("target, key, exactly one of query and query_file, strategy");
        }
        key = List.copyOf(key);
        sourceTables = sourceTables == null ? List.of() : List.copyOf(sourceTables);
        guards = guards == null ? Guards.NONE : guards;
    }

    /** {@code source_tables}: schema-qualified names, only with skip_if_unchanged. */
    static List<String> sourceTables(ParamsReader r, boolean skip) {
        List<String> out = new java.util.ArrayList<>();
        for (String t : r.strings("source_tables")) {
            String why = Identifiers.checkQualified(t);
            if (why != null) {
                r.problem("source_tables", why);
            } else {
                out.add(t);
            }
        }
        if (!out.isEmpty() && !skip) {
            r.problem("source_tables", "only applies with skip_if_unchanged: true");
        }
        return List.copyOf(out);
    }

    static SummaryParams read(ParamsReader r) {
        String target = r.qualifiedName("target", true);
        List<String> key = r.names("key", true);
        String query = r.string("query");
        Path file = r.path("query_file");
        String strategy = r.choice("strategy", List.of("merge", "replace", "swap"), "merge");
        Duration lockTimeout = r.duration("lock_timeout", DEFAULT_LOCK_TIMEOUT);
        boolean skip = r.bool("skip_if_unchanged", false);
        List<String> sources = sourceTables(r, skip);
        Guards guards = Guards.read(r, false, !strategy.equals("merge"), "to strategy: " + strategy);
        r.rejectUnknown();
        if ((query == null) == (file == null)) {
            r.problem("query", "give exactly one of query (SQL text) and query_file (a .sql file)");
            return null;
        }
        if (file != null && !Files.isReadable(file)) {
            r.problem("query_file", "file not found or not readable: " + file);
            return null;
        }
        if (target == null || key.isEmpty()) {
            return null;
        }
        return new SummaryParams(target, key, query, file, Strategy.valueOf(strategy.toUpperCase(java.util.Locale.ROOT)),
                lockTimeout, skip, sources, guards);
    }
}
