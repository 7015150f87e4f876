package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The deadline watch wakes just after the next deadline, at most every refresh interval, at least a second apart. */
class DeadlineWakeTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration EVERY = Duration.ofSeconds(30);

    @Test
    void the_watch_wakes_at_the_next_deadline_bounded_both_ways() {
        assertThat(DeadlineWatch.delay(NOW, NOW.plusSeconds(5), EVERY)).isEqualTo(Duration.ofMillis(5200));
        assertThat(DeadlineWatch.delay(NOW, NOW.plusSeconds(500), EVERY)).isEqualTo(EVERY);
        assertThat(DeadlineWatch.delay(NOW, NOW.plusMillis(10), EVERY)).isEqualTo(Duration.ofSeconds(1));
        assertThat(DeadlineWatch.delay(NOW, null, EVERY)).isEqualTo(EVERY);
    }
}
