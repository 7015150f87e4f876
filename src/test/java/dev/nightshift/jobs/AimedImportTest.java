package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code trigger JOB --param source=PATH}: one file instead of the configured source, and only from where the job may read. */
@Tag("database")
class AimedImportTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void migrate() {
        DirectRun.migrate(db);
    }

    private static Map<String, Long> aimed(JobDefinition job, String source) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            return new DirectAttempt(System.nanoTime(), job, c, DirectRun.METRICS, null, Map.of("source", source)).run();
        }
    }

    private static List<String> values(ImportFixture f) throws Exception {
        return db.rows("SELECT constituent_id, name, nationality, gender, begin_year, end_year FROM " + f.table + " ORDER BY 1");
    }

    @Test
    void an_aimed_file_is_applied_even_when_its_content_is_the_last_applied_from_its_path() throws Exception {
        ImportFixture f = new ImportFixture(db, "aim");
        f.file("2024-02.csv", BatchImportTest.JANUARY);
        f.file("2024-03.csv", BatchImportTest.FEBRUARY);
        JobDefinition job = f.job(f.dir, "  mode: mirror\n");
        DirectRun.run(db.dataSource(), job);
        List<String> february = values(f);

        // "The partner re-sent the February file": back to its content, February's last.
        assertThat(aimed(job, "2024-02.csv")).containsAllEntriesOf(Map.of("files", 1L, "skipped_files", 0L, "read", 5L,
                "inserted", 1L, "updated", 2L, "deleted", 1L));
        assertThat(values(f)).isNotEqualTo(february).contains("4|Kenji Sato|Japanese|Male|1946|null");
        // Again: the same content as the last applied from this path, applied all the same (and found unchanged).
        assertThat(aimed(job, "2024-02.csv")).containsAllEntriesOf(Map.of("files", 1L, "skipped_files", 0L, "unchanged", 5L));
        // An absolute path inside the directory is as good.
        assertThat(aimed(job, f.dir.resolve("2024-03.csv").toString())).containsAllEntriesOf(Map.of("files", 1L, "updated", 2L));
        assertThat(values(f)).isEqualTo(february);
    }

    @Test
    void with_move_an_aimed_file_stays_where_it_is_and_processed_files_can_be_aimed_at() throws Exception {
        ImportFixture f = new ImportFixture(db, "aim-move");
        f.file("2024-03.csv", BatchImportTest.JANUARY);
        JobDefinition job = f.job(f.dir, "  after_import: move\n");
        DirectRun.run(db.dataSource(), job);
        assertThat(f.dir.resolve("processed/2024-03.csv")).exists();

        assertThat(aimed(job, "processed/2024-03.csv")).containsAllEntriesOf(Map.of("files", 1L, "unchanged", 5L));
        assertThat(f.dir.resolve("processed/2024-03.csv")).exists();
        assertThat(f.dir.resolve("processed/processed")).doesNotExist();
    }

    @Test
    void a_path_outside_the_source_directory_or_not_a_regular_file_is_refused_and_nothing_is_read() throws Exception {
        ImportFixture f = new ImportFixture(db, "aim-refused");
        f.file("jan.csv", BatchImportTest.JANUARY);
        JobDefinition job = f.job(f.dir.resolve("*.csv"), "  mode: mirror\n");
        DirectRun.run(db.dataSource(), job);
        List<String> before = f.dump();
        // Each of these would change the target if it were read.
        Path outside = Files.createDirectories(db.tempDir().resolve("elsewhere"));
        Path secret = Files.writeString(outside.resolve("feb.csv"), BatchImportTest.FEBRUARY);
        Files.createSymbolicLink(f.dir.resolve("link.csv"), secret);
        Files.createSymbolicLink(f.dir.resolve("zero.csv"), Path.of("/dev/zero"));
        Files.createDirectories(f.dir.resolve("sub.csv"));
        Path fifo = f.dir.resolve("pipe.csv");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();

        Map<String, String> refusals = Map.of(
                "../elsewhere/feb.csv", "is outside the job's source directory",
                "../" + f.dir.getFileName() + "/../elsewhere/feb.csv", "is outside the job's source directory",
                secret.toString(), "is outside the job's source directory",
                "link.csv", "leads through a symbolic link to " + secret.toRealPath(),
                "zero.csv", "leads through a symbolic link to /dev/zero",
                "sub.csv", "is not a regular file (a directory)",
                "pipe.csv", "is not a regular file (a device, FIFO or socket)",
                "absent.csv", "file not found",
                " ", "param source: empty");
        refusals.forEach((source, why) -> assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
                assertThatThrownBy(() -> aimed(job, source)).as(source)
                        .isInstanceOf(JobFailedException.class).hasMessageContaining(why)));
        assertThat(f.dump()).isEqualTo(before);
    }

    @Test
    void allowed_sources_adds_directories_a_run_may_aim_at() throws Exception {
        ImportFixture f = new ImportFixture(db, "aim-allowed");
        Path archive = Files.createDirectories(db.tempDir().resolve("archive"));
        Files.writeString(archive.resolve("2023-12.csv"), BatchImportTest.JANUARY);
        JobDefinition job = f.job(f.dir, "  allowed_sources: [" + archive + "]\n");

        assertThat(aimed(job, archive.resolve("2023-12.csv").toString())).containsAllEntriesOf(Map.of("inserted", 5L));
        assertThatThrownBy(() -> aimed(job, db.tempDir().resolve("elsewhere-too.csv").toString()))
                .hasMessageContaining("is outside the job's source directories " + f.dir + ", " + archive);
    }

    @Test
    void trigger_refuses_a_bad_source_at_once_on_the_cli_and_over_http_and_a_good_one_runs() throws Exception {
        ImportFixture f = new ImportFixture(db, "aim-daemon");
        f.file("2024-03.csv", BatchImportTest.JANUARY);
        String token = "aim-token-0123456789";
        JobsDir jobs = new JobsDir(db.tempDir(), "aim-jobs").file("aim-daemon.yaml", "name: aim-daemon\ntype: batch-import\n"
                + "max_attempts: 1\nparams:\n  source: " + f.dir + "\n  target: " + f.table + "\n  key: [constituent_id]\n"
                + "  columns: {ConstituentID: constituent_id, DisplayName: name, Nationality: nationality, Gender: gender,"
                + " BeginDate: begin_year, EndDate: end_year}\n");
        Daemon daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, token))));
        Http http = new Http(daemon.httpPort());

        Cli.Result cli = Cli.run(db.env(), "trigger", "aim-daemon", "--jobs-dir", jobs.path().toString(),
                "--param", "source=../elsewhere/feb.csv");
        assertThat(cli.exitCode()).as(cli.out() + cli.err()).isEqualTo(2);
        assertThat(cli.err()).contains("param source: ../elsewhere/feb.csv is outside the job's source directory " + f.dir);
        Http.Reply bad = http.post("/api/jobs/aim-daemon/trigger", "{\"params\": {\"source\": \"/etc/passwd\"}}", token);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().path("error").asText()).contains("/etc/passwd is outside the job's source directory");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'aim-daemon'")).isZero();

        Http.Reply ok = http.post("/api/jobs/aim-daemon/trigger", "{\"params\": {\"source\": \"2024-03.csv\"}}", token);
        assertThat(ok.status()).as(ok.body()).isEqualTo(201);
        long run = ok.json().path("run").path("id").asLong();
        await().atMost(Duration.ofSeconds(30)).until(() -> db.queryString("SELECT state FROM nightshift.run WHERE id = " + run),
                "succeeded"::equals);
        assertThat(db.queryString("SELECT counts->>'inserted' FROM nightshift.run WHERE id = " + run)).isEqualTo("5");
        Cli.Result good = Cli.run(db.env(), "trigger", "aim-daemon", "--jobs-dir", jobs.path().toString(),
                "--param", "source=" + f.dir.resolve("2024-03.csv"), "--wait");
        assertThat(good.exitCode()).as(good.out() + good.err()).isZero();
        assertThat(good.out()).contains("succeeded", "unchanged=5");
    }
}
