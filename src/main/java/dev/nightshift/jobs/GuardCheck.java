package dev.nightshift.jobs;

import dev.nightshift.config.Guards;
import dev.nightshift.config.Identifiers;
import dev.nightshift.db.SqlStates;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a job's {@link Guards} after its merge, inside the run's transaction and before COMMIT, from
 * the merge's own counts: a refusal throws {@link GuardRefusedException}, whose rollback leaves the
 * target exactly as it was. A run triggered with {@code --override-guards} (the run parameter
 * {@value #OVERRIDE_PARAM}, naming who overrode) passes: the guard that would have refused is logged
 * and counted as {@code guards_overridden}. Stateless; thread-safe.
 */
final class GuardCheck {
    private static final Logger log = LoggerFactory.getLogger(GuardCheck.class);
    /** The run parameter set by {@code trigger --override-guards}; its value is the actor. */
    static final String OVERRIDE_PARAM = dev.nightshift.queue.RunParams.OVERRIDE_GUARDS;

    /**
     * What the merge did.
     *
     * @param what         "the file x.csv" or "the query", for messages
     * @param targetBefore the target's rows before the run, or null when the counts cannot tell
     *                     (then they are counted when a percentage needs them)
     */
    record Figures(String what, long read, long inserted, long updated, long deleted, Long targetBefore) {
        long changed() {
            return inserted + updated + deleted;
        }
    }

    private GuardCheck() {
    }

    /**
     * Checks every guard; returns the counts to add to the run's (empty, or {@code guards_overridden: 1}).
     *
     * @throws GuardRefusedException a guard refused and the run does not override guards
     */
    static Map<String, Long> check(Attempt attempt, Guards guards, String target, Figures f) throws SQLException, JobFailedException {
        if (guards.none()) {
            return Map.of();
        }
        Connection c = attempt.connection();
        long before = f.targetBefore() != null ? f.targetBefore() : -1;
        if (before < 0 && needsTargetSize(guards)) {
            before = countRows(c, target) - f.inserted() + f.deleted();
        }
        Refusal r = refusal(c, guards, target, f, before);
        if (r == null) {
            attempt.log().info("guards passed for " + target + " (" + f.what() + ": " + f.read() + " rows read, " + f.inserted()
                    + " inserted, " + f.updated() + " updated, " + f.deleted() + " deleted)");
            return Map.of();
        }
        String actor = attempt.params().get(OVERRIDE_PARAM);
        if (actor != null) {
            log.warn("run {}: {} (overridden by {}: applied)", attempt.runId(), r.message, actor);
            return Map.of("guards_overridden", 1L);
        }
        attempt.metrics().guardRefused(attempt.definition().name(), r.guard);
        attempt.log().line(dev.nightshift.runlog.RunLog.Level.ERROR, r.message + "; rolled back, " + target + " is unchanged");
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("read", f.read());
        counts.put("inserted", f.inserted());
        counts.put("updated", f.updated());
        counts.put("deleted", f.deleted());
        if (before >= 0) {
            counts.put("target_rows", before);
        }
        counts.put("guard", r.guard);
        counts.put("guard_limit", r.limit);
        throw new GuardRefusedException(r.guard, r.message + " (" + target + " is unchanged; to apply it anyway: nightshift trigger "
                + attempt.definition().name() + " --override-guards)", counts);
    }

    private record Refusal(String guard, String limit, String message) {
    }

    private static Refusal refusal(Connection c, Guards g, String target, Figures f, long before) throws SQLException, JobFailedException {
        if (g.minRows() != null && f.read() < g.minRows()) {
            return new Refusal("min_rows", g.minRows().toString(), "guard min_rows: " + f.what() + " gives " + rows(f.read())
                    + ", limit " + n(g.minRows()));
        }
        if (g.maxDelete() != null && !g.maxDelete().allows(f.deleted(), before)) {
            boolean dflt = g.maxDelete() == Guards.MIRROR_DEFAULT;
            return new Refusal("max_delete", g.maxDelete().toString(), "guard max_delete" + (dflt ? " (the default of mode: mirror)" : "")
                    + ": " + f.what() +  " would delete " + of(f.deleted(), before)
                    + ", limit " + g.maxDelete() + (dflt ? " of a table of 1,000 rows or more; write guards.max_delete to change it" : ""));
        }
        if (g.maxChange() != null && !g.maxChange().allows(f.changed(), before)) {
            return new Refusal("max_change", g.maxChange().toString(), "guard max_change: " + f.what() +  " would change "
                    + of(f.changed(), before) + ": " + n(f.inserted()) + " inserted, "
                    + n(f.updated()) + " updated, " + n(f.deleted()) + " deleted; limit " + g.maxChange());
        }
        if (g.assertSql() != null && !asserted(c, g.assertSql())) {
            return new Refusal("assert", "true", "guard assert: " + Excerpt.message(g.assertSql()) + " did not return true after the merge");
        }
        return null;
    }

    private static boolean needsTargetSize(Guards g) {
        return g.maxDelete() != null && g.maxDelete().percent() != null || g.maxChange() != null && g.maxChange().percent() != null;
    }

    /** The assert query, under a savepoint so that an error in it is reported as the guard's, not as the merge's. */
    private static boolean asserted(Connection c, String sql) throws SQLException, JobFailedException {
        Merge.exec(c, "SAVEPOINT nightshift_assert");
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            boolean ok = rs.next() && rs.getMetaData().getColumnCount() == 1 && rs.getBoolean(1) && !rs.wasNull() && !rs.next();
            Merge.exec(c, "RELEASE SAVEPOINT nightshift_assert");
            return ok;
        } catch (SQLException e) {
            if (SqlStates.isTransient(e)) {
                throw e;
            }
            Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_assert");
            throw new JobFailedException("guard assert: the query failed (SQLSTATE " + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    private static long countRows(Connection c, String target) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + Identifiers.quote(target))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** "9,999 of 10,000 rows (99.99%)", or "9,999 rows" when the target's size was not needed. */
    private static String of(long rows, long before) {
        if (before < 0) {
            return rows(rows);
        }
        return n(rows) + " of " + rows(before) + (before == 0 ? "" : String.format(Locale.ROOT, " (%.2f%%)", rows * 100.0 / before));
    }

    private static String rows(long n) {
        return n(n) + (n == 1 ? " row" : " rows");
    }

    private static String n(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
