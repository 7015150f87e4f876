package dev.nightshift.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nightshift.config.Settings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database of one nightshift process: the embedded server or the configured URL, a HikariCP
 * pool sized for the workers, Flyway migrations, and dedicated connections for LISTEN.
 * Thread-safe; close once.
 */
public final class Database implements AutoCloseable {
    public static final String SCHEMA = "nightshift";
    private static final Logger log = LoggerFactory.getLogger(Database.class);

    private final String url;
    private final HikariDataSource pool;
    private final EmbeddedServer embedded;
    private final SessionSettings sessionSettings;
    /** The pool's connections: startup options while the server takes them (see {@link SessionSource}). */
    private final SessionSource source;
    private final SessionSource listenerSource;

    private Database(String url, String user, String password, int poolSize, String appName, EmbeddedServer embedded,
                     Duration stallTimeout) {
        this.url = url;
        this.embedded = embedded;
        this.sessionSettings = new SessionSettings(stallTimeout);
        AtomicBoolean optionsRefused = new AtomicBoolean();
        this.source = new SessionSource(url, user, password, appName, 5, sessionSettings.startupOptions(true), optionsRefused);
        this.listenerSource = new SessionSource(url, user, password, "nightshift listener", 2,
                sessionSettings.startupOptions(false), optionsRefused);
        HikariConfig c = new HikariConfig();
        c.setPoolName("nightshift");
        c.setDataSource(source);
        c.setConnectionInitSql(SessionSettings.END_STALE_SESSION);
        c.setMaximumPoolSize(poolSize);
        c.setMinimumIdle(Math.min(2, poolSize));
        c.setConnectionTimeout(5_000);
        c.setValidationTimeout(1_000);
        // A pool that starts while PostgreSQL is down: the daemon must survive outages, also at start.
        c.setInitializationFailTimeout(-1);
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

    public DataSource dataSource() {
        return pool;
    }

    public HikariDataSource pool() {
        return pool;
    }

    public String url() {
        return url;
    }

    /**
     * Applies pending migrations of the nightshift schema; safe to call from several nodes at once.
     * A schema made by a pre-release build is refused first ({@link PreReleaseSchemaException}).
     */
    public void migrate() {
        SchemaVersion.refusePreRelease(pool, url);
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

    /**
     * A connection outside the pool, for a LISTEN session that must live as long as the node: it
     * holds no run, so it may sit idle past the stall timeout (a role default behind a pooler).
     */
    public Connection openDedicated() throws SQLException {
        Connection c = listenerSource.getConnection();
        try (Statement st = c.createStatement()) {
            st.execute("SET idle_session_timeout = 0");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * A connection outside the pool for one worker, with the pool's session settings (a worker holds
     * its owner's lock on it for as long as it lives: see RunQueue.register). The caller closes it.
     */
    public Connection openWorker() throws SQLException {
        Connection c = source.getConnection();
        try (Statement st = c.createStatement()) {
            st.execute(SessionSettings.END_STALE_SESSION);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * Checks, before the node uses the database, that its sessions keep guarantee 2 behind any
     * pooler: refuses one that moves sessions between transactions ({@link PoolModeCheck}); behind one that refuses startup options, writes the session settings as the role's
     * defaults in the database (where they differ); refuses sessions that lack them otherwise (the
     * options were dropped on the way); then borrows {@code sessions} connections of the pool at
     * once and checks each.
     *
     * @throws PoolerException when they cannot: the node must not start
     */
    public void checkSessions(int sessions) throws SQLException {
        Optional<String> mode = PoolModeCheck.movingSessions(source);
        if (mode.isPresent()) {
            throw new PoolerException("the connection pooler at " + shownUrl() + " runs in " + mode.get() + " mode: it hands"
                    + " a session's server connection to other clients between transactions, and a node keeps its guarantees in"
                    + " its sessions (a worker holds its run by a lock of its session, the listener's LISTEN, the sessions'"
                    + " settings). Set pool_mode = session for this database (PgBouncer: pool_mode in [pgbouncer], or"
                    + " pool_mode=session on the database's line in [databases]), or connect to PostgreSQL directly."
                    + " See operations.md, \"Behind a connection pooler\".");
        }
        try (Connection c = source.getConnection()) {
            List<String> lacking = SessionSettings.lacking(c);
            if (source.optionsRefused()) {
                List<String> written = sessionSettings.writeRoleDefaults(c);
                if (!written.isEmpty()) {
                    log.info("sessions reach {} without startup options: wrote the role's defaults in this database: {}",
                            shownUrl(), String.join(", ", written));
                    // the pool's sessions opened before lack them: the next ones are fresh, or end themselves
                    pool.getHikariPoolMXBean().softEvictConnections();
                }
            } else if (!lacking.isEmpty()) {
                // options sent and lost on the way: a pooler told to drop them, which would drop them silently again
                throw lackingSettings(lacking);
            }
        }
        List<Connection> borrowed = new ArrayList<>();
        try {
            for (int i = 0; i < sessions; i++) {
                borrowed.add(borrowOrDiagnose());
            }
            for (Connection c : borrowed) {
                List<String> lacking = SessionSettings.lacking(c);
                if (!lacking.isEmpty()) {
                    throw lackingSettings(lacking);
                }
            }
        } finally {
            for (Connection c : borrowed) {
                c.close();
            }
        }
    }

    private Connection borrowOrDiagnose() throws SQLException {
        try {
            return pool.getConnection();
        } catch (SQLException e) {
            // the pool's init SQL ends a session without the check interval: see whether that is why
            List<String> lacking;
            try (Connection c = source.getConnection()) {
                lacking = SessionSettings.lacking(c);
            } catch (SQLException again) {
                throw e;
            }
            if (!lacking.isEmpty()) {
                throw lackingSettings(lacking);
            }
            throw e;
        }
    }

    /** The URL without its query string, which may carry a password. */
    private String shownUrl() {
        return url.indexOf('?') < 0 ? url : url.substring(0, url.indexOf('?'));
    }

    /** A startup parameter refused by a pooler somewhere in {@code e}'s causes, as the node's refusal to start. */
    public static Optional<PoolerException> refusedByPooler(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SessionSource.RefusedParameter r) {
                return Optional.of(new PoolerException(r.getMessage()));
            }
        }
        return Optional.empty();
    }

    private PoolerException lackingSettings(List<String> lacking) {
        String how = source.optionsRefused()
                ? "The database at " + shownUrl() + " is reached through a connection pooler (it refused the startup options);"
                + " nightshift wrote these settings as the role's defaults in this database (ALTER ROLE CURRENT_USER IN"
                + " DATABASE … SET …), yet the pooler's sessions do not have them: does the pooler log in to PostgreSQL as"
                + " another role, or keep server connections opened before (PgBouncer: RECONNECT, or wait server_lifetime)?"
                : "The startup options were dropped on the way to " + shownUrl() + ", as a connection pooler does when told to"
                + " ignore them (PgBouncer's ignore_startup_parameters = options): take options out of that list (the pooler"
                + " then refuses them, and nightshift writes the settings as the role's defaults in this database), or write"
                + " them yourself: ALTER ROLE <role> IN DATABASE <database> SET client_connection_check_interval = 1000"
                + " (and idle_in_transaction_session_timeout, idle_session_timeout = the stall timeout in ms).";
        return new PoolerException("this node's database sessions lack the settings a worker needs as their reset values ("
                + String.join("; ", lacking) + "): without " + SessionSettings.CONNECTION_CHECK + " a backend busy in a long"
                + " statement would not notice its node killed, and would keep the run until the statement ends. " + how
                + " See operations.md, \"Behind a connection pooler\".");
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
