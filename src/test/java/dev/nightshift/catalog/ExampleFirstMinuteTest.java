package dev.nightshift.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.queue.RunView;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.Runs;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The quick start's first minute: no example job runs before the schema job has made its tables,
 * so a new daemon's log opens without "relation does not exist" retries.
 */
@Tag("database")
class ExampleFirstMinuteTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Path JOBS = Path.of("jobs");

    @Test
    void every_example_job_but_daily_activity_runs_only_after_the_schema_job() {
        JobCatalog catalog = JobCatalog.load(JOBS);
        for (JobDefinition d : catalog.all()) {
            if (d.name().equals("schema") || d.name().equals("daily-activity")) {
                continue;
            }
            assertThat(d.schedule()).as(d.name() + " has no schedule that could fire first").isNull();
            assertThat(roots(catalog, d)).as(d.name() + " is reached from the schema job only").containsExactly("schema");
        }
    }

    @Test
    void daily_activity_before_the_schema_job_succeeds_and_does_nothing() throws Exception {
        Path dir = db.tempDir().resolve("first-minute");
        JobsDir jobs = new JobsDir(db.tempDir(), "first-minute")
                .file("daily-activity.yaml", Files.readString(JOBS.resolve("daily-activity.yaml")));
        Files.createDirectories(dir.resolve("sql"));
        Files.copy(JOBS.resolve("sql/daily-activity.sql"), dir.resolve("sql/daily-activity.sql"));
        db.closeAfterAll(Daemon.start(db.settings(jobs.path())));

        RunView r = Runs.triggerAndWait(db.dataSource(), "daily-activity");
        assertThat(r.state()).as(r.lastError()).isEqualTo("succeeded");
        assertThat(r.attempt()).isEqualTo(1);
        assertThat(db.queryString("SELECT to_regclass('tweet.daily_activity')::text")).isNull();
    }

    /** The jobs without after: that {@code d} is reached from. */
    private static List<String> roots(JobCatalog catalog, JobDefinition d) {
        List<String> upstream = new ArrayList<>(d.after());
        upstream.addAll(d.afterAll());
        if (upstream.isEmpty()) {
            return List.of(d.name());
        }
        List<String> out = new ArrayList<>();
        for (String u : upstream) {
            roots(catalog, catalog.find(u).orElseThrow()).stream().filter(n -> !out.contains(n)).forEach(out::add);
        }
        return out;
    }
}
