package dev.nightshift.jobs;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.metrics.Metrics;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/**
 * An attempt outside the queue, on a connection the caller owns: what {@code bench import} and the
 * job-type tests run a job type with. It does what the worker's execution does for a
 * transactional type (open transaction, execute, commit), with no run row. Not thread-safe.
 */
public final class DirectAttempt implements Attempt {
    private final long runId;
    private final JobDefinition definition;
    private final Connection connection;
    private final Metrics metrics;
    private final Runnable afterCommitStep;
    private final Map<String, String> params;

    /** @param afterCommitStep runs after each intermediate commit (a test can simulate a crash there) */
    public DirectAttempt(long runId, JobDefinition definition, Connection connection, Metrics metrics, Runnable afterCommitStep) {
        this(runId, definition, connection, metrics, afterCommitStep, Map.of());
    }

    /** @param params the run's parameters, as a trigger gives them */
    public DirectAttempt(long runId, JobDefinition definition, Connection connection, Metrics metrics, Runnable afterCommitStep,
                         Map<String, String> params) {
        this.params = Map.copyOf(params);
        this.runId = runId;
        this.definition = definition;
        this.connection = connection;
        this.metrics = metrics;
        this.afterCommitStep = afterCommitStep == null ? () -> { } : afterCommitStep;
    }

    /** Executes the job in one attempt on {@code c} and commits; rolls back and rethrows on failure. */
    public Map<String, Long> run() throws Exception {
        connection.setAutoCommit(false);
        try {
            Map<String, Long> counts = JobTypes.standard().execute(this);
            connection.commit();
            return counts;
        } catch (Exception | Error e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
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
        return params;
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
        return metrics;
    }

    @Override
    public void commitStep() throws SQLException {
        connection.commit();
        afterCommitStep.run();
    }
}
