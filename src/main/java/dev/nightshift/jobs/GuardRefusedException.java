package dev.nightshift.jobs;

import java.util.Map;

/**
 * A guard refused the run's change (see {@link GuardCheck}): the transaction rolls back, so the target
 * is as it was, and the run goes straight to {@code dead}. {@link #counts()} are the figures the
 * guard judged, with the guard's name under {@code "guard"}, for the run's counts.
 */
public final class GuardRefusedException extends JobFailedException {
    private final String guard;
    private final Map<String, Object> counts;

    GuardRefusedException(String guard, String message, Map<String, Object> counts) {
        super(message);
        this.guard = guard;
        this.counts = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(counts));
    }

    /** min_rows, max_delete, max_change or assert. */
    public String guard() {
        return guard;
    }

    public Map<String, Object> counts() {
        return counts;
    }
}
