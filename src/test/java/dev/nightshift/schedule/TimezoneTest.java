package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.testing.JobsDir;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.quartz.TriggerUtils;
import org.quartz.spi.OperableTrigger;

/** Fire times computed from the triggers nightshift builds, across DST changes; nothing waits for the clock. */
class TimezoneTest {
    private static List<Instant> fires(String cron, String zone, String from, String to) throws Exception {
        String tz = zone == null ? "" : "  timezone: " + zone + "\n";
        JobsDir dir = new JobsDir(Files.createTempDirectory("tz"), "jobs").sql("daily", "SELECT 1",
                "schedule:\n  cron: \"" + cron + "\"\n" + tz);
        JobDefinition d = JobCatalog.load(dir.path()).find("daily").orElseThrow();
        OperableTrigger t = (OperableTrigger) Triggers.trigger(d.schedule());
        t.setStartTime(Date.from(Instant.parse(from)));
        return TriggerUtils.computeFireTimesBetween(t, null, Date.from(Instant.parse(from)), Date.from(Instant.parse(to)))
                .stream().map(Date::toInstant).toList();
    }

    private static List<Instant> instants(String... s) {
        return java.util.Arrays.stream(s).map(Instant::parse).toList();
    }

    @Test
    void daily_0230_in_paris_is_skipped_on_the_spring_day_when_0230_does_not_exist() throws Exception {
        // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST; 02:30 local never happens.
        assertThat(fires("0 30 2 * * ?", "Europe/Paris", "2026-03-27T00:00:00Z", "2026-04-01T00:00:00Z"))
                .isEqualTo(instants("2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"));
    }

    @Test
    void daily_0230_in_paris_fires_once_on_the_autumn_day_when_0230_happens_twice() throws Exception {
        // 2026-10-25: clocks go from 03:00 CEST back to 02:00 CET; Quartz fires at the second 02:30 (CET) only.
        assertThat(fires("0 30 2 * * ?", "Europe/Paris", "2026-10-23T00:00:00Z", "2026-10-28T00:00:00Z"))
                .isEqualTo(instants("2026-10-23T00:30:00Z", "2026-10-24T00:30:00Z", "2026-10-25T01:30:00Z",
                        "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"));
    }

    @Test
    void hourly_job_in_paris_fires_once_in_the_repeated_autumn_hour() throws Exception {
        // Quartz skips the first 02:30 (CEST, 00:30Z): two real hours pass between 01:30 CEST and 02:30 CET.
        assertThat(fires("0 30 * * * ?", "Europe/Paris", "2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z"))
                .isEqualTo(instants("2026-10-24T23:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z"));
    }

    @Test
    void schedule_without_timezone_runs_in_utc_through_the_paris_dst_changes() throws Exception {
        assertThat(fires("0 30 2 * * ?", null, "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z"))
                .isEqualTo(instants("2026-03-28T02:30:00Z", "2026-03-29T02:30:00Z", "2026-03-30T02:30:00Z"));
    }
}
