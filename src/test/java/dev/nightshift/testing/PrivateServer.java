package dev.nightshift.testing;

import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.config.SettingsLoader;
import dev.nightshift.db.EmbeddedServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A PostgreSQL server of one test class's own: the embedded one in a private temporary home, for
 * tests that stop, restart or cut off the server without disturbing the shared test server.
 * Register it ({@code @RegisterExtension static final PrivateServer pg = new PrivateServer("name")}):
 * it starts before the class's tests, and after them stops the server and deletes the home; or
 * {@link #start} one and close it yourself. Not thread-safe.
 */
public final class PrivateServer implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
    private final String prefix;
    private Path home;
    private EmbeddedServer server;

    /** @param prefix the start of the temporary home's name */
    public PrivateServer(String prefix) {
        this.prefix = prefix;
    }

    /** Starts a server in a new temporary directory named after {@code prefix}. */
    public static PrivateServer start(String prefix) throws IOException {
        PrivateServer s = new PrivateServer(prefix);
        s.open();
        return s;
    }

    private void open() throws IOException {
        // rwxr-xr-x, so that the server's own user can reach it when the tests run as root
        home = Files.createTempDirectory(prefix, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        server = EmbeddedServer.acquire(home);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        open();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        close();
    }

    /** The server, to stop, start and connect to. */
    public EmbeddedServer server() {
        return server;
    }

    /** A new connection to its {@code postgres} database, as the superuser. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", null);
    }

    /** The private home: the server's files, and room for the test's own (job directories, data files). */
    public Path home() {
        return home;
    }

    /** The first column of the first row of {@code sql}'s result, as text; null without a row. */
    public String queryString(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** The first column of the first row of {@code sql}'s result, a number. */
    public long queryLong(String sql) throws SQLException {
        return Long.parseLong(queryString(sql));
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /**
     * The settings of a daemon on this server, as the superuser: jobs from {@code jobs}, named
     * {@code node}, polling every 200 ms, its HTTP port any free one; {@code more} adds or overrides.
     */
    public Settings settings(JobsDir jobs, String node, Map<Setting, String> more) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DB_URL, server.jdbcUrl("postgres"));
        flags.put(Setting.DB_USER, "postgres");
        flags.put(Setting.JOBS_DIR, jobs.path().toString());
        flags.put(Setting.POLL_INTERVAL, "200ms");
        flags.put(Setting.NODE_NAME, node);
        flags.put(Setting.HTTP_PORT, "0");
        flags.putAll(more);
        return SettingsLoader.load(Map.of(), null, flags);
    }

    @Override
    public void close() throws IOException {
        server.release();
        try (Stream<Path> files = Files.walk(home)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
