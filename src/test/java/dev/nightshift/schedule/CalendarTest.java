package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Schedule;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Business calendars: the days they exclude are no slots, for the scheduler, periods, backfills and {@code jobs}. */
@Tag("database")
class CalendarTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final Path REPO_CALENDAR = Path.of("jobs/calendars/fr-holidays.yaml");

    static JobsDir jobs;

    @BeforeAll
    static void sync() throws Exception {
        jobs = new JobsDir(db.tempDir(), "calendar")
                .sql("morning-report", "SELECT 1", "schedule:\n  cron: \"0 0 6 ? * MON-FRI\"\n  timezone: Europe/Paris\n"
                        + "  calendar: fr-holidays\n")
                .sql("month-close", "SELECT 1", "schedule:\n  cron: \"0 0 18 ? * MON-FRI\"\n  timezone: Europe/Paris\n"
                        + "  calendar: closing\n  pick: last-in-month\n")
                .sql("soon", "SELECT 1", "schedule:\n  cron: \"0 0 12 * * ?\"\n  calendar: next-days\n");
        Files.createDirectories(jobs.path().resolve("calendars"));
        Files.copy(REPO_CALENDAR, jobs.path().resolve("calendars/fr-holidays.yaml"));
        Files.writeString(jobs.path().resolve("calendars/closing.yaml"), """
                timezone: Europe/Paris
                dates: [2026-07-31]
                """);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        Files.writeString(jobs.path().resolve("calendars/next-days.yaml"), "dates: [" + today + ", " + today.plusDays(1) + ", "
                + today.plusDays(2) + ", " + today.plusDays(3) + "]\n");
        Cli.Result r = Cli.run(db.env(), "sync", "--jobs-dir", jobs.path().toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    static Schedule schedule(String job) {
        return JobCatalog.load(jobs.path()).find(job).orElseThrow().schedule();
    }

    static List<Instant> instants(String... s) {
        return java.util.Arrays.stream(s).map(Instant::parse).toList();
    }

    @Test
    void every_business_day_at_six_skips_weekends_and_holidays_and_its_period_starts_at_the_last_business_day() {
        Slots s = Slots.of(schedule("morning-report"));
        // Easter Monday 2026-04-06 is a holiday; Paris is on CEST (UTC+2)
        assertThat(s.between(Instant.parse("2026-04-02T00:00:00Z"), Instant.parse("2026-04-09T00:00:00Z"), 100))
                .isEqualTo(instants("2026-04-02T04:00:00Z", "2026-04-03T04:00:00Z", "2026-04-07T04:00:00Z", "2026-04-08T04:00:00Z"));
        assertThat(s.periodEndingAt(Instant.parse("2026-04-07T04:00:00Z")).start()).isEqualTo(Instant.parse("2026-04-03T04:00:00Z"));
        assertThat(s.isSlot(Instant.parse("2026-04-06T04:00:00Z"))).isFalse();
        assertThat(s.isSlot(Instant.parse("2026-12-25T05:00:00Z"))).as("yearly date").isFalse();
    }

    @Test
    void the_last_business_day_of_the_month_moves_back_when_the_last_weekday_is_excluded() {
        Slots s = Slots.of(schedule("month-close"));
        // 2026-05-29 is the last weekday of May; 2026-07-31 (a Friday) is excluded, so July closes on Thursday the 30th
        assertThat(s.between(Instant.parse("2026-05-01T00:00:00Z"), Instant.parse("2026-08-01T00:00:00Z"), 100))
                .isEqualTo(instants("2026-05-29T16:00:00Z", "2026-06-30T16:00:00Z", "2026-07-30T16:00:00Z"));
        assertThat(s.periodEndingAt(Instant.parse("2026-07-30T16:00:00Z")).start()).isEqualTo(Instant.parse("2026-06-30T16:00:00Z"));
    }

    @Test
    void a_fire_on_an_excluded_day_adds_no_run_and_one_on_a_business_day_does() throws Exception {
        fire("morning-report", Instant.parse("2026-04-06T04:00:00Z"));
        fire("morning-report", Instant.parse("2026-04-07T04:00:00Z"));

        assertThat(db.rows("SELECT scheduled_at, period_start FROM nightshift.run WHERE job_name = 'morning-report'"))
                .containsExactly("2026-04-07 04:00:00+00|2026-04-03 04:00:00+00");
    }

    @Test
    void jobs_shows_the_next_fire_after_the_excluded_days() {
        Cli.Result r = Cli.run(db.env(), "jobs");
        LocalDate open = LocalDate.now(ZoneOffset.UTC).plusDays(4);
        assertThat(r.out()).containsPattern("soon +sql +0 0 12 \\* \\* \\? except next-days +UTC +" + open + " 12:00:00")
                .contains("0 0 18 ? * MON-FRI except closing (last-in-month)");
    }

    @Test
    void a_backfill_skips_the_excluded_days() throws Exception {
        Backfills.Plan plan = new Backfills(db.dataSource(), java.time.Clock.systemUTC()).plan(new Backfills.Request("morning-report",
                Instant.parse("2026-04-30T00:00:00Z"), Instant.parse("2026-05-09T00:00:00Z"), Backfills.Reprocess.NONE, null, false));
        // May 1 and May 8 are holidays, the 2nd-3rd a weekend
        assertThat(plan.slots()).extracting(Backfills.SlotPlan::slot).isEqualTo(instants("2026-04-30T04:00:00Z",
                "2026-05-04T04:00:00Z", "2026-05-05T04:00:00Z", "2026-05-06T04:00:00Z", "2026-05-07T04:00:00Z"));
    }

    @Test
    void bad_calendars_are_reported_with_their_file_and_line_and_a_missing_one_at_the_schedules_line() throws Exception {
        JobsDir bad = new JobsDir(db.tempDir(), "bad-calendar")
                .sql("uses-broken", "SELECT 1", "schedule:\n  cron: \"0 0 6 * * ?\"\n  calendar: broken\n")
                .sql("uses-missing", "SELECT 1", "schedule:\n  cron: \"0 0 6 * * ?\"\n  calendar: nowhere\n")
                .sql("bad-pick", "SELECT 1", "schedule:\n  cron: \"0 0 6 * * ?\"\n  pick: middle\n");
        Files.createDirectories(bad.path().resolve("calendars"));
        Files.writeString(bad.path().resolve("calendars/broken.yaml"), """
                timezone: Mars/Olympus
                dates:
                  - 2026-02-30
                yearly: ["12-25", "13-01"]
                holidays: []
                """);
        Cli.Result r = Cli.run(db.env(), "validate", "--jobs-dir", bad.path().toString());

        assertThat(r.exitCode()).isEqualTo(2);
        String out = r.out() + r.err();
        assertThat(out).contains("broken.yaml:1: timezone: unknown time zone 'Mars/Olympus'")
                .contains("broken.yaml:3: dates: '2026-02-30' is not a date")
                .contains("broken.yaml:4: yearly: '13-01' is not a month and day")
                .contains("broken.yaml:5: unknown field 'holidays'")
                .contains("uses-missing.yaml:5: schedule.calendar: no calendar 'nowhere'")
                .contains("bad-pick.yaml:5: schedule.pick must be first-in-month or last-in-month, got 'middle'");
    }

    private static void fire(String job, Instant slot) throws Exception {
        Schedule schedule = schedule(job);
        Fires.fire(db.dataSource(), schedule, slot);
    }
}
