package dev.nightshift.cli;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import dev.nightshift.db.SqlStates;
import dev.nightshift.http.Operations;
import dev.nightshift.jobs.JobTypes;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.schedule.CatalogSync;
import dev.nightshift.worker.Node;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole daemon of one node, assembled: database, migrations, catalog sync, worker node.
 * {@code nightshift run} wraps it with signal handling; tests start several in one JVM.
 * Thread-safe; stop once.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    private final Settings settings;
    private final Database database;
    private final Node node;
    private final Metrics metrics;
    private final Operations ops;
    private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

    private Daemon(Settings settings, Database database, Node node, Metrics metrics, Operations ops) {
        this.settings = settings;
        this.database = database;
        this.node = node;
        this.metrics = metrics;
        this.ops = ops;
    }

    /** For /readyz. Issue #3 replaces this with the Quartz scheduler's own state once it lands in the daemon. */
    private static boolean schedulerStarted() {
        return true;
    }

    /** Validates the catalog (throws on problems), then starts; waits for the database if it is down. */
    public static Daemon start(Settings settings) {
        JobCatalog catalog = JobCatalog.load(settings.jobsDir());
        log.info("nightshift {} starting with {}", Version.current(), settings.describe());
        Database db = Database.open(settings, settings.workers() + 6);
        try {
            prepare(db, catalog);
            Metrics metrics = Metrics.prometheus(Version.current());
            Node node = new Node(settings, db, catalog, JobTypes.standard(), metrics);
            node.start();
            Operations ops;
            try {
                ops = Operations.start(settings, db, node, metrics, catalog, Daemon::schedulerStarted);
            } catch (RuntimeException e) {
                node.stop();
                metrics.close();
                throw e;
            }
            return new Daemon(settings, db, node, metrics, ops);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** Migrations and catalog sync, retried while the database cannot be reached. */
    private static void prepare(Database db, JobCatalog catalog) {
        Instant lastWarning = Instant.EPOCH;
        for (int failures = 0; ; failures++) {
            try {
                db.migrate();
                CatalogSync.Result r = new CatalogSync(db.dataSource()).sync(catalog);
                log.info("catalog synced: {} jobs ({} added, {} updated, {} removed)", catalog.size(), r.added(), r.updated(), r.removed());
                return;
            } catch (Exception e) {
                if (!SqlStates.isConnectionError(e) && !(e.getCause() != null && SqlStates.isConnectionError(e.getCause()))
                        && !(e instanceof org.flywaydb.core.api.FlywayException)) {
                    throw new IllegalStateException("cannot prepare the database: " + e.getMessage(), e);
                }
                if (Instant.now().isAfter(lastWarning.plusSeconds(10))) {
                    log.warn("database not reachable yet, retrying: {}", e.getMessage());
                    lastWarning = Instant.now();
                }
                try {
                    Thread.sleep(Math.min(5_000, 200L << Math.min(failures, 5)));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for the database", ie);
                }
            }
        }
    }

    public Node node() {
        return node;
    }

    public Database database() {
        return database;
    }

    public Metrics metrics() {
        return metrics;
    }

    public Settings settings() {
        return settings;
    }

    /** The bound HTTP port (the configured one, or the one picked for port 0). */
    public int httpPort() {
        return ops.port();
    }

    public Operations operations() {
        return ops;
    }

    /** Graceful stop (guarantee 7), then the database pool closes. */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        try {
            node.stop();
            ops.close();
            database.close();
            metrics.close();
        } finally {
            closed.countDown();
        }
    }

    /** Waits until {@link #close()} has stopped the node and closed the database. */
    public void awaitStopped() throws InterruptedException {
        closed.await();
    }
}
