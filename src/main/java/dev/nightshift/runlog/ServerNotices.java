package dev.nightshift.runlog;

import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import org.postgresql.util.PSQLWarning;
import org.postgresql.util.ServerErrorMessage;

/**
 * Moves what the server said while a statement ran (RAISE NOTICE, WARNING, INFO: pgjdbc's
 * SQLWarning chain) into the run's log, and clears the chain so it is not read twice.
 */
public final class ServerNotices {
    private ServerNotices() {
    }

    /** Drains the warnings of {@code st} (never throws: a closed statement has nothing to give). */
    public static void drain(Statement st, RunLog log) {
        try {
            SQLWarning w = st.getWarnings();
            for (; w != null; w = w.getNextWarning()) {
                log.line(level(w), w.getMessage());
            }
            st.clearWarnings();
        } catch (SQLException e) {
            log.line(RunLog.Level.WARNING, "server notices could not be read: " + e.getMessage());
        }
    }

    private static RunLog.Level level(SQLWarning w) {
        ServerErrorMessage m = w instanceof PSQLWarning p ? p.getServerErrorMessage() : null;
        String severity = m == null || m.getSeverity() == null ? "WARNING" : m.getSeverity();
        return switch (severity) {
            case "NOTICE", "INFO", "LOG" -> RunLog.Level.NOTICE;
            case "DEBUG" -> RunLog.Level.DEBUG;
            default -> RunLog.Level.WARNING;
        };
    }
}
