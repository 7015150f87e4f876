package dev.nightshift.jobs;

import dev.nightshift.config.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the catalog says about a table a job writes to: its columns with their types, which are
 * NOT NULL, and whether a unique index covers exactly the job's key (ON CONFLICT needs one).
 * Immutable; read once per attempt.
 */
record TargetTable(String name, Map<String, Column> columns) {

    /** One column: its type as PostgreSQL prints it (typmod included) and its NOT NULL flag. */
    record Column(String name, String type, boolean notNull) {
    }

    /** Reads {@code name} (validated schema.table); a missing or non-table relation is a permanent failure. */
    static TargetTable read(Connection c, String name) throws SQLException, JobFailedException {
        String sql = """
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
                FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
                WHERE a.attrelid = to_regclass(?) AND r.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum
                """;
        Map<String, Column> cols = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, Identifiers.quote(name));   // to_regclass
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cols.put(rs.getString(1), new Column(rs.getString(1), rs.getString(2), rs.getBoolean(3)));
                }
            }
        }
        if (cols.isEmpty()) {
            // Retried with backoff, not dead at once: another job (a schema job) may create it.
            throw new SQLException("target " + name + " does not exist or is not a table", "42P01");
        }
        return new TargetTable(name, java.util.Collections.unmodifiableMap(cols));
    }

    /** Fails unless every name is a column; the message lists the unknown ones. */
    void requireColumns(List<String> names, String what) throws JobFailedException {
        List<String> unknown = new ArrayList<>(names);
        unknown.removeAll(columns.keySet());
        if (!unknown.isEmpty()) {
            throw new JobFailedException(what + " not in " + name + ": " + String.join(", ", unknown)
                    + " (its columns: " + String.join(", ", columns.keySet()) + ")");
        }
    }

    /** Fails unless the key columns are NOT NULL and a plain unique index covers exactly them. */
    void requireUniqueKey(Connection c, List<String> key) throws SQLException, JobFailedException {
        requireColumns(key, "key column(s)");
        List<String> nullable = key.stream().filter(k -> !columns.get(k).notNull()).toList();
        if (!nullable.isEmpty()) {
            throw new JobFailedException("key column(s) of " + name + " must be NOT NULL: " + String.join(", ", nullable));
        }
        String sql = """
                SELECT EXISTS (
                    SELECT 1 FROM pg_index i
                    WHERE i.indrelid = to_regclass(?) AND i.indisunique AND i.indisvalid
                      AND i.indpred IS NULL AND i.indexprs IS NULL
                      AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_attribute a
                           WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) = ?::text[])
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, Identifiers.quote(name));                                        // to_regclass
            ps.setArray(2, c.createArrayOf("text", key.stream().sorted().toArray()));       // key columns, sorted
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new JobFailedException(name + " has no unique index on exactly (" + String.join(", ", key)
                            + "); the key needs one (a primary key or a unique constraint)");
                }
            }
        }
    }
}
