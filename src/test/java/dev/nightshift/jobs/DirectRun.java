package dev.nightshift.jobs;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.metrics.Metrics;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Runs one job type directly on a real connection through {@link DirectAttempt}, without the
 * queue: for the job-type tests.
 */
final class DirectRun {
    private static final AtomicLong RUN_IDS = new AtomicLong(1_000_000);
    /** Shared by every direct run of the test JVM, so that tests can read the meters a run recorded. */
    static final Metrics METRICS = Metrics.prometheus();

    private DirectRun() {
    }

    /** Applies nightshift's migrations to the test database (the job types write to its tables). */
    static void migrate(dev.nightshift.testing.TestDatabase db) {
        try (dev.nightshift.db.Database d = dev.nightshift.db.Database.open(db.settings(db.tempDir()), 2)) {
            d.migrate();
        }
    }

    static JobDefinition definition(Path jobsDir, String name) {
        return JobCatalog.load(jobsDir).find(name).orElseThrow();
    }

    /** Executes the job in one attempt and commits; rolls back and rethrows on failure. */
    static Map<String, Long> run(DataSource ds, JobDefinition def) throws Exception {
        return run(ds, def, null);
    }

    /** {@code afterCommitStep} runs after each intermediate commit (a test can simulate a crash there). */
    static long nextRunId() {
        return RUN_IDS.incrementAndGet();
    }

    static Map<String, Long> run(DataSource ds, JobDefinition def, Runnable afterCommitStep) throws Exception {
        try (Connection c = ds.getConnection()) {
            return new DirectAttempt(RUN_IDS.incrementAndGet(), def, c, METRICS, afterCommitStep).run();
        }
    }
}
