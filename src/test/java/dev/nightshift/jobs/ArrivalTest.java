package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** on_arrival: a file that arrives complete in the source is imported once, by one run, whichever node noticed it. */
@Tag("database")
class ArrivalTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static Path settled;
    static Path marked;
    static Daemon daemon;
    static ArrivalWatcher secondNode;
    static Metrics secondMetrics = Metrics.prometheus();

    @BeforeAll
    static void start() throws Exception {
        db.execute("CREATE SCHEMA arr");
        for (String t : new String[] {"settled", "marked"}) {
            db.execute("CREATE TABLE arr." + t + " (constituent_id integer PRIMARY KEY, name text NOT NULL, nationality text,"
                    + " gender text, begin_year integer, end_year integer)");
        }
        settled = Files.createDirectories(db.tempDir().resolve("inbox-settled"));
        marked = Files.createDirectories(db.tempDir().resolve("inbox-marked"));
        JobsDir jobs = new JobsDir(db.tempDir(), "arrival-jobs")
                .file("settled.yaml", job("settled", settled + "/*.csv", "  arrival_poll: 200ms\n  arrival_settle: 2s\n"))
                .file("marked.yaml", job("marked", marked.toString(),
                        "  arrival_poll: 200ms\n  arrival_marker: .done\n  after_import: move\n"));
        daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path())));
        // A second node's watcher on the same database and directories: each arrival must still make one run.
        secondNode = new ArrivalWatcher(JobCatalog.load(jobs.path()), new RunQueue(daemon.database().dataSource()),
                secondMetrics, Clock.systemUTC());
        secondNode.start(new dev.nightshift.loop.Loops());
        db.closeAfterAll(secondNode::stop);
    }

    private static String job(String name, String source, String extra) {
        return "name: " + name + "\ntype: batch-import\nmax_attempts: 1\nparams:\n  source: " + source + "\n  target: arr." + name
                + "\n  key: [constituent_id]\n  columns: {ConstituentID: constituent_id, DisplayName: name, Nationality: nationality,"
                + " Gender: gender, BeginDate: begin_year, EndDate: end_year}\n  on_arrival: true\n" + extra;
    }

    private static long runs(String job) throws Exception {
        return db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = '" + job + "' AND trigger = 'arrival'");
    }

    private static void awaitSucceeded(String job, long n) {
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = '"
                + job + "' AND trigger = 'arrival' AND state = 'succeeded'") == n);
    }

    private static double arrivals(Metrics m, String job) {
        var c = m.registry().find("nightshift.import.arrivals").tag("job_name", job).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void a_file_appended_to_slowly_for_10_s_is_imported_once_whole_after_it_settles() throws Exception {
        Path file = settled.resolve("slow.csv");
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                w.write(ImportFixture.HEADER);
                for (int i = 1; i <= 20; i++) {
                    w.write(i + ",Artist " + i + ",,,,\n");
                    w.flush();
                    Thread.sleep(500);   // the partner's slow upload, not a wait for a result
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // While it is being written, no run may exist: its size changes more often than the 2 s settle time.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (runs("settled") != 0) {
                throw new IllegalStateException("a run was enqueued while the file was being written");
            }
            return writer.isDone();
        });
        writer.get(1, TimeUnit.SECONDS);

        awaitSucceeded("settled", 1);
        assertThat(db.queryString("SELECT counts->>'read' FROM nightshift.run WHERE job_name = 'settled' AND trigger = 'arrival'"))
                .isEqualTo("20");
        assertThat(db.queryLong("SELECT count(*) FROM arr.settled")).isEqualTo(20);
        assertThat(db.queryString("SELECT params->>'arrived' FROM nightshift.run WHERE job_name = 'settled'")).isEqualTo(file.toString());
        // Both watchers saw it complete; one enqueued it, and nothing more comes of it while it stays unchanged.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> runs("settled") == 1);
        assertThat(arrivals(daemon.metrics(), "settled") + arrivals(secondMetrics, "settled")).isEqualTo(1);

        // A new version of the file is a new arrival.
        Files.writeString(file, ImportFixture.HEADER + "1,Artist One,,,,\n", StandardOpenOption.TRUNCATE_EXISTING);
        awaitSucceeded("settled", 2);
        assertThat(db.queryLong("SELECT count(*) FROM arr.settled WHERE name = 'Artist One'")).isEqualTo(1);
    }

    @Test
    void with_a_marker_a_file_waits_for_its_marker_and_moves_with_it() throws Exception {
        Path file = Files.writeString(marked.resolve("data.csv"), ImportFixture.HEADER + "1,Ada,,,1930,\n2,Tom,,,,\n");
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> runs("marked") == 0);

        Files.writeString(marked.resolve("data.csv.done"), "");
        awaitSucceeded("marked", 1);
        assertThat(db.queryLong("SELECT count(*) FROM arr.marked")).isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(marked.resolve("processed/data.csv"))
                && Files.exists(marked.resolve("processed/data.csv.done")));
        assertThat(file).doesNotExist();
        assertThat(runs("marked")).isEqualTo(1);
    }
}
