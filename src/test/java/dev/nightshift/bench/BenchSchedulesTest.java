package dev.nightshift.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.text.ParseException;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import org.junit.jupiter.api.Test;
import org.quartz.CronExpression;

/** bench schedule's distinct schedules: enough of them for 1,000 and more, every one firing at second 0 of every minute. */
class BenchSchedulesTest {
    @Test
    void every_cron_text_is_distinct_and_fires_at_second_0_of_every_minute() throws ParseException {
        assertThat(new HashSet<>(BenchScheduleCommand.CRONS)).hasSize(BenchScheduleCommand.CRONS.size());
        assertThat(BenchScheduleCommand.MAX_SCHEDULES).isGreaterThanOrEqualTo(1000);
        Instant from = Instant.parse("2026-12-31T23:58:30Z");
        for (String cron : BenchScheduleCommand.CRONS) {
            CronExpression e = new CronExpression(cron);
            Date first = e.getNextValidTimeAfter(Date.from(from));
            Date second = e.getNextValidTimeAfter(first);
            assertThat(first.toInstant()).as(cron).isEqualTo(Instant.parse("2026-12-31T23:59:00Z"));
            assertThat(second.toInstant()).as(cron).isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
        }
    }
}
