package dev.nightshift.queue;

import java.time.Instant;
import java.util.Map;

/**
 * A run a worker owns: its id, attempt and owner key together prove ownership in every statement
 * that ends it or gives it back.
 *
 * @param owner       the owner key of the worker connection the run was claimed for
 * @param slot        the job slot the run holds, null for a job without a limit
 * @param settings    the run's session settings, prepared at enqueue (nightshift.run_settings), with
 *                    {@code nightshift.attempt}
 * @param settingsSet whether the claim already set them on the owner's session (the fast claim does)
 */
public record ClaimedRun(
        long id,
        String jobName,
        int attempt,
        int maxAttempts,
        String trigger,
        Map<String, String> params,
        Instant createdAt,
        Instant startedAt,
        String node,
        long owner,
        Integer slot,
        Map<String, String> settings,
        boolean settingsSet) {

    /** The names of this run's parameters as settings ({@code nightshift.param.NAME}). */
    public java.util.List<String> paramSettings() {
        return params.keySet().stream().map(k -> "nightshift.param." + k).toList();
    }
}
