package dev.nightshift.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.config.SettingsLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A clean PostgreSQL database for each test class, on one server per test JVM:
 * the server named by {@code NIGHTSHIFT_TEST_DB_URL} (user {@code NIGHTSHIFT_TEST_DB_USER},
 * default postgres) when set; else a Testcontainers PostgreSQL when a Docker engine is reachable;
 * else nightshift's own embedded PostgreSQL (zonky binaries) under {@code $TMPDIR/nightshift-test-postgres},
 * shared by the test JVMs running at the same time (the last one out stops it).
 *
 * <p>Register as {@code @RegisterExtension static final TestDatabase db = new TestDatabase();}.
 */
public final class TestDatabase implements BeforeAllCallback, AfterAllCallback {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private String name;
    private String url;
    private HikariDataSource pool;
    private Path tempDir;
    private final List<AutoCloseable> closeLater = new ArrayList<>();

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        requireTier(context.getRequiredTestClass());
        Server server = Server.get();
        name = ("nstest_" + context.getRequiredTestClass().getSimpleName() + "_" + ProcessHandle.current().pid()
                + "_" + COUNTER.incrementAndGet()).toLowerCase(Locale.ROOT);
        try (Connection c = server.admin(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name);
            s.execute("CREATE DATABASE " + name);
        }
        url = server.urlFor(name);
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername(server.user());
        hc.setPassword(server.password());
        hc.setMaximumPoolSize(8);
        hc.setPoolName("test-" + name);
        pool = new HikariDataSource(hc);
        tempDir = Files.createTempDirectory("nightshift-test");
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (pool == null) {
            return;
        }
        List<AutoCloseable> reversed = new ArrayList<>(closeLater);
        java.util.Collections.reverse(reversed);
        for (AutoCloseable c : reversed) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort: the database is dropped below anyway
            }
        }
        pool.close();
        try (Connection c = Server.get().admin(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }

    /**
     * Refuses a class without the tag of a tier that has a database: untagged, it would run in the
     * unit tier ({@code mvn test}), which promises to need no server, and fail only where none answers.
     */
    static void requireTier(Class<?> testClass) {
        boolean tagged = org.junit.platform.commons.support.AnnotationSupport
                .findRepeatableAnnotations(testClass, org.junit.jupiter.api.Tag.class).stream()
                .anyMatch(t -> t.value().equals("database") || t.value().equals("process"));
        if (!tagged) {
            throw new IllegalStateException(testClass.getName() + " uses a database but has neither @Tag(\"database\") nor"
                    + " @Tag(\"process\"): tag it, so that it runs in the tier that has a server (mvn verify), not in mvn test");
        }
    }

    /** Closes {@code c} after the class's tests, before the database is dropped. */
    public <T extends AutoCloseable> T closeAfterAll(T c) {
        closeLater.add(c);
        return c;
    }

    public String url() {
        return url;
    }

    public String user() {
        return Server.get().user();
    }

    public DataSource dataSource() {
        return pool;
    }

    /** A directory removed with the JVM's temp files; one per test class. */
    public Path tempDir() {
        return tempDir;
    }

    /** The environment a nightshift process needs to use this database. */
    public Map<String, String> env() {
        Map<String, String> env = new java.util.HashMap<>(Map.of("NIGHTSHIFT_DB_URL", url, "NIGHTSHIFT_DB_USER", user()));
        if (Server.get().password() != null) {
            env.put("NIGHTSHIFT_DB_PASSWORD", Server.get().password());
        }
        return env;
    }

    /**
     * Settings for a node on this database, with short intervals so tests are quick; entries in
     * {@code overrides} (by setting) replace them.
     */
    public Settings settings(Path jobsDir, Map<Setting, String> overrides) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DB_URL, url);
        flags.put(Setting.DB_USER, user());
        if (Server.get().password() != null) {
            flags.put(Setting.DB_PASSWORD, Server.get().password());
        }
        flags.put(Setting.JOBS_DIR, jobsDir.toString());
        flags.put(Setting.HOME, tempDir.resolve("home").toString());
        flags.put(Setting.POLL_INTERVAL, "200ms");
        flags.put(Setting.RESCUE_INTERVAL, "300ms");
        flags.put(Setting.SHUTDOWN_GRACE, "5s");
        flags.put(Setting.HTTP_PORT, "0");
        flags.putAll(overrides);
        return SettingsLoader.load(Map.of(), null, flags);
    }

    public Settings settings(Path jobsDir) {
        return settings(jobsDir, Map.of());
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    public long queryLong(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("no row from: " + sql);
            }
            return rs.getLong(1);
        }
    }

    public String queryString(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** All rows of a query, each row's columns joined with '|': handy for exact comparisons. */
    public List<String> rows(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                StringBuilder b = new StringBuilder();
                for (int i = 1; i <= n; i++) {
                    if (i > 1) {
                        b.append('|');
                    }
                    b.append(rs.getString(i));
                }
                out.add(b.toString());
            }
            return out;
        }
    }

    /** The PostgreSQL server of this test JVM; chosen once. */
    static final class Server {
        private static Server instance;
        private final String adminUrl;
        private final String user;
        private final String password;
        private final String base;
        private final String query;

        private Server(String adminUrl, String user, String password) {
            this.adminUrl = adminUrl;
            this.user = user;
            this.password = password;
            int q = adminUrl.indexOf('?');
            String noQuery = q < 0 ? adminUrl : adminUrl.substring(0, q);
            this.query = q < 0 ? "" : adminUrl.substring(q);
            this.base = noQuery.substring(0, noQuery.lastIndexOf('/') + 1);
        }

        static synchronized Server get() {
            if (instance == null) {
                instance = choose();
            }
            return instance;
        }

        private static Server choose() {
            String explicit = System.getenv("NIGHTSHIFT_TEST_DB_URL");
            if (explicit != null && !explicit.isBlank()) {
                String user = System.getenv().getOrDefault("NIGHTSHIFT_TEST_DB_USER", "postgres");
                return new Server(explicit, user, System.getenv("NIGHTSHIFT_TEST_DB_PASSWORD"));
            }
            if (Docker.available()) {
                return Docker.start();
            }
            return Embedded.start();
        }

        Connection admin() throws SQLException {
            return DriverManager.getConnection(adminUrl, user, password);
        }

        String urlFor(String database) {
            return base + database + query;
        }

        String user() {
            return user;
        }

        String password() {
            return password;
        }

        /** Testcontainers, only loaded when a Docker engine is there. */
        private static final class Docker {
            static boolean available() {
                boolean socket = Files.exists(Path.of("/var/run/docker.sock")) || System.getenv("DOCKER_HOST") != null;
                if (!socket) {
                    return false;
                }
                try {
                    return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
                } catch (Throwable t) {
                    return false;
                }
            }

            static Server start() {
                var c = new org.testcontainers.postgresql.PostgreSQLContainer("postgres:17-alpine");
                c.start();
                Runtime.getRuntime().addShutdownHook(new Thread(c::stop));
                return new Server(c.getJdbcUrl(), c.getUsername(), c.getPassword());
            }
        }

        /**
         * nightshift's embedded server, shared by the test JVMs of this build: one per version of
         * the binaries, since a data directory made by one major version cannot be started by another
         * (.ci/pg-versions runs the tests on several).
         */
        private static final class Embedded {
            static String bundleVersion() {
                String jar = String.valueOf(Embedded.class.getClassLoader().getResource("postgres-linux-x86_64.txz"));
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("linux-amd64-([0-9.]+)\\.jar").matcher(jar);
                return m.find() ? m.group(1) : "bundled";
            }

            static Server start() {
                var server = dev.nightshift.db.EmbeddedServer.acquire(
                        Path.of(System.getProperty("java.io.tmpdir"), "nightshift-test-postgres-" + bundleVersion()));
                Runtime.getRuntime().addShutdownHook(new Thread(server::release));
                return new Server(server.jdbcUrl("postgres"), "postgres", null);
            }
        }
    }
}
