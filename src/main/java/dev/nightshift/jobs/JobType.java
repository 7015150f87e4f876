package dev.nightshift.jobs;

import dev.nightshift.config.JobDefinition;
import java.util.Map;

/**
 * One kind of job (sql, batch-import, ...). Implementations are stateless and thread-safe: one
 * instance serves every run of its kind.
 */
public interface JobType {

    /**
     * Whether the attempt's work and the run's transition to succeeded commit in one transaction
     * (exactly-once effect). If true, {@link #execute} gets a connection inside an open transaction
     * and must not end it, except to commit self-contained idempotent steps (see {@link Attempt}).
     */
    boolean transactional(JobDefinition definition);

    /**
     * Does the work of one attempt on {@link Attempt#connection()}.
     *
     * @return result counts (e.g. read, inserted, updated); empty when the job has none
     * @throws JobFailedException for a failure that retrying cannot fix (bad input)
     * @throws Exception          any other failure; the attempt is retried with backoff
     */
    Map<String, Long> execute(Attempt attempt) throws Exception;
}
