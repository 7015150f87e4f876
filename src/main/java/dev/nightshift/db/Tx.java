package dev.nightshift.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a unit of work in one transaction and retries it, a bounded number of times, when
 * PostgreSQL reports a transient failure: serialization failure (40001), deadlock (40P01),
 * lock not available (55P03), or a lost connection. Stateless; thread-safe.
 */
public final class Tx {
    private static final Logger log = LoggerFactory.getLogger(Tx.class);
    /** Attempts within one call; the pause doubles from 10 ms, so the loop gives up after about 150 ms of waiting. */
    public static final int MAX_TRIES = 5;

    private Tx() {
    }

    @FunctionalInterface
    public interface Work<T> {
        T apply(Connection c) throws SQLException;
    }

    /** Runs {@code work} in a READ COMMITTED transaction on a pooled connection, retrying transient failures. */
    public static <T> T call(DataSource ds, Work<T> work) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = ds.getConnection()) {
                return once(c, work);
            } catch (SQLException e) {
                if (attempt >= MAX_TRIES || !(SqlStates.isTransient(e) || SqlStates.isConnectionError(e))) {
                    throw e;
                }
                log.debug("transient failure (SQLSTATE {}), try {} of {}: {}", SqlStates.of(e), attempt, MAX_TRIES, e.getMessage());
                pause(attempt);
            }
        }
    }

    /** Runs {@code work} in one transaction on {@code c}: commit on success, rollback on any failure. */
    public static <T> T once(Connection c, Work<T> work) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.apply(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c, e);
            throw e;
        } finally {
            if (!c.isClosed()) {
                try {
                    c.setAutoCommit(auto);
                } catch (SQLException ignored) {
                    // the connection is broken; the pool will notice and discard it
                }
            }
        }
    }

    static void rollbackQuietly(Connection c, Exception cause) {
        try {
            if (!c.isClosed()) {
                c.rollback();
            }
        } catch (SQLException r) {
            // the connection is broken anyway (the server rolls back on its own); the failure travels with the original error
            cause.addSuppressed(r);
        }
    }

    /** Sleeps 10, 20, 40, ... ms with jitter, so that two colliding transactions do not collide again. */
    public static void pause(int attempt) {
        long base = 10L << Math.min(attempt - 1, 6);
        sleep(Duration.ofMillis(base / 2 + ThreadLocalRandom.current().nextLong(base)));
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            // the retry pause is cut short; the interrupt stays set so that the caller stops retrying
            Thread.currentThread().interrupt();
        }
    }
}
