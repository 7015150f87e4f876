package dev.nightshift.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** {@code deadline:} of a definition: parsed, and turned into an instant for a slot. */
class DeadlineRuleTest {
    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    @Test
    void a_duration_or_a_time_of_day_is_read() {
        assertThat(Deadline.parse("2h")).isEqualTo(new Deadline(Duration.ofHours(2), null));
        assertThat(Deadline.parse("6:00")).isEqualTo(new Deadline(null, LocalTime.of(6, 0)));
        assertThat(Deadline.parse(" 18:30 ").text()).isEqualTo("18:30");
        assertThat(Deadline.parse("1h30m").text()).isEqualTo("1h30m");
    }

    @Test
    void zero_nonsense_and_impossible_times_are_refused() {
        for (String bad : new String[] {"0s", "soon", "25:00", "-2h"}) {
            assertThatThrownBy(() -> Deadline.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad + "' is");
        }
    }

    @Test
    void a_duration_counts_from_the_slot() {
        Instant slot = Instant.parse("2026-03-02T05:00:00Z");
        assertThat(Deadline.parse("90m").of(slot, PARIS)).isEqualTo(Instant.parse("2026-03-02T06:30:00Z"));
    }

    @Test
    void a_time_of_day_is_the_first_one_at_or_after_the_slot_in_the_schedules_zone() {
        Deadline six = Deadline.parse("06:00");
        // 04:00 Paris (CET, UTC+1): 06:00 the same day
        assertThat(six.of(Instant.parse("2026-03-02T03:00:00Z"), PARIS)).isEqualTo(Instant.parse("2026-03-02T05:00:00Z"));
        // 22:00 Paris: 06:00 the next day
        assertThat(six.of(Instant.parse("2026-03-02T21:00:00Z"), PARIS)).isEqualTo(Instant.parse("2026-03-03T05:00:00Z"));
        // exactly 06:00: that same instant
        assertThat(six.of(Instant.parse("2026-03-02T05:00:00Z"), PARIS)).isEqualTo(Instant.parse("2026-03-02T05:00:00Z"));
        // across the spring change, 06:00 CEST is 04:00 UTC
        assertThat(six.of(Instant.parse("2026-03-28T23:00:00Z"), PARIS)).isEqualTo(Instant.parse("2026-03-29T04:00:00Z"));
    }
}
