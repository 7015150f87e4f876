package dev.nightshift.jobs;

import dev.nightshift.queue.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

/**
 * The import bookkeeping in the nightshift schema: which file contents a job has applied (by
 * checksum, written in the same transaction as the rows) and the rows it skipped. Stateless.
 */
final class ImportLedger {
    private ImportLedger() {
    }

    /** Whether this job already applied a file with this checksum (committed, or earlier in this transaction). */
    static boolean applied(Connection c, String job, String checksum) throws SQLException {
        String sql = "SELECT EXISTS (SELECT 1 FROM nightshift.import_file WHERE job_name = ? AND checksum = ?)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, job);        // job_name
            ps.setString(2, checksum);   // checksum
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    static void record(Connection c, Attempt a, String target, String fileName, String checksum, Map<String, Long> counts)
            throws SQLException {
        String sql = """
                INSERT INTO nightshift.import_file (job_name, target, file_name, checksum, run_id, counts)
                VALUES (?, ?, ?, ?, ?, ?::jsonb)
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, a.definition().name());   // job_name
            ps.setString(2, target);                  // target
            ps.setString(3, fileName);                // file_name
            ps.setString(4, checksum);                // checksum
            ps.setLong(5, a.runId());                 // run_id
            ps.setString(6, Json.write(counts));      // counts
            ps.executeUpdate();
        }
    }

    /** Copies the rejected rows of a checked staging table (line, raw, problem) into import_reject. */
    static long rejectFrom(Connection c, Attempt a, String fileName, String selectLineReasonRaw) throws SQLException {
        String sql = "INSERT INTO nightshift.import_reject (run_id, job_name, file_name, line, reason, raw) "
                + "SELECT ?, ?, ?, line, reason, raw FROM (" + selectLineReasonRaw + ") r";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, a.runId());                 // run_id
            ps.setString(2, a.definition().name());   // job_name
            ps.setString(3, fileName);                // file_name
            return ps.executeUpdate();
        }
    }
}
