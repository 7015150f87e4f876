package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.queue.Period;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** Slots and periods of schedules, across DST changes; computed, nothing waits for the clock. */
class SlotsTest {
    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    @Test
    void a_daily_period_in_paris_lasts_23_hours_across_the_spring_change_and_25_across_the_autumn_one() {
        Slots midnight = Slots.of("0 0 0 * * ?", PARIS);

        // 2026-03-29 00:00 CET (23:00Z the day before) to 2026-03-30 00:00 CEST (22:00Z)
        Period spring = midnight.periodEndingAt(Instant.parse("2026-03-29T22:00:00Z"));
        assertThat(spring.start()).isEqualTo(Instant.parse("2026-03-28T23:00:00Z"));
        assertThat(Duration.between(spring.start(), spring.end())).isEqualTo(Duration.ofHours(23));

        Period autumn = midnight.periodEndingAt(Instant.parse("2026-10-25T23:00:00Z"));
        assertThat(autumn.start()).isEqualTo(Instant.parse("2026-10-24T22:00:00Z"));
        assertThat(Duration.between(autumn.start(), autumn.end())).isEqualTo(Duration.ofHours(25));
        assertThat(autumn.zone()).isEqualTo(PARIS);
    }

    @Test
    void the_period_after_a_local_time_that_did_not_exist_starts_at_the_slot_quartz_fired_before_it() {
        // 02:30 did not happen in Paris on 2026-03-29, and Quartz fired no slot that day (TimezoneTest)
        Slots s = Slots.of("0 30 2 * * ?", PARIS);
        assertThat(s.periodEndingAt(Instant.parse("2026-03-30T00:30:00Z")).start()).isEqualTo(Instant.parse("2026-03-28T01:30:00Z"));
    }

    @Test
    void hourly_slots_through_the_repeated_autumn_hour_are_the_ones_quartz_fires() {
        Slots s = Slots.of("0 30 * * * ?", PARIS);
        assertThat(s.between(Instant.parse("2026-10-24T23:00:00Z"), Instant.parse("2026-10-25T03:00:00Z"), 100))
                .containsExactly(Instant.parse("2026-10-24T23:30:00Z"), Instant.parse("2026-10-25T01:30:00Z"),
                        Instant.parse("2026-10-25T02:30:00Z"));
        assertThat(s.previous(Instant.parse("2026-10-25T01:30:00Z"))).isEqualTo(Instant.parse("2026-10-24T23:30:00Z"));
    }

    @Test
    void a_monthly_slot_has_the_previous_month_as_its_period_and_only_slots_are_slots() {
        Slots monthly = Slots.of("0 0 3 1 * ?", ZoneId.of("UTC"));
        assertThat(monthly.previous(Instant.parse("2026-03-01T03:00:00Z"))).isEqualTo(Instant.parse("2026-02-01T03:00:00Z"));
        assertThat(monthly.isSlot(Instant.parse("2026-03-01T03:00:00Z"))).isTrue();
        assertThat(monthly.isSlot(Instant.parse("2026-03-01T03:00:01Z"))).isFalse();
        assertThat(monthly.latestAtOrBefore(Instant.parse("2026-03-17T12:00:00Z"))).isEqualTo(Instant.parse("2026-03-01T03:00:00Z"));
        assertThat(monthly.latestAtOrBefore(Instant.parse("2026-03-01T03:00:00Z"))).isEqualTo(Instant.parse("2026-03-01T03:00:00Z"));
    }

    @Test
    void a_schedule_limited_to_past_years_has_no_previous_slot_before_its_first() {
        Slots once = Slots.of("0 0 0 1 1 ? 2020", ZoneId.of("UTC"));
        assertThat(once.previous(Instant.parse("2020-01-01T00:00:00Z"))).isNull();
        assertThat(once.periodEndingAt(Instant.parse("2020-01-01T00:00:00Z")).start()).isEqualTo(Instant.parse("2020-01-01T00:00:00Z"));
    }
}
