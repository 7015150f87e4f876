package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code after: {all: [a, b]}} on two nodes: once per period when every upstream succeeded for it,
 * also when the upstreams finish at the same instant on different nodes; a failed upstream keeps it
 * waiting (and says so) until a retry succeeds.
 */
@Tag("database")
class FanInTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    /** Each upstream waits for the gate of its slot (a committed row), then fails if told to, then succeeds. */
    static final String UPSTREAM = """
            DO $$ BEGIN
              WHILE NOT EXISTS (SELECT 1 FROM gate WHERE slot = current_setting('nightshift.scheduled_at')::timestamptz) LOOP
                PERFORM pg_sleep(0.02);
              END LOOP;
              IF EXISTS (SELECT 1 FROM fail WHERE job = current_setting('nightshift.job_name')) THEN
                RAISE EXCEPTION 'told to fail';
              END IF;
            END $$""";
    static final String NIGHTLY = "schedule:\n  cron: \"0 0 1 * * ?\"\nmax_attempts: 1\n";

    static JobsDir jobs;
    static Http http;

    @BeforeAll
    static void start() {
        try {
            db.execute("CREATE TABLE gate (slot timestamptz PRIMARY KEY)");
            db.execute("CREATE TABLE fail (job text PRIMARY KEY)");
            db.execute("CREATE TABLE summarized (run_id bigint, period_end text)");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        jobs = new JobsDir(db.tempDir(), "fan-in")
                .sql("import-a", UPSTREAM, NIGHTLY)
                .sql("import-b", UPSTREAM, NIGHTLY)
                .sql("summary", "INSERT INTO summarized VALUES (current_setting('nightshift.run_id')::bigint, "
                        + "current_setting('nightshift.period_end'))", "after: {all: [import-a, import-b]}\n");
        Daemon one = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "fan-1", Setting.WORKERS, "2")),
                ClusterFiringTest.FAST));
        db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.NODE_NAME, "fan-2", Setting.WORKERS, "2")),
                ClusterFiringTest.FAST));
        http = new Http(one.httpPort());
    }

    /** Fires the shared nightly schedule of import-a and import-b for {@code slot}: one run of each. */
    static void fire(Instant slot) throws Exception {
        var schedule = JobCatalog.load(jobs.path()).find("import-a").orElseThrow().schedule();
        Fires.fire(db.dataSource(), schedule, slot);
    }

    static long count(String sql) {
        try {
            return db.queryLong(sql);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void upstreams_finishing_together_on_two_nodes_release_the_fan_in_exactly_once_per_period() throws Exception {
        Instant first = Instant.parse("2026-06-01T01:00:00Z");
        int periods = 6;
        for (int i = 0; i < periods; i++) {
            Instant slot = first.plus(Duration.ofDays(i));
            fire(slot);
            await().atMost(Duration.ofSeconds(20)).until(() -> count("SELECT count(*) FROM nightshift.run WHERE scheduled_at = '" + slot
                    + "' AND job_name LIKE 'import-%' AND state = 'running'") == 2);
            // both upstreams are running; one committed row releases both at once
            db.execute("INSERT INTO gate VALUES ('" + slot + "')");
            await().atMost(Duration.ofSeconds(20)).until(() -> count("SELECT count(*) FROM nightshift.run WHERE scheduled_at = '" + slot
                    + "' AND job_name = 'summary' AND state = 'succeeded'") == 1);
        }

        assertThat(db.rows("SELECT period_end, count(*) FROM summarized WHERE period_end LIKE '2026-06-%' GROUP BY period_end ORDER BY period_end")).hasSize(periods)
                .allMatch(row -> row.endsWith("|1"));
        assertThat(count("SELECT count(*) FROM nightshift.run WHERE job_name = 'summary' AND scheduled_at < '2026-07-01'")).isEqualTo(periods);
    }

    @Test
    void a_failed_upstream_keeps_it_waiting_and_says_for_what_and_its_successful_retry_releases_it() throws Exception {
        Instant slot = Instant.parse("2026-07-01T01:00:00Z");
        db.execute("INSERT INTO fail VALUES ('import-b')");
        db.execute("INSERT INTO gate VALUES ('" + slot + "')");
        fire(slot);
        await().atMost(Duration.ofSeconds(20)).until(() -> count("SELECT count(*) FROM nightshift.run WHERE scheduled_at = '" + slot
                + "' AND ((job_name = 'import-a' AND state = 'succeeded') OR (job_name = 'import-b' AND state = 'dead'))") == 2);

        assertThat(count("SELECT count(*) FROM nightshift.run WHERE job_name = 'summary' AND scheduled_at = '" + slot + "'")).isZero();
        assertThat(Cli.run(db.env(), "jobs").out()).contains("after all import-a,import-b (waits for import-b)");
        long upstream = count("SELECT id FROM nightshift.run WHERE job_name = 'import-a' AND scheduled_at = '" + slot + "'");
        assertThat(Cli.run(db.env(), "show", Long.toString(upstream)).out()).contains("fan-in:       summary waits for import-b");
        assertThat(http.get("/").body()).contains("waits for import-b (period ending 2026-07-01 01:00:00 UTC)");

        db.execute("DELETE FROM fail");
        long dead = count("SELECT id FROM nightshift.run WHERE job_name = 'import-b' AND scheduled_at = '" + slot + "'");
        assertThat(Cli.run(db.env(), "retry", Long.toString(dead)).exitCode()).isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> count("SELECT count(*) FROM nightshift.run WHERE scheduled_at = '" + slot
                + "' AND job_name = 'summary' AND state = 'succeeded'") == 1);
        assertThat(Cli.run(db.env(), "jobs").out()).doesNotContain("waits for");
        assertThat(Cli.run(db.env(), "show", Long.toString(upstream)).out()).containsPattern("fan-in: +summary: run \\d+");
    }

    @Test
    void a_fan_in_of_one_job_or_of_unknown_jobs_is_refused_with_file_and_line() throws Exception {
        JobsDir bad = new JobsDir(db.tempDir(), "bad-fan-in")
                .sql("one", "SELECT 1", "after: {all: [two]}\n")
                .sql("two", "SELECT 1", "after: {all: [one, ghost]}\n")
                .sql("odd", "SELECT 1", "after: {any: [one, two]}\n");
        Cli.Result r = Cli.run(db.env(), "validate", "--jobs-dir", bad.path().toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.out() + r.err()).contains("one.yaml:3: after: all: lists at least two jobs")
                .contains("two.yaml:3: after: unknown job 'ghost'")
                .contains("odd.yaml:3: after: unknown field 'any'");
    }
}
