package dev.nightshift.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The settings a worker session needs for guarantee 2, and where they come from. They must be the
 * session's <em>reset</em> values, so that RESET ALL (the end of a worker's chain of runs, or a
 * job's own SQL) and DISCARD ALL (a pooler's server_reset_query) return to them rather than undo
 * them. Two sources give reset values: the startup packet ({@code options}, a direct connection)
 * and the role's defaults in the database ({@code ALTER ROLE … IN DATABASE … SET}, behind a
 * pooler, which passes no options). A {@code SET} by the pool's init SQL would not survive.
 * Immutable.
 */
final class SessionSettings {
    /**
     * A backend busy in a long statement notices a vanished client (kill -9 of a node) within a
     * second instead of at the end of the statement, so its locks are freed and its run rescued.
     * Behind PgBouncer the backend's client is the pooler, which closes the server connection when
     * its client goes while a statement runs ("client disconnect while server was not ready").
     */
    static final String CONNECTION_CHECK = "client_connection_check_interval";
    static final int CONNECTION_CHECK_MS = 1_000;
    private static final String IDLE_IN_TRANSACTION = "idle_in_transaction_session_timeout";
    private static final String IDLE_SESSION = "idle_session_timeout";

    private final Duration stall;

    SessionSettings(Duration stall) {
        this.stall = stall;
    }

    /**
     * Settings sent in the startup packet of every direct connection (PostgreSQL 14 or later).
     *
     * <p>A worker's run is held by its session, so a node that stops talking (frozen by SIGSTOP or
     * the host, or cut off by a network that drops packets without a reset) holds its runs as long
     * as PostgreSQL keeps that session. {@code stall} bounds it: a session idle that long, inside a
     * transaction (a transactional run between statements) or outside one (a {@code transaction:
     * false} run, a claim waiting for its worker), is ended by the server, its locks go and the
     * rescuer takes the run. TCP keepalives (probes from stall/3, three missed ones) and
     * tcp_user_timeout (data unacknowledged for stall) end a session whose peer vanished from the
     * network while the backend waits on it inside a statement (a COPY, a large result).
     *
     * @param idleTimeouts false for the LISTEN connection, which holds no run and may sit idle
     */
    String startupOptions(boolean idleTimeouts) {
        long probeAfter = Math.max(1, stall.toSeconds() / 3);
        long probeEvery = Math.max(1, stall.toSeconds() / 9);
        String o = "-c " + CONNECTION_CHECK + "=" + CONNECTION_CHECK_MS
                + " -c tcp_keepalives_idle=" + probeAfter + " -c tcp_keepalives_interval=" + probeEvery
                + " -c tcp_keepalives_count=3 -c tcp_user_timeout=" + stall.toMillis();
        return idleTimeouts ? o + " -c " + IDLE_IN_TRANSACTION + "=" + stall.toMillis() + " -c " + IDLE_SESSION + "=" + stall.toMillis() : o;
    }

    /**
     * The role defaults a session behind a pooler takes its settings from. The TCP settings are left
     * out: the backend's peer is then the pooler, and the node's side of the network is the
     * pooler's (its tcp_keepalive and tcp_user_timeout).
     */
    Map<String, String> roleDefaults() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(CONNECTION_CHECK, Integer.toString(CONNECTION_CHECK_MS));
        m.put(IDLE_IN_TRANSACTION, Long.toString(stall.toMillis()));
        m.put(IDLE_SESSION, Long.toString(stall.toMillis()));
        return m;
    }

    /**
     * What the session on {@code c} lacks among its reset values, one line per setting: the check
     * interval must be exactly {@value #CONNECTION_CHECK_MS} ms, the idle timeouts set (another
     * node behind the same pooler may have written its own stall_timeout as the role's default).
     */
    static List<String> lacking(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT name, reset_val
                FROM pg_settings
                WHERE name IN ('client_connection_check_interval', 'idle_in_transaction_session_timeout', 'idle_session_timeout')
                ORDER BY name""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String name = rs.getString(1);
                String value = rs.getString(2);
                boolean ok = name.equals(CONNECTION_CHECK) ? value.equals(Integer.toString(CONNECTION_CHECK_MS)) : !value.equals("0");
                if (!ok) {
                    out.add(name + " is " + value + (name.equals(CONNECTION_CHECK) ? ", needs " + CONNECTION_CHECK_MS : ", needs the stall timeout"));
                }
            }
        }
        return out;
    }

    /**
     * Init SQL of every pooled connection: a session whose reset value lacks the check interval
     * although the role's default in this database sets it was opened by a pooler before that
     * default was written (a server connection it keeps for up to its server_lifetime); it ends
     * itself, so that the pool's next attempt gets a fresh one. Without such a default (a short
     * command before any node wrote it, a direct connection) the session is left alone: the
     * node's start checks it ({@link Database#checkSessions}).
     */
    static final String END_STALE_SESSION = """
            DO $$BEGIN
              IF (SELECT reset_val FROM pg_settings WHERE name = 'client_connection_check_interval') <> '1000'
                 AND EXISTS (SELECT 1 FROM pg_db_role_setting s
                             WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                               AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                               AND 'client_connection_check_interval=1000' = ANY (s.setconfig)) THEN
                PERFORM pg_terminate_backend(pg_backend_pid());
              END IF;
            END$$""";

    /**
     * Writes {@link #roleDefaults} as the defaults of the current role in the current database,
     * where they differ, in one transaction; returns the settings it wrote.
     */
    List<String> writeRoleDefaults(Connection c) throws SQLException {
        Map<String, String> current = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT split_part(entry, '=', 1) AS name, split_part(entry, '=', 2) AS value
                FROM pg_db_role_setting s
                CROSS JOIN LATERAL unnest(s.setconfig) AS entry
                WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                  AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                current.put(rs.getString(1), rs.getString(2));
            }
        }
        List<String> written = new ArrayList<>();
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            String database = quote(currentDatabase(c));
            for (Map.Entry<String, String> e : roleDefaults().entrySet()) {
                if (!e.getValue().equals(current.get(e.getKey()))) {
                    st.execute("ALTER ROLE CURRENT_USER IN DATABASE " + database + " SET " + e.getKey() + " = " + e.getValue());
                    written.add(e.getKey() + " = " + e.getValue());
                }
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
        return written;
    }

    private static String currentDatabase(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_database()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
