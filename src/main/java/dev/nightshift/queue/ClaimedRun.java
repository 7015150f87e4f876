package dev.nightshift.queue;

import java.time.Instant;
import java.util.Map;

/**
 * A run this node has claimed: identified by id and attempt, which together prove ownership in every update.
 *
 * @param sessionTimeoutMs when the claim also set the run's settings on the claiming session (a
 *                         worker claiming its own next run), the statement_timeout it set; else null
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
        Long sessionTimeoutMs) {
}
