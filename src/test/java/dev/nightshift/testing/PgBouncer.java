package dev.nightshift.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real PgBouncer (Debian's package; {@code .ci/ops-setup} installs it) on a free port of
 * 127.0.0.1 in front of a test class's database, with PgBouncer's usual settings unless a test
 * names others. Started as {@code nobody} when the tests run as root, since PgBouncer refuses to
 * run as root. Not thread-safe; close once.
 */
public final class PgBouncer implements AutoCloseable {
    private final Process process;
    private final Path dir;
    private final int port;
    private final String database;
    private final TestDatabase db;

    private PgBouncer(Process process, Path dir, int port, String database, TestDatabase db) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.database = database;
        this.db = db;
    }

    /** The pgbouncer binary, or a skipped (failed with CI=true) test. */
    public static Path binary() {
        Optional<Path> p = Tools.find("pgbouncer").or(() -> Optional.of(Path.of("/usr/sbin/pgbouncer")).filter(Files::isExecutable));
        Tools.require(p.isPresent(), "pgbouncer (apt-get install pgbouncer, or .ci/ops-setup)");
        return p.get();
    }

    /** PgBouncer in {@code poolMode} (session, transaction, statement) in front of {@code db}, closed after its class. */
    public static PgBouncer start(TestDatabase db, String poolMode) throws IOException {
        return start(db, poolMode, Map.of());
    }

    /**
     * As {@link #start(TestDatabase, String)}, with more settings of the {@code [pgbouncer]} section.
     * The pool is sized for a few nodes (in session mode each client connection holds a server
     * connection; PgBouncer's default of 20 per database and user is one node's pool).
     */
    public static PgBouncer start(TestDatabase db, String poolMode, Map<String, String> more) throws IOException {
        Path binary = binary();
        URI server = URI.create(db.url().substring("jdbc:".length()));
        String database = server.getPath().substring(1);
        Path dir = Files.createTempDirectory("nightshift-pgbouncer", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        int port = freePort();
        String password = db.env().get("NIGHTSHIFT_DB_PASSWORD");
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("listen_addr", "127.0.0.1");
        settings.put("listen_port", Integer.toString(port));
        settings.put("unix_socket_dir", "");
        settings.put("auth_type", "trust");
        settings.put("auth_file", dir.resolve("users.txt").toString());
        settings.put("pool_mode", poolMode);
        settings.put("max_client_conn", "1000");
        settings.put("default_pool_size", "200");
        settings.putAll(more);
        StringBuilder ini = new StringBuilder("[databases]\n")
                .append(database).append(" = host=").append(server.getHost()).append(" port=").append(server.getPort())
                .append(" dbname=").append(database).append(password == null ? "" : " password=" + password).append("\n\n[pgbouncer]\n");
        settings.forEach((k, v) -> ini.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(dir.resolve("pgbouncer.ini"), ini);
        Files.writeString(dir.resolve("users.txt"), "\"" + db.user() + "\" \"" + (password == null ? "" : password) + "\"\n");
        for (String f : List.of("pgbouncer.ini", "users.txt")) {
            Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
        }
        List<String> cmd = "root".equals(System.getProperty("user.name"))
                ? List.of(binary.toString(), "-u", "nobody", dir.resolve("pgbouncer.ini").toString())
                : List.of(binary.toString(), dir.resolve("pgbouncer.ini").toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("pgbouncer.log").toFile()).start();
        PgBouncer bouncer = db.closeAfterAll(new PgBouncer(p, dir, port, database, db));
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .failFast("pgbouncer exited: " + bouncer.log(), () -> !p.isAlive())
                .until(() -> accepts(port));
        return bouncer;
    }

    /** The JDBC URL of the test class's database through this PgBouncer. */
    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** {@link TestDatabase#env()} with the database URL through this PgBouncer. */
    public Map<String, String> env() {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_DB_URL", url());
        return env;
    }

    /** What PgBouncer logged so far. */
    public String log() {
        try {
            return Files.readString(dir.resolve("pgbouncer.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
