package dev.nightshift.jobs;

import dev.nightshift.config.SqlParams;
import dev.nightshift.runlog.RunLog;
import dev.nightshift.runlog.ServerNotices;
import dev.nightshift.runlog.StatementTag;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

/**
 * {@code type: sql}: runs a script statement by statement, in the run's transaction
 * ({@code transaction: true}, exactly-once) or each statement on its own (at-least-once).
 */
final class SqlJob {

    /** Does the work of one attempt (see {@link JobType#execute}). */
    Map<String, Long> execute(Attempt attempt, SqlParams p) throws Exception {
        String script = p.sql() != null ? p.sql() : Files.readString(p.file(), StandardCharsets.UTF_8);
        String origin = p.file() != null ? p.file().getFileName().toString() : "sql";
        List<SqlScript.Statement> statements = SqlScript.split(script);
        long rows = 0;
        int index = 0;
        RunLog log = attempt.log();
        try (Statement st = attempt.connection().createStatement()) {
            for (SqlScript.Statement s : statements) {
                index++;
                String where = origin + " statement " + index + " (line " + s.line() + ")";
                long t0 = System.nanoTime();
                try {
                    boolean hasResult = st.execute(s.sql());
                    long count = hasResult ? -1 : st.getUpdateCount();
                    ServerNotices.drain(st, log);
                    log.info(where + ": " + StatementTag.of(s.sql()) + (count >= 0 ? ", " + count + (count == 1 ? " row" : " rows")
                            : ", returned rows (not read)") + ", " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                    if (count > 0) {
                        rows += count;
                    }
                } catch (SQLException e) {
                    ServerNotices.drain(st, log);
                    log.line(RunLog.Level.ERROR, where + ": " + StatementTag.of(s.sql()) + " failed after "
                            + (System.nanoTime() - t0) / 1_000_000 + " ms (SQLSTATE " + e.getSQLState() + "): " + e.getMessage());
                    throw new SQLException(where + ": " + e.getMessage(), e.getSQLState(), e);
                }
            }
        }
        return Map.of("statements", (long) statements.size(), "rows", rows);
    }
}
