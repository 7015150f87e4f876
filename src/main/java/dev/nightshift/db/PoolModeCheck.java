package dev.nightshift.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Tells whether the sessions of a data source stay put between transactions, as nightshift needs
 * (a worker holds its run by a lock of its session; the listener's LISTEN; the sessions'
 * settings). A pooler in transaction or statement mode (PgBouncer's {@code pool_mode}) hands a
 * client's server connection to other clients between its transactions. Stateless.
 *
 * <p>The test, on two connections A and B: A notes its backend and a session setting; B opens a
 * transaction and notes its backend; A reads its backend and the setting again. In session mode A
 * keeps its backend and its setting, and B has another one, always. In transaction mode A's
 * backend was free once A's statement ended: B gets it (PgBouncer reuses the last used server
 * first), or A moves to another one. Interleaved clients of other nodes can hide that in one
 * round, so it runs a few.
 */
final class PoolModeCheck {
    private static final int ROUNDS = 5;
    private static final String DUPLICATE_PREPARED_STATEMENT = "42P05";
    private static final String UNKNOWN_PREPARED_STATEMENT = "26000";

    private PoolModeCheck() {
    }

    /** The pool mode that moves sessions ({@code transaction} or {@code statement}), or empty when sessions stay. */
    static Optional<String> movingSessions(DataSource source) throws SQLException {
        try (Connection a = source.getConnection(); Connection b = source.getConnection()) {
            String token = UUID.randomUUID().toString();
            try (Statement st = a.createStatement()) {
                st.execute("SET nightshift.session_probe = '" + token + "'");
            }
            for (int round = 0; round < ROUNDS; round++) {
                if (moved(a, b, token)) {
                    return Optional.of("transaction");
                }
            }
            return Optional.empty();
        } catch (SQLException e) {
            String message = e.getMessage() == null ? "" : e.getMessage();
            if (message.contains("statement pooling mode")) {
                // PgBouncer: "transaction blocks not allowed in statement pooling mode"
                return Optional.of("statement");
            }
            if (DUPLICATE_PREPARED_STATEMENT.equals(e.getSQLState()) || UNKNOWN_PREPARED_STATEMENT.equals(e.getSQLState())) {
                // pgjdbc names the statement of its BEGIN: on a backend that another client used, it exists already, or not yet
                return Optional.of("transaction");
            }
            throw e;
        }
    }

    /** One round: true when A's session moved or B got it while A was between transactions. */
    private static boolean moved(Connection a, Connection b, String token) throws SQLException {
        long before = backend(a);
        b.setAutoCommit(false);
        long other = backend(b);
        long after = backend(a);
        String seen = probe(a);
        b.rollback();
        b.setAutoCommit(true);
        return other == before || after != before || !token.equals(seen);
    }

    private static long backend(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String probe(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_setting('nightshift.session_probe', true)")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
