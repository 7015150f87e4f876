package dev.nightshift.jobs;

import dev.nightshift.config.JobDefinition;
import java.sql.Connection;
import java.util.Map;

/**
 * What a job type sees of the attempt it executes. Used by one worker thread only.
 *
 * <p>The connection carries the run's session settings: {@code nightshift.run_id},
 * {@code nightshift.job_name}, {@code nightshift.attempt} and each trigger parameter as
 * {@code nightshift.param.<name>}, readable in SQL with {@code current_setting(...)}, and the job's
 * timeout as {@code statement_timeout}.
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
}
