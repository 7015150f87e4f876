package dev.nightshift.worker;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Delay before the next attempt: {@code backoff} doubled per failed attempt, with ±20% jitter so
 * that runs failing together do not retry together, capped at 6 hours. With ±20%, the delay after
 * attempt n+1 is always longer than after attempt n (1.2 &lt; 2 × 0.8).
 */
final class Backoff {
    static final Duration CAP = Duration.ofHours(6);

    private Backoff() {
    }

    static Duration delay(Duration base, int failedAttempt) {
        double factor = Math.pow(2, Math.min(failedAttempt - 1, 30)) * ThreadLocalRandom.current().nextDouble(0.8, 1.2);
        double millis = Math.min(base.toMillis() * factor, CAP.toMillis());
        return Duration.ofMillis((long) millis);
    }
}
