package dev.nightshift.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nightshift.config.Settings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
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
     * Settings sent in the startup packet of every connection. A backend busy in a long statement
     * notices a vanished client (kill -9 of a node) within a second instead of at the end of the
     * statement, so its locks are freed and its run rescued. As a startup option it is the
     * session's reset value: RESET ALL (the end of a worker's chain of runs) returns to it, where
     * a SET by the pool's init SQL was undone for good. PostgreSQL 14 or later.
     */
    static final String STARTUP_OPTIONS = "-c client_connection_check_interval=1000";

    private final String url;
    private final String user;
    private final String password;
    private final HikariDataSource pool;
    private final EmbeddedServer embedded;

    private Database(String url, String user, String password, int poolSize, String appName, EmbeddedServer embedded) {
        this.url = url;
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
        c.addDataSourceProperty("options", STARTUP_OPTIONS);
        this.pool = new HikariDataSource(c);
    }

    /** Opens the database named by {@code settings}, starting the embedded server if needed. */
    public static Database open(Settings settings, int poolSize) {
        String appName = "nightshift " + settings.nodeName();
        if (settings.embedded()) {
            EmbeddedServer server = EmbeddedServer.acquire(settings.home());
            try {
                return new Database(server.jdbcUrl("postgres"), "postgres", null, poolSize, appName, server);
            } catch (RuntimeException e) {
                server.release();
                throw e;
            }
        }
        return new Database(settings.dbUrl(), settings.dbUser(), settings.dbPassword(), poolSize, appName, null);
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
        p.setProperty("options", STARTUP_OPTIONS);
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
