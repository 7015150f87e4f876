package dev.nightshift.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of one nightshift process, with the session settings in the startup packet
 * ({@code options}) while the server takes them. A connection pooler such as PgBouncer refuses
 * that parameter ({@code FATAL: unsupported startup parameter: options}): from then on this
 * source connects without it, and the settings come from the role's defaults in the database
 * ({@link SessionSettings}). Any other refused startup parameter is an error that names it and
 * what to change. Thread-safe.
 */
final class SessionSource extends PGSimpleDataSource {
    private static final Logger log = LoggerFactory.getLogger(SessionSource.class);
    private static final Pattern REFUSED = Pattern.compile("unsupported startup parameter:\\s*(\\S+)");

    /** Shared by the pool's source and the listener's: once refused, never sent again. */
    private final AtomicBoolean optionsRefused;
    private final String url;
    /** The same source with the startup options: two instances, so no connection attempt changes another's. */
    private final PGSimpleDataSource withOptions = new PGSimpleDataSource();

    SessionSource(String url, String user, String password, String appName, int connectTimeoutSeconds, String options,
                  AtomicBoolean optionsRefused) {
        for (PGSimpleDataSource s : new PGSimpleDataSource[] {this, withOptions}) {
            s.setUrl(url);
            if (user != null) {
                s.setUser(user);
            }
            if (password != null) {
                s.setPassword(password);
            }
            s.setApplicationName(appName);
            s.setTcpKeepAlive(true);
            s.setConnectTimeout(connectTimeoutSeconds);
        }
        withOptions.setOptions(options);
        // the query string may carry a password: never logged
        this.url = url.indexOf('?') < 0 ? url : url.substring(0, url.indexOf('?'));
        this.optionsRefused = optionsRefused;
    }

    /** True once the server (a pooler) refused the startup options. */
    boolean optionsRefused() {
        return optionsRefused.get();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        if (!optionsRefused.get()) {
            try {
                return withOptions.getConnection(user, password);
            } catch (SQLException e) {
                if (!"options".equals(refusedParameter(e))) {
                    throw clearly(e);
                }
                if (optionsRefused.compareAndSet(false, true)) {
                    log.info("the database at {} refuses the startup parameter options (a connection pooler such as"
                            + " PgBouncer): the session settings come from the role's defaults in the database instead", url);
                }
            }
        }
        try {
            return super.getConnection(user, password);
        } catch (SQLException e) {
            throw clearly(e);
        }
    }

    /** The startup parameter a pooler refused in {@code e}, or null. */
    static String refusedParameter(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            Matcher m = t.getMessage() == null ? null : REFUSED.matcher(t.getMessage());
            if (m != null && m.find()) {
                return m.group(1);
            }
        }
        return null;
    }

    private SQLException clearly(SQLException e) {
        String p = refusedParameter(e);
        if (p == null || e instanceof RefusedParameter) {
            return e;
        }
        return new RefusedParameter("the database at " + url + " refuses the startup parameter " + p
                + " (a connection pooler such as PgBouncer passes only a few): remove it from the JDBC URL, or add it to"
                + " the pooler's ignore_startup_parameters; see operations.md, \"Behind a connection pooler\"", e);
    }

    /** A startup parameter refused by a pooler: a configuration problem, not an outage to wait out. */
    static final class RefusedParameter extends SQLNonTransientConnectionException {
        RefusedParameter(String message, SQLException cause) {
            super(message, "08P01", cause);
        }
    }
}
