package dev.nightshift.jobs;

import dev.nightshift.config.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code skip_if_unchanged}: whether any table a view or a query reads has changed since the job's
 * last success. The tables are found in the catalog (the view's rewrite rule and those of the views
 * it reads, recursively, plus inheritance children and partitions) or given by the job
 * ({@code source_tables}). Each gets the change tracking of R__imports.sql (a statement trigger and
 * a sequence) the first time; its mark is the sequence's value, taken only when none of its
 * writers is in flight. The marks are taken just before the job's own statement, so its snapshot
 * holds every change they count, and stored in the job's transaction. A run skips only when every
 * mark equals the stored one and the server has not restarted since; anything unknown (a writer
 * in flight, a source that cannot be tracked, tracking that could not be installed) means refresh.
 * One instance per run; not thread-safe.
 */
final class SourceChanges {
    private static final Logger log = LoggerFactory.getLogger(SourceChanges.class);
    static final String TRIGGER = "nightshift_changes";
    /** How long installing the tracking may wait for the table's writers (CREATE TRIGGER locks out writes). */
    private static final String INSTALL_LOCK_TIMEOUT = "2s";

    private final Attempt attempt;
    private final Connection c;
    /** The view refreshed (its identity is part of the marks), or null for a query. */
    private final String view;
    private final List<Long> tables = new ArrayList<>();
    private final List<String> untracked = new ArrayList<>();
    private String marks;
    private boolean complete;

    private SourceChanges(Attempt attempt, String view) {
        this.attempt = attempt;
        this.c = attempt.connection();
        this.view = view;
    }

    /** The sources of a materialized view, or the given tables when {@code listed} is not empty. */
    static SourceChanges ofView(Attempt attempt, String view, List<String> listed) throws SQLException {
        SourceChanges s = new SourceChanges(attempt, view);
        s.find(listed, "SELECT to_regclass(?)::oid", Identifiers.quote(view));
        return s;
    }

    /** The sources of a query, found through a temporary view of it, or the given tables. */
    static SourceChanges ofQuery(Attempt attempt, String query, List<String> listed) throws SQLException {
        SourceChanges s = new SourceChanges(attempt, null);
        if (!listed.isEmpty()) {
            s.find(listed, null, null);
            return s;
        }
        // A failure below aborts the transaction, which drops the view, unless the tracking step committed it:
        // a view left in the pooled session is dropped by the next run.
        Merge.exec(s.c, "DROP VIEW IF EXISTS pg_temp.nightshift_sources");
        Merge.exec(s.c, "CREATE TEMP VIEW nightshift_sources AS " + query);
        s.find(listed, "SELECT 'pg_temp.nightshift_sources'::regclass::oid", null);
        Merge.exec(s.c, "DROP VIEW pg_temp.nightshift_sources");
        return s;
    }

    private void find(List<String> listed, String rootSql, String rootArg) throws SQLException {
        if (!listed.isEmpty()) {
            for (String t : listed) {
                addListed(t);
            }
        } else {
            long root;
            try (PreparedStatement ps = c.prepareStatement(rootSql)) {
                if (rootArg != null) {
                    ps.setString(1, rootArg);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    root = rs.getLong(1);
                }
            }
            discover(root);
        }
        withChildren();
        install();
    }

    private void addListed(String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT c.oid, c.relkind FROM pg_class c WHERE c.oid = to_regclass(?)")) {
            ps.setString(1, Identifiers.quote(table));
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    untracked.add(table + " (listed in source_tables) does not exist");
                } else if (!"r".equals(rs.getString(2)) && !"p".equals(rs.getString(2))) {
                    untracked.add(table + " (listed in source_tables) is not a table");
                } else {
                    tables.add(rs.getLong(1));
                }
            }
        }
    }

    /**
     * The relations the rule of {@code root} reads, through views, recursively; and what makes a
     * source untrackable: materialized views (their refreshes are not tracked), foreign tables,
     * functions that may read tables or the clock (user-defined and not IMMUTABLE, or VOLATILE),
     * and SQL value functions such as CURRENT_DATE.
     */
    private void discover(long root) throws SQLException {
        String sql = """
                WITH RECURSIVE rel(oid) AS (
                    SELECT ?::oid
                  UNION
                    SELECT d.refobjid
                    FROM rel
                    JOIN pg_class v ON v.oid = rel.oid AND v.relkind IN ('v', 'm')
                    JOIN pg_rewrite r ON r.ev_class = v.oid
                    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                    AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid
                    WHERE v.oid = ?::oid OR v.relkind = 'v'
                ),
                rules AS (
                    SELECT r.oid, r.ev_action::text AS action, v.oid::regclass::text AS name
                    FROM rel JOIN pg_class v ON v.oid = rel.oid AND (v.relkind = 'v' OR v.oid = ?::oid)
                    JOIN pg_rewrite r ON r.ev_class = v.oid
                )
                SELECT 'table', c.oid, c.oid::regclass::text
                FROM rel JOIN pg_class c ON c.oid = rel.oid
                WHERE c.relkind IN ('r', 'p') AND c.oid <> ?::oid
                UNION ALL
                SELECT 'untracked', c.oid, c.oid::regclass::text || CASE c.relkind WHEN 'm' THEN ' is a materialized view'
                       WHEN 'f' THEN ' is a foreign table' ELSE ' is a relation of kind ' || c.relkind::text END
                FROM rel JOIN pg_class c ON c.oid = rel.oid
                WHERE c.relkind NOT IN ('r', 'p', 'v', 'c') AND c.oid <> ?::oid
                UNION ALL
                SELECT DISTINCT 'untracked', p.oid, ru.name || ' calls ' || p.oid::regprocedure::text
                       || CASE WHEN p.provolatile = 'v' THEN ' (VOLATILE)' ELSE ' (may read tables or the clock)' END
                FROM rules ru
                CROSS JOIN LATERAL regexp_matches(ru.action, ':funcid (\\d+)', 'g') AS f(id)
                JOIN pg_proc p ON p.oid = f.id[1]::oid
                WHERE p.provolatile = 'v'
                   OR p.provolatile = 's' AND (p.pronamespace <> 'pg_catalog'::regnamespace
                                               OR p.proname IN ('now', 'statement_timestamp', 'transaction_timestamp', 'timeofday', 'current_setting'))
                UNION ALL
                SELECT 'untracked', 0, ru.name || ' reads CURRENT_DATE, CURRENT_TIMESTAMP, LOCALTIME or the like'
                FROM rules ru WHERE ru.action LIKE '%{SQLVALUEFUNCTION %'
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 1; i <= 5; i++) {
                ps.setLong(i, root);   // the view (or the temporary view of the query)
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getString(1).equals("table")) {
                        tables.add(rs.getLong(2));
                    } else {
                        untracked.add(rs.getString(3));
                    }
                }
            }
        }
        if (tables.isEmpty() && untracked.isEmpty()) {
            log.info("job {}: its view or query reads no table; skip_if_unchanged skips every run after the first",
                    attempt.definition().name());
        }
    }

    /** Inheritance children and partitions, at any depth: a read of the parent reads them too. */
    private void withChildren() throws SQLException {
        if (tables.isEmpty()) {
            return;
        }
        String sql = """
                WITH RECURSIVE t(oid) AS (
                    SELECT unnest(?::bigint[]::oid[])
                  UNION
                    SELECT i.inhrelid FROM t JOIN pg_inherits i ON i.inhparent = t.oid
                )
                SELECT t.oid FROM t JOIN pg_class c ON c.oid = t.oid WHERE c.relkind IN ('r', 'p') ORDER BY t.oid
                """;
        Set<Long> all = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("bigint", tables.toArray()));   // the tables found
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    all.add(rs.getLong(1));
                }
            }
        }
        tables.clear();
        tables.addAll(all);
    }

    /**
     * Installs the tracking of each table that lacks it, in a step committed before the job's work
     * (CREATE TRIGGER holds a lock that writers wait for until its transaction ends). A table whose
     * tracking cannot be installed (no privilege, writers holding it longer than a moment) stays
     * untracked for this run.
     */
    private void install() throws SQLException {
        List<Long> missing = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT t.oid FROM unnest(?::bigint[]::oid[]) AS t(oid)
                WHERE NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = t.oid AND g.tgname = ?)
                   OR to_regclass('nightshift.changes_' || t.oid) IS NULL
                """)) {
            ps.setArray(1, c.createArrayOf("bigint", tables.toArray()));   // the tables found
            ps.setString(2, TRIGGER);                                     // tgname
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    missing.add(rs.getLong(1));
                }
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String timeout = setting("lock_timeout");
        Merge.exec(c, "SELECT set_config('lock_timeout', '" + INSTALL_LOCK_TIMEOUT + "', true)");
        int installed = 0;
        for (long oid : missing) {
            String table = name(oid);
            Merge.exec(c, "SAVEPOINT nightshift_track");
            try {
                String seq = "nightshift.changes_" + oid;
                Merge.exec(c, "CREATE SEQUENCE IF NOT EXISTS " + seq);
                Merge.exec(c, "DROP TRIGGER IF EXISTS " + TRIGGER + " ON " + table);
                Merge.exec(c, "CREATE TRIGGER " + TRIGGER + " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON " + table
                        + " FOR EACH STATEMENT EXECUTE FUNCTION nightshift.note_change('" + seq + "')");
                Merge.exec(c, "ALTER TABLE " + table + " ENABLE ALWAYS TRIGGER " + TRIGGER);
                Merge.exec(c, "RELEASE SAVEPOINT nightshift_track");
                installed++;
            } catch (SQLException e) {
                Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_track");
                untracked.add("change tracking could not be installed on " + table + ": " + e.getMessage());
            }
        }
        Merge.exec(c, "SELECT set_config('lock_timeout', " + FileImport.literal(timeout) + ", true)");
        if (installed > 0) {
            attempt.commitStep();
            log.info("job {}: change tracking installed on {} table(s) (trigger {}, sequences nightshift.changes_<oid>)",
                    attempt.definition().name(), installed, TRIGGER);
        }
    }

    /**
     * Takes the marks, immediately before the job's statement, and tells whether they equal those
     * of the last success. False whenever anything is unknown.
     */
    boolean unchanged() throws SQLException {
        String sql = """
                WITH t AS (
                    SELECT c.oid, c.oid::regclass::text AS name, pg_relation_filenode(c.oid) AS filenode,
                           CASE WHEN g.tgenabled = 'A' THEN nightshift.change_count(c.oid) END AS changes
                    FROM pg_class c
                    LEFT JOIN pg_trigger g ON g.tgrelid = c.oid AND g.tgname = ?
                    WHERE c.oid = ANY (?::bigint[]::oid[])
                )
                SELECT jsonb_build_object(
                           'server_started', pg_postmaster_start_time(),
                           'view', (SELECT v.oid FROM pg_class v WHERE v.oid = to_regclass(?)),
                           'tables', coalesce((SELECT jsonb_object_agg(t.oid::text, jsonb_build_object(
                                      'name', t.name, 'filenode', t.filenode, 'changes', t.changes)) FROM t), '{}')
                       )::text,
                       (SELECT count(*) FROM t) = cardinality(?::bigint[]::oid[]) AND NOT EXISTS (SELECT 1 FROM t WHERE t.changes IS NULL),
                       (SELECT string_agg(t.name, ', ') FROM t WHERE t.changes IS NULL),
                       coalesce((SELECT v.relispopulated FROM pg_class v WHERE v.oid = to_regclass(?)), true)
                """;
        String busy;
        boolean populated;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, TRIGGER);                                     // tgname
            ps.setArray(2, c.createArrayOf("bigint", tables.toArray()));     // the tables
            ps.setString(3, view == null ? null : Identifiers.quote(view));   // the view
            ps.setArray(4, c.createArrayOf("bigint", tables.toArray()));     // the tables
            ps.setString(5, view == null ? null : Identifiers.quote(view));   // the view
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                marks = rs.getString(1);
                complete = rs.getBoolean(2) && untracked.isEmpty();
                busy = rs.getString(3);
                populated = rs.getBoolean(4);
            }
        }
        if (!untracked.isEmpty()) {
            log.info("job {}: refreshing, a source cannot be tracked: {}", attempt.definition().name(), String.join("; ", untracked));
            return false;
        }
        if (busy != null) {
            log.info("job {}: refreshing, a writer of {} is in flight or its tracking is disabled", attempt.definition().name(), busy);
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT m.marks = ?::jsonb FROM nightshift.source_mark m WHERE m.job_name = ?
                """)) {
            ps.setString(1, marks);                           // marks
            ps.setString(2, attempt.definition().name());     // job_name
            try (ResultSet rs = ps.executeQuery()) {
                return complete && populated && rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** Stores the marks taken by {@link #unchanged()} with the job's work; incomplete marks are stored as none. */
    void record() throws SQLException {
        String sql = """
                INSERT INTO nightshift.source_mark AS m (job_name, marks, run_id)
                VALUES (?, ?::jsonb, ?)
                ON CONFLICT (job_name) DO UPDATE SET marks = excluded.marks, run_id = excluded.run_id, taken_at = now()
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, attempt.definition().name());                 // job_name
            ps.setString(2, complete ? marks : "{\"incomplete\": true}"); // marks
            ps.setLong(3, attempt.runId());                                // run_id
            ps.executeUpdate();
        }
    }

    private String name(long oid) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT " + oid + "::oid::regclass::text")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private String setting(String name) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_setting('" + name + "')")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
