package dev.nightshift.testing;

import dev.nightshift.db.EmbeddedServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of one test class's own: the embedded one in a private temporary home, for
 * tests that stop, restart or cut off the server without disturbing the shared test server. Start
 * it in {@code @BeforeAll}, close it in {@code @AfterAll}: closing stops the server and deletes the
 * home. Not thread-safe.
 */
public final class PrivateServer implements AutoCloseable {
    private final Path home;
    private final EmbeddedServer server;

    private PrivateServer(Path home, EmbeddedServer server) {
        this.home = home;
        this.server = server;
    }

    /** Starts a server in a new temporary directory named after {@code prefix}. */
    public static PrivateServer start(String prefix) throws IOException {
        // rwxr-xr-x, so that the server's own user can reach it when the tests run as root
        Path home = Files.createTempDirectory(prefix, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        return new PrivateServer(home, EmbeddedServer.acquire(home));
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

    @Override
    public void close() throws IOException {
        server.release();
        try (Stream<Path> files = Files.walk(home)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
