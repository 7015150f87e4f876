package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The retry delay: doubled per failed attempt, ±20 % jitter, capped; computed, nothing waits. */
class BackoffTest {
    private static final Duration BASE = Duration.ofSeconds(30);
    private static final int SAMPLES = 2_000;

    @Test
    void each_delay_lies_within_twenty_percent_of_the_doubled_base() {
        for (int attempt = 1; attempt <= 8; attempt++) {
            long nominal = BASE.toMillis() << (attempt - 1);
            for (int i = 0; i < SAMPLES; i++) {
                long d = Backoff.delay(BASE, attempt).toMillis();
                assertThat(d).as("attempt %d", attempt).isBetween((long) (nominal * 0.8), (long) (nominal * 1.2));
            }
        }
    }

    @Test
    void the_jitter_spreads_delays_rather_than_repeating_one_value() {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < SAMPLES; i++) {
            long d = Backoff.delay(BASE, 1).toMillis();
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        // 2,000 uniform draws over 24 s..36 s: the spread is all but certain to exceed 10 s
        assertThat(max - min).isGreaterThan(10_000);
    }

    @Test
    void every_delay_is_longer_than_any_delay_of_the_attempt_before() {
        for (int attempt = 1; attempt < 8; attempt++) {
            long longestBefore = 0;
            long shortestAfter = Long.MAX_VALUE;
            for (int i = 0; i < SAMPLES; i++) {
                longestBefore = Math.max(longestBefore, Backoff.delay(BASE, attempt).toMillis());
                shortestAfter = Math.min(shortestAfter, Backoff.delay(BASE, attempt + 1).toMillis());
            }
            assertThat(shortestAfter).as("attempt %d", attempt + 1).isGreaterThan(longestBefore);
        }
    }

    @Test
    void delays_stop_growing_at_six_hours_even_after_very_many_attempts() {
        assertThat(Backoff.delay(BASE, 20)).isEqualTo(Backoff.CAP);
        assertThat(Backoff.delay(BASE, 1_000)).isEqualTo(Backoff.CAP);
        assertThat(Backoff.delay(Duration.ofHours(10), 1)).isEqualTo(Backoff.CAP);
    }
}
