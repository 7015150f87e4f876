package dev.nightshift.jobs;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.metrics.Metrics;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Runs one job type directly on a real connection, the way the worker's execution does for a
 * transactional type (open transaction, execute, commit), without the queue: for the job-type tests.
 * {@code afterCommitStep} runs after each intermediate commit (a test can simulate a crash there).
 */
final class DirectRun implements Attempt {
    private static final AtomicLong RUN_IDS = new AtomicLong(1_000_000);

    final long runId = RUN_IDS.incrementAndGet();
    /** Shared by every direct run of the test JVM, so that tests can read the meters a run recorded. */
    static final Metrics METRICS = Metrics.prometheus();
    private final JobDefinition definition;
    private final Connection connection;
    private Runnable afterCommitStep = () -> { };

    private DirectRun(JobDefinition definition, Connection connection) {
        this.definition = definition;
        this.connection = connection;
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

    static Map<String, Long> run(DataSource ds, JobDefinition def, Runnable afterCommitStep) throws Exception {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            DirectRun a = new DirectRun(def, c);
            if (afterCommitStep != null) {
                a.afterCommitStep = afterCommitStep;
            }
            try {
                Map<String, Long> counts = JobTypes.standard().get(def.kind()).execute(a);
                c.commit();
                return counts;
            } catch (Exception | Error e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    @Override
    public long runId() {
        return runId;
    }

    @Override
    public int attempt() {
        return 1;
    }

    @Override
    public JobDefinition definition() {
        return definition;
    }

    @Override
    public Map<String, String> params() {
        return Map.of();
    }

    @Override
    public Connection connection() {
        return connection;
    }

    @Override
    public boolean stopRequested() {
        return false;
    }

    @Override
    public Metrics metrics() {
        return METRICS;
    }

    @Override
    public void commitStep() throws SQLException {
        connection.commit();
        afterCommitStep.run();
    }
}
