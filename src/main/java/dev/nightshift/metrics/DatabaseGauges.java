package dev.nightshift.metrics;

import dev.nightshift.db.Tx;
import dev.nightshift.loop.Loop;
import dev.nightshift.loop.Loops;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * Gauges read from the database on a timer, not per scrape (a scrape must stay cheap and must not
 * queue behind a slow database): runs by state, the age of the oldest due run, and each job's last
 * success, which therefore survives restarts and is the same on every node. Each of the three reads
 * runs in a transaction of its own with a short statement timeout; a read that fails keeps its own
 * gauges at their previous values (the others are still refreshed) and the failure is counted.
 * Thread-safe; start once, close once.
 */
public final class DatabaseGauges implements AutoCloseable {
    static final List<String> STATES = List.of("available", "running", "succeeded", "dead", "cancelled");
    static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(2);

    private final DataSource ds;
    private final Metrics metrics;
    private final Map<String, Double> byState = new ConcurrentHashMap<>();
    private volatile double oldestAvailableAge;
    private final MultiGauge lastSuccess;
    /** Holds the values the last-success rows point to, so that none is collected while registered. */
    private volatile List<MultiGauge.Row<?>> lastSuccessRows = List.of();
    private volatile Loop loop;

    public DatabaseGauges(DataSource ds, Metrics metrics) {
        this.ds = ds;
        this.metrics = metrics;
        MeterRegistry registry = metrics.registry();
        for (String state : STATES) {
            byState.put(state, 0.0);
            Gauge.builder("nightshift.queue.runs", byState, m -> m.getOrDefault(state, 0.0))
                    .description("Runs in the run table by state (finished ones until pruned, estimated past 100,000 rows), cluster-wide")
                    .tags("state", state)
                    .register(registry);
        }
        Gauge.builder("nightshift.queue.oldest.available.age", this, g -> g.oldestAvailableAge)
                .description("How long the oldest due run has been waiting to be claimed (0 when none), cluster-wide")
                .baseUnit("seconds")
                .register(registry);
        lastSuccess = MultiGauge.builder("nightshift.job.last.success.timestamp")
                .description("End time of the job's newest succeeded run, in seconds since the epoch")
                .baseUnit("seconds")
                .register(registry);
    }

    /** Refreshes now, then every {@code interval}, as a loop of {@code loops} until {@link #close()}. */
    public synchronized void start(Duration interval, Loops loops) {
        loop = loops.add(new Loop("metrics", () -> refreshOnce(interval), () -> metrics.loopError("metrics"))).start();
    }

    private Duration refreshOnce(Duration interval) throws SQLException {
        try {
            refresh();
        } catch (SQLException e) {
            if ("42P01".equals(dev.nightshift.db.SqlStates.of(e))) {
                // The schema is not migrated yet: the HTTP port (and this loop) start before migrations.
                return interval;
            }
            throw e;
        }
        return interval;
    }

    /** One gauge's read, behind a savepoint of its own. */
    @FunctionalInterface
    private interface Read {
        void read(Connection c) throws SQLException;
    }

    /**
     * Reads every gauge's value from the database, in one short transaction (an idle node's
     * refreshes are a good part of what it costs the database), each read behind a savepoint: a
     * read that fails (a statement timeout on a large run table, a lock) keeps only its own gauges
     * at their last values. The age of the oldest due run, which the alert rules watch, comes
     * first. Throws the first failure, with the others suppressed in it, after trying them all.
     */
    public void refresh() throws SQLException {
        List<SQLException> failures = new ArrayList<>();
        Tx.call(ds, c -> {
            failures.clear();   // (a retried transaction starts over)
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL statement_timeout = " + STATEMENT_TIMEOUT.toMillis());
            }
            for (Read read : List.<Read>of(this::readOldestAge, this::readLastSuccess, this::readStates)) {
                java.sql.Savepoint before = c.setSavepoint();
                try {
                    read.read(c);
                    c.releaseSavepoint(before);
                } catch (SQLException e) {
                    // only this read's gauges keep their last values; the failures are thrown together below, and the metrics loop logs and counts them
                    c.rollback(before);
                    failures.add(e);
                }
            }
            return null;
        });
        if (!failures.isEmpty()) {
            SQLException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    /**
     * Runs by state. The queue's states (available, running) are counted exactly, each in its own
     * table, so their cost follows the queue, not the history. The finished states (run_history) are
     * counted exactly while the table is small; past {@link #EXACT_UP_TO} rows (by the planner's
     * statistics) they are the planner's estimate, its row count times the state's frequency: a
     * count of ten million history rows would read them all on every refresh.
     */
    static final String STATES_SQL = """
            SELECT 'available', (SELECT count(*) FROM nightshift.queue)
            UNION ALL
            SELECT 'running', (SELECT count(*) FROM nightshift.running)
            UNION ALL
            SELECT v.state, round(greatest(c.reltuples, 0) * v.f)::bigint
            FROM pg_class c, pg_stats s
            CROSS JOIN LATERAL unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS v(state, f)
            WHERE c.oid = 'nightshift.run_history'::regclass AND c.reltuples > ?
              AND s.schemaname = 'nightshift' AND s.tablename = 'run_history' AND s.attname = 'state'
              AND v.state IN ('succeeded', 'dead', 'cancelled')
            UNION ALL
            -- (an uncorrelated condition: checked once, before any row of the history is read)
            SELECT r.state, count(*)
            FROM nightshift.run_history r
            WHERE (SELECT c.reltuples FROM pg_class c WHERE c.oid = 'nightshift.run_history'::regclass) <= ?
            GROUP BY r.state
            """;
    static final long EXACT_UP_TO = 100_000;

    private void readStates(Connection c) throws SQLException {
        Map<String, Double> counts = new ConcurrentHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(STATES_SQL)) {
            ps.setLong(1, EXACT_UP_TO);     // estimates above
            ps.setLong(2, EXACT_UP_TO);     // exact counts up to
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.put(rs.getString(1), (double) rs.getLong(2));
                }
            }
        }
        STATES.forEach(s -> byState.put(s, counts.getOrDefault(s, 0.0)));
    }

    private void readOldestAge(Connection c) throws SQLException {
        String sql = """
                SELECT coalesce(extract(epoch FROM now() - min(run_at)), 0)
                FROM nightshift.run WHERE state = 'available' AND run_at <= now()
                """;
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            oldestAvailableAge = rs.next() ? Math.max(0, rs.getDouble(1)) : 0;
        }
    }

    private void readLastSuccess(Connection c) throws SQLException {
        // Newest succeeded run by id, as the pruner keeps exactly that run of each job.
        String sql = """
                SELECT j.name, extract(epoch FROM s.finished_at)
                FROM nightshift.job j
                CROSS JOIN LATERAL (SELECT r.finished_at FROM nightshift.run r
                                    WHERE r.job_name = j.name AND r.state = 'succeeded'
                                    ORDER BY r.id DESC LIMIT 1) s
                WHERE j.removed_at IS NULL
                """;
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(MultiGauge.Row.of(Tags.of("job_name", rs.getString(1)), Double.valueOf(rs.getDouble(2))));
            }
        }
        lastSuccessRows = rows;
        lastSuccess.register(rows, true);
    }

    @Override
    public void close() {
        Loop l = loop;
        if (l != null) {
            l.stop(Duration.ofSeconds(5));
        }
    }
}
