package dev.nightshift.jobs;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.runlog.RunLog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/**
 * What a job type sees of the attempt it executes. Used by one worker thread only.
 *
 * <p>The connection carries the run's session settings: {@code nightshift.run_id},
 * {@code nightshift.job_name}, {@code nightshift.attempt}, each trigger parameter as
 * {@code nightshift.param.<name>}, and the run's logical time as {@code nightshift.scheduled_at},
 * {@code nightshift.period_start} and {@code nightshift.period_end} (ISO-8601 with offset, empty
 * without a period), readable in SQL with {@code current_setting(...)}, and the job's timeout as
 * {@code statement_timeout}.
 */
public interface Attempt {
    long runId();

    int attempt();

    JobDefinition definition();

    /** Parameters given when the run was triggered. */
    Map<String, String> params();

    Connection connection();

    /** True once an operator asked to cancel this run, or the node is shutting down. */
    boolean stopRequested();

    /** The node's meters, for type-specific counts such as imported rows. */
    Metrics metrics();

    /**
     * Transactional types only: commits the work so far as a self-contained, idempotent step (one
     * imported file) and opens the next transaction with the run's session settings again, which a
     * commit would otherwise drop (they are SET LOCAL).
     */
    void commitStep() throws SQLException;

    /**
     * The attempt's run log: what the job's statements said (server notices) and did (tags, rows,
     * durations, phases). Written apart from the attempt's transaction; nothing by default.
     */
    default RunLog log() {
        return RunLog.NONE;
    }
}
