package dev.nightshift.jobs;

import dev.nightshift.json.Json;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

/**
 * The import bookkeeping in the nightshift schema: which file contents a job has applied from
 * which path (by checksum, written in the same transaction as the rows) and the rows it skipped.
 * Stateless.
 */
final class ImportLedger {
    private ImportLedger() {
    }

    /**
     * Whether the last content this job applied from {@code path} has this checksum: a re-delivery
     * of the current content, or a retry after a crash between the commit and the file's move. A
     * file that reverts to an older content is applied. Sees this transaction's own records; the
     * caller holds the target's merge lock, so a concurrent import of the same path has committed
     * before this reads.
     */
    static boolean current(Connection c, String job, String path, String checksum) throws SQLException {
        String sql = """
                SELECT f.checksum = ?
                FROM nightshift.import_file f
                WHERE f.job_name = ? AND f.source_path = ?
                ORDER BY f.id DESC
                LIMIT 1
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, checksum);   // checksum
            ps.setString(2, job);        // job_name
            ps.setString(3, path);       // source_path
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** The ledger's name for a file: its absolute, normalized path. */
    static String path(Path file) {
        return file.toAbsolutePath().normalize().toString();
    }

    static void record(Connection c, Attempt a, String target, Path file, String checksum, Map<String, Long> counts)
            throws SQLException {
        record(c, a, target, file.getFileName().toString(), path(file), checksum, counts, RemoteFetch.Validators.NONE);
    }

    /**
     * Records applied content; {@code sourcePath} is a file's path or a URL, and {@code validators}
     * the ETag and Last-Modified it came with (a URL's), sent back on the next fetch.
     */
    static void record(Connection c, Attempt a, String target, String fileName, String sourcePath, String checksum,
                       Map<String, Long> counts, RemoteFetch.Validators validators) throws SQLException {
        String sql = """
                INSERT INTO nightshift.import_file (job_name, target, file_name, source_path, checksum, run_id, counts, etag,
                                                   last_modified)
                VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, a.definition().name());         // job_name
            ps.setString(2, target);                        // target
            ps.setString(3, fileName);                      // file_name
            ps.setString(4, sourcePath);                    // source_path
            ps.setString(5, checksum);                      // checksum
            ps.setLong(6, a.runId());                       // run_id
            ps.setString(7, Json.write(counts));            // counts
            ps.setString(8, validators.etag());             // etag
            ps.setString(9, validators.lastModified());     // last_modified
            ps.executeUpdate();
        }
    }

    /** The ETag and Last-Modified of the content last applied from {@code sourcePath} (a URL), or none. */
    static RemoteFetch.Validators validators(Connection c, String job, String sourcePath) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT f.etag, f.last_modified
                FROM nightshift.import_file f
                WHERE f.job_name = ? AND f.source_path = ?
                ORDER BY f.id DESC
                LIMIT 1
                """)) {
            ps.setString(1, job);           // job_name
            ps.setString(2, sourcePath);    // source_path
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new RemoteFetch.Validators(rs.getString(1), rs.getString(2)) : RemoteFetch.Validators.NONE;
            }
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
