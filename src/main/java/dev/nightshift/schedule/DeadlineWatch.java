package dev.nightshift.schedule;

import dev.nightshift.db.SqlStates;
import dev.nightshift.metrics.Metrics;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the late-slot gauges current: every few seconds it reads which slots are past their
 * deadline ({@link Lateness}) while their work is still pending, so an alert can fire before the run
 * ends, or when no run was ever made. Every node reads the same database, so every node reports the
 * same values. Thread-safe; start once, close once.
 */
public final class DeadlineWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeadlineWatch.class);

    private final Lateness lateness;
    private final Metrics metrics;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nightshift-deadline-watch");
        t.setDaemon(true);
        return t;
    });

    public DeadlineWatch(Lateness lateness, Metrics metrics) {
        this.lateness = lateness;
        this.metrics = metrics;
    }

    public void start(Duration every) {
        timer.scheduleWithFixedDelay(() -> {
            try {
                refresh();
            } catch (Exception e) {
                if ("42P01".equals(SqlStates.of(e))) {
                    // The schema is not migrated yet: the HTTP port (and this timer) start before migrations.
                    return;
                }
                // the gauges keep their last values; the next tick tries again
                metrics.loopError("deadline-watch");
                log.warn("cannot read late slots: {}", e.getMessage());
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Reads the late slots now and sets the gauges. */
    public void refresh() throws SQLException {
        for (Map.Entry<String, Lateness.Late> e : lateness.all().entrySet()) {
            metrics.late(e.getKey(), e.getValue().slots().size(), e.getValue().overdue());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
