package dev.nightshift.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The database gauges stay cheap however long the history of runs grows. */
@Tag("database")
class DatabaseGaugesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void schema() {
        org.flywaydb.core.Flyway.configure().dataSource(db.dataSource()).schemas("nightshift").createSchemas(true)
                .locations("classpath:db/migration").load().migrate();
    }

    /** Rows of nightshift.run read by scans, as far as the server's statistics know. */
    private static long runRowsRead() throws Exception {
        return db.queryLong("""
                SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
                FROM pg_stat_user_tables WHERE schemaname = 'nightshift' AND relname = 'run_history'""");
    }

    @Test
    void runs_by_state_are_counted_without_reading_the_history() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type) VALUES ('history', 'sql')");
        db.execute("""
                INSERT INTO nightshift.run_history (id, job_name, trigger, params, state, max_attempts, attempt, node, run_at,
                                                    created_at, started_at, finished_at)
                SELECT nextval('nightshift.run_seq'), 'history', 'manual', '{}', 'succeeded', 1, 1, 'old', now() - interval '1 day',
                       now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'
                FROM generate_series(1, 200000)""");
        db.execute("""
                INSERT INTO nightshift.queue (id, job_name, trigger, max_attempts, attempt, run_at, settings)
                SELECT nextval('nightshift.run_seq'), 'history', 'manual', 1, s, now(), '{}' FROM generate_series(0, 2) s""");
        // one of the three running, for an owner
        db.execute("""
                WITH m AS (DELETE FROM nightshift.queue WHERE job_name = 'history' AND attempt = 2 RETURNING *)
                INSERT INTO nightshift.running (id, job_name, trigger, params, attempt, max_attempts, run_at, created_at, settings,
                                                owner, node, started_at)
                SELECT id, job_name, trigger, params, 1, max_attempts, run_at, created_at, settings, 1, 'n', now() FROM m""");
        db.execute("ANALYZE nightshift.run_history");
        long before = runRowsRead();

        // one session of its own, whose statistics are flushed when it ends
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(db.url());
        hc.setUsername(db.user());
        hc.setMaximumPoolSize(1);
        hc.addDataSourceProperty("ApplicationName", "gauges-under-test");
        Metrics metrics = Metrics.prometheus();
        // (held here: a gauge references its values weakly)
        DatabaseGauges gauges;
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            gauges = new DatabaseGauges(ds, metrics);
            gauges.refresh();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> db.queryLong(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gauges-under-test'") == 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> runRowsRead() > before);

        assertThat(runRowsRead() - before).as("rows of nightshift.run read by one refresh").isLessThan(1_000);
        var registry = metrics.registry();
        assertThat(registry.find("nightshift.queue.runs").tag("state", "available").gauge().value()).isEqualTo(2.0);
        assertThat(registry.find("nightshift.queue.runs").tag("state", "running").gauge().value()).isEqualTo(1.0);
        // an estimate beyond a size, from the planner's statistics of the table
        assertThat(registry.find("nightshift.queue.runs").tag("state", "succeeded").gauge().value()).isBetween(180_000.0, 220_000.0);
        gauges.close();
    }
}
