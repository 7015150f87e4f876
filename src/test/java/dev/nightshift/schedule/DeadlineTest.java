package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Deadline;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Deadlines: a slot is late from its deadline on, while its run waits, runs or is dead, or when it
 * never fired, until a run of that slot succeeds. The clock is stepped; a daemon does the running.
 */
@Tag("database")
class DeadlineTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static JobsDir jobs;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        db.execute("CREATE TABLE gate (open boolean NOT NULL)");
        db.execute("INSERT INTO gate VALUES (false)");
        jobs = new JobsDir(db.tempDir(), "deadline")
                // runs until the test opens the gate (polling a committed row), so it is running for as long as the test wants
                .sql("morning", """
                        DO $$ BEGIN
                          WHILE NOT (SELECT open FROM gate) LOOP PERFORM pg_sleep(0.05); END LOOP;
                        END $$""", "schedule:\n  cron: \"0 0 5 * * ?\"\ndeadline: 2h\nmax_attempts: 1\n")
                .sql("every-minute", "SELECT 1", "schedule:\n  cron: \"0 * * * * ?\"\ndeadline: 30s\n");
        Daemon daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path()), ClusterFiringTest.FAST));
        http = new Http(daemon.httpPort());
        // the job was first synced just before the slots these tests fire
        db.execute("UPDATE nightshift.job SET created_at = '2026-03-10T00:00Z', paused = (name = 'every-minute')");
    }

    static Lateness.Late lateAt(String job, String now) throws Exception {
        return new Lateness(db.dataSource(), Clock.fixed(Instant.parse(now), ZoneOffset.UTC)).all().get(job);
    }

    static void fire(String job, Instant slot) throws Exception {
        var schedule = JobCatalog.load(jobs.path()).find(job).orElseThrow().schedule();
        Fires.fire(db.dataSource(), schedule, slot);
    }

    @Test
    void a_running_slot_is_late_from_its_deadline_a_missed_fire_too_and_a_success_clears_each() throws Exception {
        Instant first = Instant.parse("2026-03-10T05:00:00Z");
        fire("morning", first);
        await().atMost(Duration.ofSeconds(20)).until(() -> "running".equals(
                db.queryString("SELECT state FROM nightshift.run WHERE job_name = 'morning' AND scheduled_at = '" + first + "'")));

        assertThat(lateAt("morning", "2026-03-10T06:59:59Z").slots()).as("before the deadline").isEmpty();
        Lateness.Late running = lateAt("morning", "2026-03-10T07:30:00Z");
        assertThat(running.slots()).containsExactly(first);
        assertThat(running.overdue()).isEqualTo(Duration.ofMinutes(30));

        // the next morning's fire never happened (every node down): late all the same
        Lateness.Late missed = lateAt("morning", "2026-03-11T07:01:00Z");
        assertThat(missed.slots()).containsExactly(first, Instant.parse("2026-03-11T05:00:00Z"));
        assertThat(missed.overdue()).isEqualTo(Duration.ofHours(24).plusMinutes(1));

        Metrics metrics = new Metrics(new SimpleMeterRegistry());
        new DeadlineWatch(new Lateness(db.dataSource(), Clock.fixed(Instant.parse("2026-03-11T07:01:00Z"), ZoneOffset.UTC)), metrics).refresh();
        assertThat(metrics.registry().get("nightshift.job.late.slots").tag("job_name", "morning").gauge().value()).isEqualTo(2.0);
        assertThat(metrics.registry().get("nightshift.job.late").tag("job_name", "morning").gauge().value()).isEqualTo(86_460.0);

        db.execute("UPDATE gate SET open = true");
        await().atMost(Duration.ofSeconds(20)).until(() -> "succeeded".equals(
                db.queryString("SELECT state FROM nightshift.run WHERE job_name = 'morning' AND scheduled_at = '" + first + "'")));
        assertThat(lateAt("morning", "2026-03-11T07:01:00Z").slots()).as("the late run succeeded")
                .containsExactly(Instant.parse("2026-03-11T05:00:00Z"));

        Cli.Result at = Cli.run(db.env(), "trigger", "morning", "--at", "2026-03-11T05:00Z", "--wait");
        assertThat(at.exitCode()).as(at.out() + at.err()).isZero();
        assertThat(lateAt("morning", "2026-03-11T07:01:00Z").slots()).as("the missed slot, run by hand").isEmpty();
        new DeadlineWatch(new Lateness(db.dataSource(), Clock.fixed(Instant.parse("2026-03-11T07:01:00Z"), ZoneOffset.UTC)), metrics).refresh();
        assertThat(metrics.registry().get("nightshift.job.late.slots").tag("job_name", "morning").gauge().value()).isZero();
    }

    @Test
    void a_dead_slot_stays_late_and_a_paused_job_has_none() throws Exception {
        db.execute("""
                WITH k AS (INSERT INTO nightshift.run_key (dedupe_key, run_id) VALUES ('test:dead', nextval('nightshift.run_seq'))
                           RETURNING run_id)
                INSERT INTO nightshift.run_history (id, job_name, trigger, params, attempt, max_attempts, state, scheduled_at, run_at,
                                                    created_at, finished_at)
                SELECT run_id, 'morning', 'schedule', '{}', 1, 1, 'dead', '2026-03-20T05:00Z', '2026-03-20T05:00Z', '2026-03-20T05:00Z',
                       '2026-03-20T05:01Z' FROM k""");
        assertThat(lateAt("morning", "2026-03-20T08:00:00Z").slots()).contains(Instant.parse("2026-03-20T05:00:00Z"));
        assertThat(lateAt("every-minute", "2026-03-20T08:00:00Z").slots()).as("paused").isEmpty();
    }

    @Test
    void jobs_and_the_dashboard_mark_a_late_job() throws Exception {
        db.execute("UPDATE nightshift.job SET paused = false, created_at = now() - interval '3 minutes' WHERE name = 'every-minute'");
        try {
            Cli.Result r = Cli.run(db.env(), "jobs");
            assertThat(r.out()).containsPattern("every-minute .* 30s LATE: \\d+ slots, oldest ");
            assertThat(http.get("/").body()).contains("<span class=\"badge late\"").contains("deadline 30s");
        } finally {
            db.execute("UPDATE nightshift.job SET paused = true WHERE name = 'every-minute'");
        }
    }

    @Test
    void a_local_deadline_is_the_first_such_local_time_after_the_slot_across_a_dst_change() {
        ZoneId paris = ZoneId.of("Europe/Paris");
        Deadline six = Deadline.parse("06:00");
        assertThat(six.of(Instant.parse("2026-03-28T23:00:00Z"), paris)).isEqualTo(Instant.parse("2026-03-29T04:00:00Z"));
        assertThat(six.of(Instant.parse("2026-03-29T20:00:00Z"), paris)).as("22:00 slot: the next morning")
                .isEqualTo(Instant.parse("2026-03-30T04:00:00Z"));
        assertThat(Deadline.parse("2h").of(Instant.parse("2026-03-29T00:30:00Z"), paris)).isEqualTo(Instant.parse("2026-03-29T02:30:00Z"));
    }

    @Test
    void a_deadline_without_a_schedule_or_of_no_known_form_is_refused_with_file_and_line() {
        JobsDir bad = new JobsDir(db.tempDir(), "bad-deadline")
                .sql("unscheduled", "SELECT 1", "deadline: 2h\n")
                .sql("garbled", "SELECT 1", "schedule:\n  cron: \"0 0 5 * * ?\"\ndeadline: soon\n");
        Cli.Result r = Cli.run(db.env(), "validate", "--jobs-dir", bad.path().toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.out() + r.err()).contains("unscheduled.yaml:3: deadline: needs a schedule")
                .contains("garbled.yaml:5: deadline: 'soon' is neither a duration after the slot");
    }
}
