package dev.nightshift.bench;

import dev.nightshift.db.Database;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The one-number queries the benchmarks read their figures with. Stateless; thread-safe. */
final class Stats {
    private Stats() {
    }

    /** The first column of the first row of {@code sql}, as a whole number. */
    static long count(Database db, String sql) throws SQLException {
        return (long) number(db, sql);
    }

    /** The first column of the first row of {@code sql}. */
    static double number(Database db, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getDouble(1);
        }
    }

    /** Enqueue → start of the started runs that match {@code where}, in ms: p50 and p99. */
    static double[] startLatency(Database db, String where) throws SQLException {
        String sql = """
                SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) * 1000,
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) * 1000
                FROM nightshift.run WHERE started_at IS NOT NULL AND (%s)""".formatted(where);
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return new double[] {rs.getDouble(1), rs.getDouble(2)};
        }
    }
}
