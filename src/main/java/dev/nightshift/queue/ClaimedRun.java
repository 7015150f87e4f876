package dev.nightshift.queue;

import java.time.Instant;
import java.util.Map;

/** A run this node has claimed: identified by id and attempt, which together prove ownership in every update. */
public record ClaimedRun(
        long id,
        String jobName,
        int attempt,
        int maxAttempts,
        String trigger,
        Map<String, String> params,
        Instant createdAt,
        Instant startedAt,
        String node) {
}
