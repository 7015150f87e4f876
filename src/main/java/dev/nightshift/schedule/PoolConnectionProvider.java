package dev.nightshift.schedule;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.quartz.utils.ConnectionProvider;

/**
 * Lends nightshift's HikariCP pool to Quartz. The pool belongs to the node, which closes it after
 * Quartz has stopped, so {@link #shutdown()} leaves it open. Thread-safe.
 */
final class PoolConnectionProvider implements ConnectionProvider {
    private final DataSource pool;

    PoolConnectionProvider(DataSource pool) {
        this.pool = pool;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return pool.getConnection();
    }

    @Override
    public void shutdown() {
        // Quartz calls this when its scheduler shuts down; the pool outlives it.
    }

    @Override
    public void initialize() {
        // the pool is already open
    }
}
