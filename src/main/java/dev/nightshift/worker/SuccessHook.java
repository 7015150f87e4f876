package dev.nightshift.worker;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.queue.ClaimedRun;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Called inside the transaction that marks a run succeeded, before it commits (for transactional
 * jobs, after the work and just before the completion): whatever it writes commits with the
 * completion or not at all (used to enqueue {@code after:} dependents).
 */
@FunctionalInterface
public interface SuccessHook {
    void onSuccess(Connection tx, ClaimedRun run, JobDefinition definition) throws SQLException;
}
