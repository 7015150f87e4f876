package dev.nightshift.http;

import dev.nightshift.loop.Loops;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import dev.nightshift.metrics.DatabaseGauges;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.schedule.DeadlineWatch;
import dev.nightshift.schedule.Lateness;
import dev.nightshift.worker.Node;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * What a node shows its operators, started together: the meters of the pool and the catalog, the
 * gauges read from the database, and the HTTP port. The daemon closes it after the node has
 * drained, so that /readyz reports the drain meanwhile. Thread-safe; close once.
 */
public final class Operations implements AutoCloseable {
    /** How often queue depth and last successes are read from the database for /metrics. */
    /** An idle node's refreshes are a good part of what it costs the database (bench idle): every 30 s, not 10. */
    static final Duration GAUGE_REFRESH = Duration.ofSeconds(30);

    private final HttpService http;
    private final DatabaseGauges gauges;
    private final DeadlineWatch deadlines;

    private Operations(HttpService http, DatabaseGauges gauges, DeadlineWatch deadlines) {
        this.http = http;
        this.gauges = gauges;
        this.deadlines = deadlines;
    }

    /**
     * @param schedulerStarted whether this node's scheduler runs, for /readyz
     * @param loops            the node's loops: the gauges and the deadline watch join them; /readyz reads them
     */
    public static Operations start(Settings settings, Database db, Node node, Metrics metrics, JobCatalog catalog,
                                   BooleanSupplier schedulerStarted, Loops loops) {
        // The pool is already running: HikariCP accepts its meter registry once, at any time.
        db.pool().setMetricRegistry(metrics.registry());
        metrics.registerJobs(catalog.all());
        DatabaseGauges gauges = new DatabaseGauges(db.dataSource(), metrics);
        gauges.start(GAUGE_REFRESH, loops);
        DeadlineWatch deadlines = new DeadlineWatch(new Lateness(db.dataSource(), node.clock()), metrics, db.dataSource(), node.clock());
        deadlines.start(GAUGE_REFRESH, loops);
        try {
            return new Operations(HttpService.start(settings, node, db.dataSource(), metrics, catalog, schedulerStarted, loops), gauges, deadlines);
        } catch (RuntimeException e) {
            gauges.close();
            deadlines.close();
            throw e;
        }
    }

    public int port() {
        return http.port();
    }

    /** The catalog is synced: the deadline watch plans its wakes from the jobs now in the database. */
    public void catalogSynced() {
        deadlines.wake();
    }

    /** Reads the database gauges now instead of at the next tick (tests, and a scrape right after start). */
    public void refreshGauges() throws java.sql.SQLException {
        gauges.refresh();
        deadlines.refresh();
    }

    @Override
    public void close() {
        http.close();
        gauges.close();
        deadlines.close();
    }
}
