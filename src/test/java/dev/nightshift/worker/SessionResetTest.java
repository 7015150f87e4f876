package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker keeps its connection for its life; what one job's SQL sets at session level (a SET that
 * is not LOCAL, committed) must not reach another job's run on the same worker.
 */
@Tag("database")
class SessionResetTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void a_jobs_own_session_set_does_not_reach_the_next_jobs_run_on_the_same_worker() throws Exception {
        db.execute("CREATE TABLE seen (n serial, work_mem text, search_path text)");
        String defaults = db.queryString("SELECT current_setting('work_mem') || '|' || current_setting('search_path')");
        JobsDir jobs = new JobsDir(db.tempDir(), "session-reset")
                .file("setter.yaml", "name: setter\ntype: sql\nparams:\n  sql: |\n"
                        + "    SET work_mem = '1234kB';\n    SET search_path = nowhere;\n")
                .file("reader.yaml", "name: reader\ntype: sql\nparams:\n  sql: |\n"
                        + "    INSERT INTO public.seen (work_mem, search_path)\n"
                        + "    SELECT current_setting('work_mem'), current_setting('search_path');\n");
        String dir = jobs.path().toString();
        try (Daemon daemon = Daemon.start(db.settings(jobs.path(), Map.of(Setting.WORKERS, "1")))) {
            // one after the other: the worker goes idle between them
            assertThat(Cli.run(db.env(), "trigger", "setter", "--jobs-dir", dir, "--wait").exitCode()).isZero();
            assertThat(Cli.run(db.env(), "trigger", "reader", "--jobs-dir", dir, "--wait").exitCode()).isZero();
        }
        // both waiting when the node starts: its one worker goes from one job to the other in one chain
        assertThat(Cli.run(db.env(), "trigger", "setter", "--jobs-dir", dir).exitCode()).isZero();
        assertThat(Cli.run(db.env(), "trigger", "reader", "--jobs-dir", dir).exitCode()).isZero();
        try (Daemon daemon = Daemon.start(db.settings(jobs.path(), Map.of(Setting.WORKERS, "1")))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong("SELECT count(*) FROM public.seen") == 2);
        }
        assertThat(db.rows("SELECT work_mem || '|' || search_path FROM public.seen ORDER BY n"))
                .containsExactly(defaults, defaults);
    }
}
