package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.nightshift.cli.Daemon;
import dev.nightshift.config.ConfigException;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code source: https://…} for batch-import, against a local HTTP server (the JDK's): fetched only
 * when changed (a 304 reads no body), applied once, retried with backoff on a server error or a
 * hung server with the target untouched, never led by a redirect outside allowed_sources.
 */
@Tag("database")
class RemoteSourceTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static HttpServer server;
    static String base;
    /** Per path: the content served, its ETag; requests seen; body bytes sent. */
    static final Map<String, byte[]> content = new ConcurrentHashMap<>();
    static final Map<String, String> etags = new ConcurrentHashMap<>();
    static final List<String> requests = new CopyOnWriteArrayList<>();
    static final List<Instant> requestTimes = new CopyOnWriteArrayList<>();
    static final Map<String, String> authorizations = new ConcurrentHashMap<>();
    static final AtomicLong bodyBytes = new AtomicLong();

    @BeforeAll
    static void start() throws Exception {
        DirectRun.migrate(db);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", RemoteSourceTest::serve);
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private static void serve(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(path + " " + ex.getRequestHeaders().getFirst("If-None-Match"));
        requestTimes.add(Instant.now());
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null) {
            authorizations.put(ex.getRequestURI().getHost() == null ? ex.getLocalAddress().toString() + path : path, auth);
        }
        try (ex) {
            if (path.startsWith("/fail")) {
                ex.sendResponseHeaders(500, -1);
                return;
            }
            if (path.startsWith("/hang")) {
                try {
                    Thread.sleep(4000);   // the server, not the test, waits: a hung partner
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ex.sendResponseHeaders(503, -1);
                return;
            }
            if (path.startsWith("/moved-out")) {
                ex.getResponseHeaders().set("Location", "http://localhost:" + server.getAddress().getPort() + "/data/artists.csv");
                ex.sendResponseHeaders(302, -1);
                return;
            }
            if (path.startsWith("/moved-in")) {
                ex.getResponseHeaders().set("Location", "/data/artists.csv");
                ex.sendResponseHeaders(301, -1);
                return;
            }
            byte[] body = content.get(path);
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            String etag = etags.get(path);
            if (etag != null && etag.equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
                ex.getResponseHeaders().set("ETag", etag);
                ex.sendResponseHeaders(304, -1);
                return;
            }
            if (etag != null) {
                ex.getResponseHeaders().set("ETag", etag);
            }
            ex.getResponseHeaders().set("Last-Modified", "Mon, 07 Dec 2026 22:00:00 GMT");
            if (path.endsWith(".gzipped")) {
                ex.getResponseHeaders().set("Content-Encoding", "gzip");
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
            bodyBytes.addAndGet(body.length);
        }
    }

    static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(b)) {
            g.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    /** A batch-import of {@code source} into the fixture's table; {@code more} adds params lines. */
    static JobsDir job(ImportFixture f, String source, String more) {
        JobsDir jobs = new JobsDir(db.tempDir(), "jobs-" + f.name);
        jobs.file(f.name + ".yaml", "name: " + f.name + "\ntype: batch-import\nmax_attempts: 2\nbackoff: 1s\nparams:\n"
                + "  source: " + source + "\n"
                + "  allowed_sources: [" + base + "/]\n"
                + "  target: " + f.table + "\n"
                + "  key: [constituent_id]\n"
                + "  columns: {ConstituentID: constituent_id, DisplayName: name, Nationality: nationality, Gender: gender,"
                + " BeginDate: begin_year, EndDate: end_year}\n"
                + more);
        return jobs;
    }

    static JobDefinition definition(JobsDir jobs, String name) {
        return DirectRun.definition(jobs.path(), name);
    }

    static Map<String, Long> aimed(JobDefinition job, String source) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            return new DirectAttempt(DirectRun.nextRunId(), job, c, DirectRun.METRICS, null, Map.of("source", source)).run();
        }
    }

    @Test
    void unchanged_content_is_answered_304_and_no_body_is_read_changed_content_is_applied_once() throws Exception {
        ImportFixture f = new ImportFixture(db, "remote-etag");
        content.put("/data/artists.csv", BatchImportTest.JANUARY.getBytes(StandardCharsets.UTF_8));
        etags.put("/data/artists.csv", "\"v1\"");
        JobDefinition job = definition(job(f, base + "/data/artists.csv", ""), f.name);

        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("files", 1L).containsEntry("inserted", 5L);
        assertThat(db.queryString("SELECT etag || ' ' || last_modified FROM nightshift.import_file WHERE job_name = '" + f.name + "'"))
                .isEqualTo("\"v1\" Mon, 07 Dec 2026 22:00:00 GMT");
        List<String> applied = f.dump();
        long sent = bodyBytes.get();

        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("skipped", 1L).containsEntry("files", 0L);
        assertThat(requests).contains("/data/artists.csv \"v1\"");
        assertThat(bodyBytes.get()).as("no body sent for a 304").isEqualTo(sent);
        assertThat(f.dump()).as("target untouched, not even rewritten").isEqualTo(applied);

        content.put("/data/artists.csv", BatchImportTest.FEBRUARY.getBytes(StandardCharsets.UTF_8));
        etags.put("/data/artists.csv", "\"v2\"");
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("files", 1L).containsEntry("updated", 2L);
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("skipped", 1L);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.import_file WHERE job_name = '" + f.name + "'")).isEqualTo(2);
        assertThat(db.queryString("SELECT nationality FROM " + f.table + " WHERE constituent_id = 3")).isEqualTo("Belgian");
    }

    @Test
    void gzip_by_content_encoding_or_by_a_gz_name_is_unpacked_and_a_server_without_validators_is_skipped_by_checksum()
            throws Exception {
        ImportFixture f = new ImportFixture(db, "remote-gzip");
        content.put("/gz/artists.gzipped", gzip(BatchImportTest.JANUARY));
        content.put("/gz/artists.csv.gz", gzip(BatchImportTest.FEBRUARY));
        JobDefinition byEncoding = definition(job(f, base + "/gz/artists.gzipped", ""), f.name);
        assertThat(DirectRun.run(db.dataSource(), byEncoding)).containsEntry("inserted", 5L);
        assertThat(DirectRun.run(db.dataSource(), byEncoding)).as("same content, no ETag: skipped by its checksum")
                .containsEntry("skipped_files", 1L).containsEntry("files", 0L);
        assertThat(aimed(byEncoding, base + "/gz/artists.csv.gz")).containsEntry("files", 1L).containsEntry("updated", 2L);
    }

    @Test
    void a_redirect_to_a_host_outside_allowed_sources_is_refused_and_one_inside_is_followed() throws Exception {
        ImportFixture f = new ImportFixture(db, "remote-redirect");
        content.put("/data/artists.csv", BatchImportTest.JANUARY.getBytes(StandardCharsets.UTF_8));
        etags.remove("/data/artists.csv");
        JobDefinition out = definition(job(f, base + "/moved-out/artists.csv", ""), f.name);
        int before = requests.size();
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), out)).isInstanceOf(JobFailedException.class)
                .hasMessageContaining("redirect to http://localhost:" + server.getAddress().getPort() + "/data/artists.csv is outside")
                .hasMessageContaining("refused, nothing fetched");
        assertThat(requests.subList(before, requests.size())).containsExactly("/moved-out/artists.csv null");
        assertThat(f.dump()).isEmpty();

        JobDefinition in = definition(job(f, base + "/moved-in/artists.csv", ""), f.name);
        assertThat(DirectRun.run(db.dataSource(), in)).containsEntry("inserted", 5L);
    }

    @Test
    void a_run_cannot_aim_at_a_url_outside_allowed_sources_and_a_body_over_max_size_is_refused() throws Exception {
        ImportFixture f = new ImportFixture(db, "remote-aim");
        content.put("/data/artists.csv", BatchImportTest.JANUARY.getBytes(StandardCharsets.UTF_8));
        JobDefinition job = definition(job(f, base + "/data/artists.csv", "  max_size: 100B\n"), f.name);
        for (String bad : List.of("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:1/x.csv",
                "https://127.0.0.1:" + server.getAddress().getPort() + "/data/artists.csv", "file:///etc/passwd",
                "http://user:pw@127.0.0.1:" + server.getAddress().getPort() + "/data/artists.csv")) {
            assertThatThrownBy(() -> AimedSource.check(job, bad)).as(bad).isInstanceOf(AimedSource.RefusedException.class)
                    .hasMessageStartingWith("param source: ").hasMessageNotContaining("pw@");
        }
        assertThatThrownBy(() -> aimed(job, "http://169.254.169.254/latest/meta-data/")).isInstanceOf(JobFailedException.class)
                .hasMessageContaining("refused, nothing fetched");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job)).isInstanceOf(JobFailedException.class)
                .hasMessageContaining("more than max_size (100 bytes): refused, nothing read");
        assertThat(f.dump()).isEmpty();
    }

    @Test
    void a_server_error_and_a_hung_server_are_retried_with_backoff_and_the_target_stays_as_it_was() throws Exception {
        ImportFixture f = new ImportFixture(db, "remote-retry");
        db.execute("INSERT INTO " + f.table + " VALUES (1, 'Before', null, null, null, null)");
        JobsDir jobs = job(f, base + "/fail/artists.csv", "  read_timeout: 1s\n");
        new JobsDir(db.tempDir(), "jobs-" + f.name).file("hung.yaml", "name: hung\ntype: batch-import\nmax_attempts: 2\nbackoff: 1s\n"
                + "params:\n  source: " + base + "/hang/artists.csv\n  allowed_sources: [" + base + "/]\n  target: " + f.table
                + "\n  key: [constituent_id]\n  read_timeout: 1s\n  columns: {ConstituentID: constituent_id, DisplayName: name}\n");
        List<String> before = f.dump();
        try (Daemon d = Daemon.start(db.settings(jobs.path()))) {
            RunQueue q = new RunQueue(d.database().dataSource());
            long failing = q.enqueue(NewRun.manual(f.name, Map.of(), null)).id();
            long hung = q.enqueue(NewRun.manual("hung", Map.of(), null)).id();
            await().atMost(Duration.ofSeconds(40)).until(() -> db.queryLong("SELECT count(*) FROM nightshift.run WHERE id IN ("
                    + failing + ", " + hung + ") AND state = 'dead'") == 2);
            assertThat(db.queryLong("SELECT attempt FROM nightshift.run WHERE id = " + failing)).isEqualTo(2);
            assertThat(db.queryString("SELECT last_error FROM nightshift.run WHERE id = " + failing))
                    .contains("HTTP 500 from " + base + "/fail/artists.csv; the run is retried with backoff");
            assertThat(db.queryLong("SELECT attempt FROM nightshift.run WHERE id = " + hung)).isEqualTo(2);
            assertThat(db.queryString("SELECT last_error FROM nightshift.run WHERE id = " + hung)).contains("no answer within read_timeout (1s); the run is retried with backoff");
        }
        List<Instant> failTimes = new java.util.ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i).startsWith("/fail/")) {
                failTimes.add(requestTimes.get(i));
            }
        }
        assertThat(failTimes).hasSize(2);
        assertThat(Duration.between(failTimes.get(0), failTimes.get(1))).as("the backoff between attempts")
                .isGreaterThanOrEqualTo(Duration.ofMillis(500));
        assertThat(f.dump()).isEqualTo(before);
    }

    @Test
    void credentials_come_from_the_environment_go_only_to_the_sources_host_and_are_never_in_the_url() throws Exception {
        ImportFixture f = new ImportFixture(db, "remote-auth");
        content.put("/auth/artists.csv", BatchImportTest.JANUARY.getBytes(StandardCharsets.UTF_8));
        JobDefinition job = definition(job(f, base + "/auth/artists.csv", "  credentials_env: HOME\n"), f.name);
        DirectRun.run(db.dataSource(), job);
        assertThat(authorizations).containsValue(System.getenv("HOME").strip());

        JobsDir missing = job(new ImportFixture(db, "remote-noenv"), base + "/auth/artists.csv",
                "  credentials_env: NIGHTSHIFT_TEST_SURELY_UNSET_42\n");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), definition(missing, "remote-noenv")))
                .isInstanceOf(JobFailedException.class)
                .hasMessage("credentials_env: the environment variable NIGHTSHIFT_TEST_SURELY_UNSET_42 is not set on this node");
    }

    @Test
    void bad_remote_definitions_are_refused_with_file_and_line() {
        JobsDir jobs = new JobsDir(db.tempDir(), "bad-remote");
        String common = "type: batch-import\nparams:\n  target: imp.x\n  key: [id]\n";
        jobs.file("plain.yaml", "name: plain\n" + common + "  source: http://partner.example.org/a.csv\n");
        jobs.file("ftp.yaml", "name: ftp\n" + common + "  source: ftp://partner.example.org/a.csv\n");
        jobs.file("userinfo.yaml", "name: userinfo\n" + common + "  source: https://me:secret@partner.example.org/a.csv\n");
        jobs.file("arrival.yaml", "name: arrival\n" + common + "  source: https://partner.example.org/a.csv\n  on_arrival: true\n");
        jobs.file("filekeys.yaml", "name: filekeys\n" + common + "  source: data/a.csv\n  read_timeout: 5s\n");
        jobs.file("size.yaml", "name: size\n" + common + "  source: https://partner.example.org/a.csv\n  max_size: lots\n"
                + "  max_redirects: 50\n  credentials_env: 'NOT A NAME'\n  allowed_sources: ['https://partner.example.org/a?b']\n");
        assertThatThrownBy(() -> JobCatalog.load(jobs.path())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("plain.yaml:6: params.source: plain http:// is fetched only where allowed_sources names it")
                .hasMessageContaining("ftp.yaml:6: params.source: 'ftp://partner.example.org/a.csv': only https://")
                .hasMessageContaining("userinfo.yaml:6: params.source: a URL must not carry a user or password")
                .hasMessageContaining("arrival.yaml:7: params.on_arrival: only applies to a source of files")
                .hasMessageContaining("filekeys.yaml:7: params.read_timeout: only applies to a source that is a URL")
                .hasMessageContaining("size.yaml:7: params.max_size: must be a size such as 500MB or 2GB, got 'lots'")
                .hasMessageContaining("params.max_redirects: must be a whole number from 0 to 10, got '50'")
                .hasMessageContaining("params.credentials_env: must name an environment variable")
                .hasMessageContaining("params.allowed_sources: 'https://partner.example.org/a?b': an allowed source is a URL prefix")
                .hasMessageNotContaining("secret");
    }
}
