package dev.nightshift.jobs;

import dev.nightshift.config.SqlParams;
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
        try (Statement st = attempt.connection().createStatement()) {
            for (SqlScript.Statement s : statements) {
                index++;
                try {
                    boolean hasResult = st.execute(s.sql());
                    if (!hasResult && st.getUpdateCount() > 0) {
                        rows += st.getUpdateCount();
                    }
                } catch (SQLException e) {
                    throw new SQLException(origin + " statement " + index + " (line " + s.line() + "): " + e.getMessage(),
                            e.getSQLState(), e);
                }
            }
        }
        return Map.of("statements", (long) statements.size(), "rows", rows);
    }
}
