package dev.nightshift.queue;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A run to enqueue.
 *
 * @param dedupeKey   unique across all runs: a second enqueue with the same key returns the first run
 * @param runAt       earliest start; null for now
 * @param period      the run's slot and period, or null (then an {@code after:} run inherits its parent's)
 */
public record NewRun(
        String jobName,
        Trigger trigger,
        Map<String, String> params,
        String dedupeKey,
        Instant runAt,
        Period period,
        Long parentRunId) {

    public enum Trigger {
        SCHEDULE("schedule"), MANUAL("manual"), AFTER("after");

        private final String dbName;

        Trigger(String dbName) {
            this.dbName = dbName;
        }

        public String dbName() {
            return dbName;
        }
    }

    public NewRun {
        Objects.requireNonNull(jobName, "jobName");
        Objects.requireNonNull(trigger, "trigger");
        params = params == null ? Map.of() : Map.copyOf(params);
    }

    public static NewRun manual(String job, Map<String, String> params, String idempotencyKey) {
        return manual(job, params, idempotencyKey, null);
    }

    /** A manual run standing for {@code period}'s slot (null: none). */
    public static NewRun manual(String job, Map<String, String> params, String idempotencyKey, Period period) {
        return new NewRun(job, Trigger.MANUAL, params,
                idempotencyKey == null ? null : "manual:" + job + ":" + idempotencyKey, null, period, null);
    }
}
