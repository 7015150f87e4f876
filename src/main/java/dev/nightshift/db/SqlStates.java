package dev.nightshift.db;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/** The SQLSTATEs nightshift treats specially. */
public final class SqlStates {
    public static final String SERIALIZATION_FAILURE = "40001";
    public static final String DEADLOCK_DETECTED = "40P01";
    public static final String LOCK_NOT_AVAILABLE = "55P03";

    private SqlStates() {
    }

    /** The SQLSTATE of {@code e} or of the first chained SQLException that has one. */
    public static String of(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                return s.getSQLState();
            }
        }
        return null;
    }

    /**
     * A lost or refused connection: class 08, the server shutting down or starting (57P01-57P03),
     * or the pool timing out waiting for a connection.
     */
    public static boolean isConnectionError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P0"))) {
                return true;
            }
        }
        return false;
    }

    /** Worth another try inside the same attempt: serialization failure, deadlock, lock timeout. */
    public static boolean isTransient(Throwable e) {
        String s = of(e);
        return SERIALIZATION_FAILURE.equals(s) || DEADLOCK_DETECTED.equals(s) || LOCK_NOT_AVAILABLE.equals(s);
    }
}
