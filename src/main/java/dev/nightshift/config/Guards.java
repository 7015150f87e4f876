package dev.nightshift.config;

import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code guards:} of a batch-import or rebuild-summary: limits checked inside the run's transaction,
 * before COMMIT, from the merge's own counts. A guard that fails leaves the target as it was and ends
 * the run dead. Immutable.
 *
 * @param minRows   the file (or query) must give at least this many rows; null: no limit
 * @param maxDelete rows the run may delete; null: no limit
 * @param maxChange rows the run may insert, update and delete together; null: no limit
 * @param assertSql a query that must return true after the merge, before COMMIT; null: none
 */
public record Guards(Long minRows, Limit maxDelete, Limit maxChange, String assertSql) {
    /** The keys of {@code guards:}. */
    public static final List<String> KEYS = List.of("min_rows", "max_delete", "max_change", "assert");
    /** No guard at all. */
    public static final Guards NONE = new Guards(null, null, null, null);
    /**
     * {@code mode: mirror} without {@code max_delete}: a delivery that would delete more than half of a
     * table of 1,000 rows or more is refused (a truncated file is the usual cause). Small tables are
     * left out: there a few rows gone are half the table, and a normal change.
     */
    public static final Limit MIRROR_DEFAULT = new Limit(null, new BigDecimal("50"), 1000);

    private static final Pattern COUNT = Pattern.compile("[0-9]{1,18}");
    private static final Pattern PERCENT = Pattern.compile("([0-9]{1,3}(\\.[0-9]{1,2})?)%");

    /**
     * A count of rows or a percentage of the target's rows before the run.
     *
     * @param count    rows, or null for a percentage
     * @param percent  0 to 100, or null for a count
     * @param minTable a percentage applies only to targets of at least this many rows (0 for every
     *                 non-empty one: a percentage of an empty target means nothing, and a first load
     *                 is not refused by it)
     */
    public record Limit(Long count, BigDecimal percent, long minTable) {
        public Limit {
            if ((count == null) == (percent == null)) {
                throw new IllegalArgumentException("a limit is a count or a percentage");
            }
            if (count != null && count < 0 || percent != null && (percent.signum() < 0 || percent.compareTo(BigDecimal.valueOf(100)) > 0)) {
                throw new IllegalArgumentException("a limit is a count of 0 or more, or a percentage from 0% to 100%");
            }
        }

        /** Whether {@code rows} of a target that held {@code before} rows are within the limit. */
        public boolean allows(long rows, long before) {
            if (count != null) {
                return rows <= count;
            }
            if (before == 0 || before < minTable) {
                return true;
            }
            return BigDecimal.valueOf(rows).multiply(BigDecimal.valueOf(100)).compareTo(percent.multiply(BigDecimal.valueOf(before))) <= 0;
        }

        /** As written: {@code 500} or {@code 5%}. */
        @Override
        public String toString() {
            return count != null ? String.format(Locale.ROOT, "%,d", count) : percent.stripTrailingZeros().toPlainString() + "%";
        }
    }

    /** Whether no guard is set. */
    public boolean none() {
        return minRows == null && maxDelete == null && maxChange == null && assertSql == null;
    }

    /**
     * Reads {@code params.guards}; every problem goes to {@code r}.
     *
     * @param mirror     the job deletes what its source no longer holds: max_delete defaults to {@link #MIRROR_DEFAULT}
     * @param rewritesAll the job rewrites every row (rebuild-summary's replace and swap): max_delete and
     *                    max_change would count every row, so they are refused
     */
    static Guards read(ParamsReader r, boolean mirror, boolean rewritesAll, String rewriteWhy) {
        Map<String, String> m = r.stringMap("guards");
        Limit mirrorDefault = mirror ? MIRROR_DEFAULT : null;
        if (m.isEmpty()) {
            return new Guards(null, mirrorDefault, null, null);
        }
        for (String k : m.keySet()) {
            if (!KEYS.contains(k)) {
                r.problem("guards", "unknown guard '" + k + "' (known: " + String.join(", ", KEYS) + ")");
            }
        }
        Long minRows = null;
        if (m.containsKey("min_rows")) {
            String v = m.get("min_rows").strip();
            if (!COUNT.matcher(v).matches() || Long.parseLong(v) < 1) {
                r.problem("guards", "min_rows must be a whole number of rows, 1 or more, got '" + v + "'");
            } else {
                minRows = Long.parseLong(v);
            }
        }
        Limit maxDelete = limit(r, m, "max_delete");
        Limit maxChange = limit(r, m, "max_change");
        for (String k : List.of("max_delete", "max_change")) {
            if (rewritesAll && m.containsKey(k)) {
                r.problem("guards", k + " does not apply " + rewriteWhy + ", which rewrites every row; use min_rows or assert,"
                        + " or strategy: merge");
            }
        }
        String assertSql = m.get("assert");
        if (assertSql != null && assertSql.isBlank()) {
            r.problem("guards", "assert must be a query returning true or false, e.g. SELECT sum(amount) = 0 FROM shop.ledger");
            assertSql = null;
        }
        return new Guards(minRows, m.containsKey("max_delete") ? maxDelete : mirrorDefault, maxChange,
                assertSql == null ? null : assertSql.strip().replaceAll(";\\s*$", ""));
    }

    private static Limit limit(ParamsReader r, Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            return null;
        }
        v = v.strip();
        var pct = PERCENT.matcher(v);
        if (pct.matches() && new BigDecimal(pct.group(1)).compareTo(BigDecimal.valueOf(100)) <= 0) {
            return new Limit(null, new BigDecimal(pct.group(1)), 0);
        }
        if (COUNT.matcher(v).matches()) {
            return new Limit(Long.parseLong(v), null, 0);
        }
        r.problem("guards", key + " must be a count of rows (e.g. 500) or a percentage of the target's rows from 0% to 100%"
                + " (e.g. 5%), got '" + v + "'");
        return null;
    }
}
