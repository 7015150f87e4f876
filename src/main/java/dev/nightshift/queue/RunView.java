package dev.nightshift.queue;

import java.time.Instant;
import java.util.Map;

/** One run as operators see it (CLI, HTTP): the stable shape of {@code --json} output. */
public record RunView(
        long id,
        String job,
        String state,
        String trigger,
        Map<String, String> params,
        String dedupeKey,
        Instant scheduledAt,
        Long parentRunId,
        int attempt,
        int maxAttempts,
        Instant runAt,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        String node,
        Integer backendPid,
        boolean cancelRequested,
        Map<String, Long> counts,
        String lastError,
        String lastErrorSqlstate) {

    public boolean finished() {
        return state.equals("succeeded") || state.equals("dead") || state.equals("cancelled");
    }
}
