package dev.nightshift.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nightshift.config.Settings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The database of one nightshift process: the embedded server or the configured URL, a HikariCP
 * pool sized for the workers, Flyway migrations, and dedicated connections for LISTEN.
 * Thread-safe; close once.
 */
public final class Database implements AutoCloseable {
    public static final String SCHEMA = "nightshift";
    /**
     * A backend busy in a long statement notices a vanished client (kill -9 of a node) within a
     * second instead of at the end of the statement, so its locks are freed and its run rescued.
     */
    private static final int CONNECTION_CHECK_MS = 1_000;

    private final String url;

    private final String user;
    private final String password;
    private final HikariDataSource pool;
    private final EmbeddedServer embedded;
    private final Duration stallTimeout;

    private Database(String url, String user, String password, int poolSize, String appName, EmbeddedServer embedded,
                     Duration stallTimeout) {
        this.url = url;
        this.stallTimeout = stallTimeout;
        this.user = user;
        this.password = password;
        this.embedded = embedded;
        HikariConfig c = new HikariConfig();
        c.setPoolName("nightshift");
        c.setJdbcUrl(url);
        c.setUsername(user);
        c.setPassword(password);
        c.setMaximumPoolSize(poolSize);
        c.setMinimumIdle(Math.min(2, poolSize));
        c.setConnectionTimeout(5_000);
        c.setValidationTimeout(1_000);
        // A pool that starts while PostgreSQL is down: the daemon must survive outages, also at start.
        c.setInitializationFailTimeout(-1);
        c.addDataSourceProperty("ApplicationName", appName);
        c.addDataSourceProperty("tcpKeepAlive", "true");
        c.addDataSourceProperty("connectTimeout", "5");
        c.addDataSourceProperty("options", startupOptions(stallTimeout, true));
        if (stallTimeout.toMillis() >= 60_000) {
            // an idle pooled session would otherwise be ended by idle_session_timeout; HikariCP's floor is 30 s
            c.setKeepaliveTime(stallTimeout.toMillis() / 2);
        }
        this.pool = new HikariDataSource(c);
    }

    /** Opens the database named by {@code settings}, starting the embedded server if needed. */
    public static Database open(Settings settings, int poolSize) {
        String appName = "nightshift " + settings.nodeName();
        if (settings.embedded()) {
            EmbeddedServer server = EmbeddedServer.acquire(settings.home());
            try {
                return new Database(server.jdbcUrl("postgres"), "postgres", null, poolSize, appName, server,
                        settings.stallTimeout());
            } catch (RuntimeException e) {
                server.release();
                throw e;
            }
        }
        return new Database(settings.dbUrl(), settings.dbUser(), settings.dbPassword(), poolSize, appName, null,
                settings.stallTimeout());
    }

    /**
     * Settings sent in the startup packet of every connection. As startup options they are the
     * session's reset values: RESET ALL (the end of a worker's chain of runs) returns to them, where
     * a SET by the pool's init SQL would be undone for good. PostgreSQL 14 or later.
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
    static String startupOptions(Duration stall, boolean idleTimeouts) {
        long ms = stall.toMillis();
        long probeAfter = Math.max(1, stall.toSeconds() / 3);
        long probeEvery = Math.max(1, stall.toSeconds() / 9);
        String o = "-c client_connection_check_interval=" + CONNECTION_CHECK_MS
                + " -c tcp_keepalives_idle=" + probeAfter + " -c tcp_keepalives_interval=" + probeEvery
                + " -c tcp_keepalives_count=3 -c tcp_user_timeout=" + ms;
        return idleTimeouts ? o + " -c idle_in_transaction_session_timeout=" + ms + " -c idle_session_timeout=" + ms : o;
    }

    public DataSource dataSource() {
        return pool;
    }

    public HikariDataSource pool() {
        return pool;
    }

    public String url() {
        return url;
    }

    /** Applies pending migrations of the nightshift schema; safe to call from several nodes at once. */
    public void migrate() {
        Flyway.configure()
                .dataSource(pool)
                .schemas(SCHEMA)
                .createSchemas(true)
                .locations("classpath:db/migration")
                .load()
                .migrate();
    }

    /**
     * As {@link #migrate}, but first asks {@link SchemaVersion} whether there is anything to do,
     * in one query: the short commands' path, which then loads no Flyway at all.
     */
    public void migrateIfBehind() {
        if (!SchemaVersion.upToDate(pool)) {
            migrate();
        }
    }

    /** A connection outside the pool, for a LISTEN session that must live as long as the node. */
    public Connection openDedicated() throws SQLException {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("ApplicationName", "nightshift listener");
        p.setProperty("options", startupOptions(stallTimeout, false));
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("connectTimeout", "2");
        return DriverManager.getConnection(url, p);
    }

    /** Evicts a connection whose session state can no longer be trusted (e.g. a lock we could not release). */
    public void evict(Connection c) {
        pool.evictConnection(c);
    }

    @Override
    public void close() {
        pool.close();
        if (embedded != null) {
            embedded.release();
        }
    }
}
