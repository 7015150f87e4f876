package dev.nightshift.queue;

import dev.nightshift.audit.Actor;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A run to enqueue.
 *
 * @param dedupeKey   unique across all runs: a second enqueue with the same key returns the first run
 * @param runAt       earliest start; null for now
 * @param period      the run's slot and period, or null (then an {@code after:} run inherits its parent's)
 * @param actor       who asked for it (recorded on the run, and its trigger in the audit table, in the
 *                    enqueue's transaction), or null for the scheduler's own runs (an {@code after:}
 *                    run inherits its parent's)
 */
public record NewRun(
        String jobName,
        Trigger trigger,
        Map<String, String> params,
        String dedupeKey,
        Instant runAt,
        Period period,
        Long parentRunId,
        Actor actor) {

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

    /** A run no operator asked for: a schedule's fire, a dependent, an arrival. */
    public NewRun(String jobName, Trigger trigger, Map<String, String> params, String dedupeKey, Instant runAt, Period period,
                  Long parentRunId) {
        this(jobName, trigger, params, dedupeKey, runAt, period, parentRunId, null);
    }

    /** This run, asked for by {@code by}. */
    public NewRun by(Actor by) {
        return new NewRun(jobName, trigger, params, dedupeKey, runAt, period, parentRunId, by);
    }

    public NewRun {
        Objects.requireNonNull(jobName, "jobName");
        Objects.requireNonNull(trigger, "trigger");
        params = params == null ? Map.of() : Map.copyOf(params);
    }

    /**
     * A run asked for by an operator. Without an idempotency key, one is made for this request, so
     * that a retry after a lost COMMIT reply finds the run instead of inserting a second one (its
     * own namespace: it can never equal a caller's key).
     */
    public static NewRun manual(String job, Map<String, String> params, String idempotencyKey) {
        return manual(job, params, idempotencyKey, null);
    }

    /** A manual run standing for {@code period}'s slot (null: none). */
    public static NewRun manual(String job, Map<String, String> params, String idempotencyKey, Period period) {
        return new NewRun(job, Trigger.MANUAL, params,
                idempotencyKey == null ? DedupeKey.request(job) : DedupeKey.manual(job, idempotencyKey),
                null, period, null);
    }

    /** Whether the dedupe key was made for this request rather than given by the caller. */
    boolean requestKey() {
        return dedupeKey != null && dedupeKey.startsWith(DedupeKey.REQUEST);
    }
}
