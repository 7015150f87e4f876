package dev.nightshift.queue;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A run to enqueue.
 *
 * @param dedupeKey   unique across all runs: a second enqueue with the same key returns the first run
 * @param runAt       earliest start; null for now
 * @param scheduledAt the Quartz fire time of a scheduled run; null otherwise
 */
public record NewRun(
        String jobName,
        Trigger trigger,
        Map<String, String> params,
        String dedupeKey,
        Instant runAt,
        Instant scheduledAt,
        Long parentRunId) {

    public enum Trigger {
        SCHEDULE("schedule"), MANUAL("manual"), AFTER("after"), ARRIVAL("arrival");

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
        return new NewRun(job, Trigger.MANUAL, params,
                idempotencyKey == null ? null : "manual:" + job + ":" + idempotencyKey, null, null, null);
    }
}
