package dev.nightshift.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.Schedule;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** The longest gap between slots, which the lateness alert waits twice for; from a fixed instant. */
class ExpectedIntervalTest {
    private static final Instant WEDNESDAY = Instant.parse("2026-03-04T12:00:00Z");
    private static final ZoneId UTC = ZoneId.of("UTC");

    private static Duration of(String cron, ZoneId zone) {
        return ExpectedInterval.of(new Schedule(cron, zone, Schedule.Misfire.FIRE_ONCE), WEDNESDAY);
    }

    @Test
    void a_weekday_job_waits_out_the_weekend() {
        assertThat(of("0 0 6 ? * MON-FRI", UTC)).isEqualTo(Duration.ofDays(3));
    }

    @Test
    void an_every_five_minutes_job_has_five_minutes() {
        assertThat(of("0 */5 * * * ?", UTC)).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void a_daily_job_at_an_hour_the_spring_change_skips_waits_two_days_less_an_hour() {
        // 02:00 does not happen in Paris on 29 March 2026: from 28 March 02:00 CET to 30 March 02:00 CEST
        assertThat(of("0 0 2 * * ?", ZoneId.of("Europe/Paris"))).isEqualTo(Duration.ofHours(47));
    }

    @Test
    void a_single_date_has_no_interval() {
        assertThat(of("0 0 12 1 1 ? 2030", UTC)).isNull();
    }

    @Test
    void the_answer_depends_only_on_the_instant_given() {
        Schedule monthly = new Schedule("0 0 0 1 * ?", UTC, Schedule.Misfire.FIRE_ONCE);
        assertThat(ExpectedInterval.of(monthly, WEDNESDAY)).isEqualTo(ExpectedInterval.of(monthly, WEDNESDAY));
        assertThat(ExpectedInterval.of(monthly, WEDNESDAY)).isEqualTo(Duration.ofDays(31));
    }
}
