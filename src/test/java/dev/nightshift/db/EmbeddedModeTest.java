package dev.nightshift.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Without NIGHTSHIFT_DB_URL every command uses the embedded PostgreSQL under NIGHTSHIFT_HOME. */
@Tag("process")
class EmbeddedModeTest {
    private static Path home;

    @BeforeAll
    static void home() throws Exception {
        home = Files.createTempDirectory("nightshift-home",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try (var files = Files.walk(home)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static long count(EmbeddedServer s, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(s.jdbcUrl("postgres"), "postgres", null);
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void first_process_starts_it_later_ones_join_the_last_stops_it_and_data_survives() throws Exception {
        JobsDir jobs = new JobsDir(home, "jobs").sql("hello", "select 1", "");
        Map<String, String> env = Map.of("NIGHTSHIFT_HOME", home.toString(), "NIGHTSHIFT_JOBS_DIR", jobs.path().toString());

        // A lone command starts the server, and stops it again when it leaves.
        Cli.Result sync = Cli.run(env, "sync");
        assertThat(sync.exitCode()).as(sync.err()).isZero();
        assertThat(sync.out()).contains("1 added");

        EmbeddedServer server = EmbeddedServer.acquire(home);
        try {
            Path data = server.dataDirectory();
            assertThat(count(server, "SELECT count(*) FROM nightshift.job WHERE name = 'hello'")).isEqualTo(1);

            // Another process joins the running server and leaves it running.
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "dev.nightshift.cli.Main", "trigger", "hello"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().keySet().removeIf(k -> k.startsWith("NIGHTSHIFT_"));
            pb.environment().putAll(env);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("run 1 of job hello enqueued");
            assertThat(count(server, "SELECT count(*) FROM nightshift.run")).isEqualTo(1);
            assertThat(Files.exists(data.resolve("postmaster.pid"))).isTrue();
        } finally {
            server.release();
        }
        assertThat(Files.exists(server.dataDirectory().resolve("postmaster.pid"))).isFalse();

        Cli.Result runs = Cli.run(env, "runs", "--json");
        assertThat(runs.exitCode()).isZero();
        assertThat(runs.out()).contains("\"job\":\"hello\"", "\"state\":\"available\"");
    }
}
