package dev.nightshift.schedule;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.queue.ClaimedRun;
import dev.nightshift.queue.DedupeKey;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.worker.SuccessHook;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code after:} chaining. Inside the transaction that marks a run succeeded, enqueues one run of
 * each job listing the run's job in {@code after:}. Committing with the completion means a
 * dependent is never lost; its dedupe key {@code after:<parent run>:<job>} means it is never
 * doubled. A dependent inherits its parent's slot and period. Paused and removed dependents get nothing. Thread-safe.
 */
public final class AfterChain implements SuccessHook {
    private static final Logger log = LoggerFactory.getLogger(AfterChain.class);

    /** Job name → the jobs that run after it. */
    private final Map<String, List<String>> dependents;
    private final RunQueue queue;

    public AfterChain(JobCatalog catalog, RunQueue queue) {
        this.queue = queue;
        this.dependents = catalog.all().stream()
                .flatMap(d -> d.after().stream().map(parent -> Map.entry(parent, d.name())))
                .collect(Collectors.groupingBy(Map.Entry::getKey, Collectors.mapping(Map.Entry::getValue, Collectors.toList())));
    }

    @Override
    public void onSuccess(Connection tx, ClaimedRun run, JobDefinition definition) throws SQLException {
        for (String job : dependents.getOrDefault(run.jobName(), List.of())) {
            Boolean paused = paused(tx, job);
            if (paused == null || paused) {
                log.info("run {} of job {}: dependent job {} is {}: not enqueued", run.id(), run.jobName(), job,
                        paused == null ? "not in the database's catalog" : "paused");
                continue;
            }
            NewRun next = new NewRun(job, NewRun.Trigger.AFTER, Map.of(), DedupeKey.after(run.id(), job), null, null, run.id());
            try {
                RunQueue.Enqueued e = queue.enqueue(tx, next);
                log.info("run {} of job {}: run {} of job {} {} with its completion", run.id(), run.jobName(), e.id(), job,
                        e.created() ? "enqueued" : "was already enqueued");
            } catch (RunQueue.UnknownJobException ex) {
                // removed by a sync since the check above; the parent's success must still commit
                log.info("dependent job {} was removed meanwhile: not enqueued", job);
            }
        }
    }

    /** Null when the job is unknown or removed. */
    private static Boolean paused(Connection c, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT paused FROM nightshift.job WHERE name = ? AND removed_at IS NULL")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBoolean(1) : null;
            }
        }
    }
}
