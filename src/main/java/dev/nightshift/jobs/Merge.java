package dev.nightshift.jobs;

import dev.nightshift.config.Identifiers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The staging → target diff shared by batch-import and rebuild-summary: writes only what differs.
 * Rows whose values are equal (row comparison with IS DISTINCT FROM, so nulls compare as values)
 * are not touched; new keys are inserted with ON CONFLICT so that a concurrent writer cannot cause
 * a duplicate-key failure; keys missing from the staging table are deleted when asked.
 *
 * <p>The caller holds the target's advisory lock ({@link #lockTarget}) and has made the staging keys
 * unique ({@link #requireUniqueKeys}). Stateless; thread-safe.
 */
final class Merge {
    /** Advisory lock class of "merging into a table" (the second key is the table's OID): "ns" + "mg". */
    private static final int LOCK_CLASS = 0x6e736d67;
    private static final String DIFF = "pg_temp.nightshift_diff";

    /**
     * @param columns the staging columns written to the target, key included
     * @param updates false for insert-only: existing keys are left as they are
     */
    record Spec(String target, List<String> key, List<String> columns, boolean deleteMissing, boolean updates) {
        Spec {
            key = List.copyOf(key);
            columns = List.copyOf(columns);
            if (!columns.containsAll(key)) {
                throw new IllegalArgumentException("columns must include the key");
            }
        }

        List<String> values() {
            return columns.stream().filter(c -> !key.contains(c)).toList();
        }
    }

    /** What the merge did; {@code unchanged} rows were compared and left alone. */
    record Result(long inserted, long updated, long unchanged, long deleted) {
    }

    private Merge() {
    }

    /**
     * Serializes merges into one table until the transaction ends, whichever node or job runs them:
     * two imports then apply one after the other, with no deadlock between their row locks.
     */
    static void lockTarget(Connection c, String target) throws SQLException {
        try (var ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, to_regclass(?)::oid::int)")) {
            ps.setInt(1, LOCK_CLASS);                      // lock class
            ps.setString(2, Identifiers.quote(target));    // the table, by OID
            ps.execute();
        }
    }

    /**
     * A unique index on the staging key: the cheapest full check for duplicate keys (a sort of the
     * key alone), and it names one duplicated key when it fails (SQLSTATE 23505).
     */
    static void requireUniqueKeys(Connection c, String staging, List<String> key) throws SQLException {
        exec(c, "CREATE UNIQUE INDEX ON " + Identifiers.quote(staging) + " (" + list(key, Identifiers::quote) + ")");
    }

    /** True when the target has no row visible to this transaction. */
    static boolean targetEmpty(Connection c, String target) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM " + Identifiers.quote(target) + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Applies {@code staging} (holding {@code stagedRows} rows) to the target. */
    static Result apply(Connection c, String staging, Spec spec, long stagedRows) throws SQLException {
        if (targetEmpty(c, spec.target())) {
            long inserted = exec(c, insert(spec, Identifiers.quote(staging), ""));
            return new Result(inserted, 0, stagedRows - inserted, 0);
        }
        long diffRows = bothInKeyOrder(c, staging, spec)
                ? execWithout(c, diff(spec, staging), "enable_hashjoin")
                : exec(c, diff(spec, staging));
        // Statistics of the (usually small) diff for the writes below.
        exec(c, "ANALYZE " + DIFF);
        long updated = 0;
        if (spec.updates() && !spec.values().isEmpty()) {
            // A few changed rows are cheaper to reach through the key index, one by one, than by
            // hashing the whole target, which the planner's default costs would choose.
            updated = diffRows * 20 < stagedRows
                    ? execWithout(c, update(spec), "enable_hashjoin", "enable_mergejoin")
                    : exec(c, update(spec));
        }
        long[] ins = insertNew(c, spec);
        long deleted = spec.deleteMissing() ? exec(c, delete(spec)) : 0;
        exec(c, "DROP TABLE " + DIFF);
        long written = ins[0] + updated + ins[1];
        return new Result(ins[0], updated + ins[1], stagedRows - written, deleted);
    }

    /** Runs {@code sql} with these planner methods switched off, for this statement only. */
    private static long execWithout(Connection c, String sql, String... planMethods) throws SQLException {
        for (String m : planMethods) {
            exec(c, "SELECT set_config('" + m + "', 'off', true)");
        }
        try {
            return exec(c, sql);
        } finally {
            for (String m : planMethods) {
                exec(c, "SELECT set_config('" + m + "', 'on', true)");
            }
        }
    }

    /**
     * Whether staging and target both lie on disk in key order (files are usually exported sorted
     * by id, and a table loaded that way stays so). Then walking the two key indexes side by side
     * (a merge join, the staging index exists already for the duplicate check) compares them about
     * twice as fast as hashing a million target rows, but the planner's costs prefer the hash
     * join, so it is told. Needs the target's statistics (autovacuum keeps them); without them,
     * or when either side is out of order, the hash join stays.
     */
    private static boolean bothInKeyOrder(Connection c, String staging, Spec s) throws SQLException {
        String first = s.key().get(0);
        exec(c, "ANALYZE " + Identifiers.quote(staging) + " (" + q(first) + ")");
        String sql = """
                SELECT bool_and(abs(correlation) > 0.9) AND count(*) = 2
                FROM pg_stats
                WHERE (schemaname, tablename) IN ((pg_my_temp_schema()::regnamespace::name, ?), (?, ?)) AND attname = ?
                """;
        try (var ps = c.prepareStatement(sql)) {
            ps.setString(1, staging.substring(staging.indexOf('.') + 1));         // staging table
            ps.setString(2, s.target().substring(0, s.target().indexOf('.')));    // target schema
            ps.setString(3, s.target().substring(s.target().indexOf('.') + 1));   // target table
            ps.setString(4, first);                                               // first key column
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** One pass over staging and target (a hash or merge join) keeps only the rows that need a write. */
    private static String diff(Spec s, String staging) {
        String join = s.key().stream().map(k -> "t." + q(k) + " = s." + q(k)).collect(Collectors.joining(" AND "));
        String firstKey = q(s.key().get(0));
        String changed = s.updates() && !s.values().isEmpty()
                ? " OR " + row("s", s.values()) + " IS DISTINCT FROM " + row("t", s.values()) : "";
        String gone = s.deleteMissing() ? " OR s." + firstKey + " IS NULL" : "";
        String keys = s.deleteMissing()
                ? s.key().stream().map(k -> "coalesce(s." + q(k) + ", t." + q(k) + ") AS " + q(k)).collect(Collectors.joining(", "))
                : list(s.key(), k -> "s." + q(k) + " AS " + q(k));
        String values = s.values().stream().map(v -> ", s." + q(v) + " AS " + q(v)).collect(Collectors.joining());
        return "CREATE TEMP TABLE nightshift_diff ON COMMIT DROP AS SELECT " + keys + values
                + ", t." + firstKey + " IS NULL AS nightshift_new, s." + firstKey + " IS NULL AS nightshift_gone"
                + " FROM " + Identifiers.quote(staging) + " s " + (s.deleteMissing() ? "FULL" : "LEFT") + " JOIN "
                + Identifiers.quote(s.target()) + " t ON " + join
                + " WHERE t." + firstKey + " IS NULL" + changed + gone;
    }

    private static String update(Spec s) {
        String set = s.values().stream().map(v -> q(v) + " = d." + q(v)).collect(Collectors.joining(", "));
        String join = s.key().stream().map(k -> "t." + q(k) + " = d." + q(k)).collect(Collectors.joining(" AND "));
        // Compared again: a concurrent writer may have made the same change since the diff was taken.
        return "UPDATE " + Identifiers.quote(s.target()) + " t SET " + set + " FROM " + DIFF + " d"
                + " WHERE NOT d.nightshift_new AND NOT d.nightshift_gone AND " + join
                + " AND " + row("t", s.values()) + " IS DISTINCT FROM " + row("d", s.values());
    }

    /** Inserts the new keys; returns {inserted, updated because a concurrent writer inserted the key first}. */
    private static long[] insertNew(Connection c, Spec s) throws SQLException {
        String sql = "WITH ins AS (" + insert(s, DIFF + " WHERE nightshift_new AND NOT nightshift_gone", " RETURNING xmax = 0 AS fresh")
                + ") SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) FROM ins";
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        }
    }

    private static String insert(Spec s, String from, String returning) {
        String cols = list(s.columns(), Merge::q);
        String conflict = " ON CONFLICT (" + list(s.key(), Merge::q) + ") DO ";
        if (s.updates() && !s.values().isEmpty()) {
            String t = Identifiers.quote(s.target());
            conflict += "UPDATE SET " + s.values().stream().map(v -> q(v) + " = EXCLUDED." + q(v)).collect(Collectors.joining(", "))
                    + " WHERE " + row(t, s.values()) + " IS DISTINCT FROM " + row("EXCLUDED", s.values());
        } else {
            conflict += "NOTHING";
        }
        return "INSERT INTO " + Identifiers.quote(s.target()) + " (" + cols + ") SELECT " + cols + " FROM " + from
                + conflict + returning;
    }

    private static String delete(Spec s) {
        String join = s.key().stream().map(k -> "t." + q(k) + " = d." + q(k)).collect(Collectors.joining(" AND "));
        return "DELETE FROM " + Identifiers.quote(s.target()) + " t USING " + DIFF + " d WHERE d.nightshift_gone AND " + join;
    }

    private static String row(String alias, List<String> cols) {
        return "(" + cols.stream().map(c -> alias + "." + q(c)).collect(Collectors.joining(", ")) + ")";
    }

    private static String q(String name) {
        return Identifiers.quote(name);
    }

    private static String list(List<String> names, Function<String, String> f) {
        return names.stream().map(f).collect(Collectors.joining(", "));
    }

    static long exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
            return Math.max(0, st.getUpdateCount());
        }
    }
}
