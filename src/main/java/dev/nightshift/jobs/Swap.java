package dev.nightshift.jobs;

import dev.nightshift.config.Identifiers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The swap strategy of rebuild-summary: a new table like the target (columns, defaults, constraints,
 * indexes) is filled while readers keep using the old one, then the two are renamed under a short
 * lock_timeout and the old one dropped. Waiting longer than that for the exclusive lock fails with
 * 55P03, which the worker retries. Not for targets that views or foreign keys depend on (they
 * follow the old table) nor for privileges granted on the table (LIKE does not copy them).
 * Not thread-safe.
 */
final class Swap {
    private final Connection c;
    private final String schema;
    private final String table;
    private final Duration lockTimeout;

    Swap(Connection c, String target, Duration lockTimeout) {
        this.c = c;
        this.schema = target.substring(0, target.indexOf('.'));
        this.table = target.substring(target.indexOf('.') + 1);
        this.lockTimeout = lockTimeout;
    }

    Merge.Result apply(List<String> columns, long rows) throws SQLException {
        String fresh = name("nightshift_new_");
        String old = name("nightshift_old_");
        String target = Identifiers.quote(schema + "." + table);
        String cols = columns.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        Merge.exec(c, "DROP TABLE IF EXISTS " + Identifiers.quote(schema + "." + fresh));
        Merge.exec(c, "CREATE TABLE " + Identifiers.quote(schema + "." + fresh) + " (LIKE " + target + " INCLUDING ALL)");
        long inserted = Merge.exec(c, "INSERT INTO " + Identifiers.quote(schema + "." + fresh) + " (" + cols + ") SELECT "
                + cols + " FROM " + FileImport.STAGE);
        long before = count(target);
        Merge.exec(c, "SET LOCAL lock_timeout = " + lockTimeout.toMillis());
        Merge.exec(c, "LOCK TABLE " + target + " IN ACCESS EXCLUSIVE MODE");
        Merge.exec(c, "ALTER TABLE " + target + " RENAME TO " + Identifiers.quote(old));
        Merge.exec(c, "ALTER TABLE " + Identifiers.quote(schema + "." + fresh) + " RENAME TO " + Identifiers.quote(table));
        Merge.exec(c, "DROP TABLE " + Identifiers.quote(schema + "." + old));
        return new Merge.Result(inserted, 0, rows - inserted, before);
    }

    /** prefix + table name, cut to PostgreSQL's 63-byte identifier limit. */
    private String name(String prefix) {
        String n = prefix + table;
        return n.length() > 63 ? n.substring(0, 63) : n;
    }

    private long count(String target) throws SQLException {
        try (var st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + target)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
