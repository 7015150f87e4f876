package dev.nightshift.db;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

/**
 * The embedded PostgreSQL kept under {@code NIGHTSHIFT_HOME/postgres}: real server binaries
 * (from io.zonky.test's binary bundle), a persistent data directory, a port remembered in a file.
 *
 * <p>The first process that needs it starts it; later processes connect to the running server.
 * Each user process holds a shared file lock on {@code users.lock}; a process that leaves and can
 * then take that lock exclusively was the last user, and stops the server. A process killed with
 * -9 leaves the server running for the next one. Thread-safe.
 */
public final class EmbeddedServer {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedServer.class);
    private static final Map<Path, EmbeddedServer> OPEN = new ConcurrentHashMap<>();

    private final Path root;
    private final Path data;
    private final Path bin;
    private final Path portFile;
    private int users;
    private FileChannel usersChannel;
    private FileLock usersLock;
    private int port;

    private EmbeddedServer(Path root, Path bin) {
        this.root = root;
        this.data = root.resolve("data");
        this.bin = bin;
        this.portFile = root.resolve("port");
    }

    /** Starts or joins the server under {@code home}; pair every call with {@link #release()}. */
    public static EmbeddedServer acquire(Path home) {
        Path root = ServerUser.placeRoot(home.toAbsolutePath().normalize().resolve("postgres"));
        EmbeddedServer s = OPEN.computeIfAbsent(root, r -> new EmbeddedServer(r, binaries(r)));
        s.join();
        return s;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public synchronized int port() {
        return port;
    }

    public Path dataDirectory() {
        return data;
    }

    private synchronized void join() {
        if (users++ > 0) {
            return;
        }
        try {
            Files.createDirectories(root);
            usersChannel = FileChannel.open(root.resolve("users.lock"), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            usersLock = usersChannel.lock(0, Long.MAX_VALUE, true);
            withStartLock(this::startIfNeeded);
        } catch (IOException e) {
            users = 0;
            throw new UncheckedIOException("embedded PostgreSQL under " + root + " could not start: " + e.getMessage(), e);
        }
    }

    /** Leaves the server; the last process to leave stops it. */
    public synchronized void release() {
        if (users == 0 || --users > 0) {
            return;
        }
        try {
            usersLock.release();
            FileLock exclusive = usersChannel.tryLock(0, Long.MAX_VALUE, false);
            if (exclusive != null) {
                try {
                    stop();
                } finally {
                    exclusive.release();
                }
            }
            usersChannel.close();
        } catch (IOException e) {
            log.warn("embedded PostgreSQL: could not release {}: {}", root, e.getMessage());
        }
    }

    /** Stops the server now, whoever else uses it: for tests of outages and for restarts. */
    public synchronized void stop() throws IOException {
        if (Files.exists(data.resolve("postmaster.pid"))) {
            pgCtl(List.of("-D", data.toString(), "-m", "fast", "-w", "-t", "60", "stop"));
            log.info("embedded PostgreSQL stopped ({})", data);
        }
    }

    /** Starts the server again after {@link #stop()}, on the same port when it is free. */
    public synchronized void start() throws IOException {
        withStartLock(this::startIfNeeded);
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private void withStartLock(IoAction action) throws IOException {
        try (FileChannel ch = FileChannel.open(root.resolve("start.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            action.run();
        }
    }

    private void startIfNeeded() throws IOException {
        if (!Files.exists(data.resolve("PG_VERSION"))) {
            initdb();
        }
        int remembered = Files.exists(portFile) ? Integer.parseInt(Files.readString(portFile).trim()) : 0;
        if (remembered > 0 && running() && accepts(remembered)) {
            port = remembered;
            return;
        }
        port = remembered > 0 && free(remembered) ? remembered : freePort();
        Files.writeString(portFile, Integer.toString(port));
        String options = "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200"
                + " -c shared_buffers=128MB -c timezone=UTC";
        pgCtl(List.of("-D", data.toString(), "-l", root.resolve("server.log").toString(), "-w", "-t", "60",
                "-o", options, "start"));
        log.info("embedded PostgreSQL started on 127.0.0.1:{} with data in {}", port, data);
    }

    private boolean running() throws IOException {
        if (!Files.exists(data.resolve("postmaster.pid"))) {
            return false;
        }
        return run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "status"), false) == 0;
    }

    private void initdb() throws IOException {
        Files.createDirectories(data);
        ServerUser.handOver(root);
        run(List.of(bin.resolve("initdb").toString(), "-A", "trust", "-U", "postgres", "-E", "UTF-8",
                "--locale=C", "-D", data.toString()), true);
        log.info("embedded PostgreSQL: created a new data directory in {}", data);
    }

    private void pgCtl(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(bin.resolve("pg_ctl").toString());
        cmd.addAll(args);
        run(cmd, true);
    }

    private int run(List<String> cmd, boolean mustSucceed) throws IOException {
        Path out = Files.createTempFile("nightshift-pg", ".out");
        try {
            Process p = new ProcessBuilder(ServerUser.wrap(cmd)).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd.get(0) + " did not finish within 120 s");
            }
            if (mustSucceed && p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): "
                        + Files.readString(out, StandardCharsets.UTF_8).strip()
                        + " -- see " + root.resolve("server.log"));
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + cmd.get(0), e);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            // refused or timed out: nothing serves on that port, which is the answer asked for
            return false;
        }
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            // the port is taken (or not bindable): the answer asked for, the caller tries another
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Unpacks the bundled binaries once per bundle version, under a file lock, and returns their directory. */
    private static Path binaries(Path root) {
        try {
            Files.createDirectories(root);
            String arch = System.getProperty("os.arch").equals("amd64") ? "x86_64" : System.getProperty("os.arch");
            String digest;
            try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", arch)) {
                digest = digest(in);
            }
            Path dir = root.resolve("bin-" + digest.substring(0, 12));
            Path done = dir.resolve(".complete");
            try (FileChannel ch = FileChannel.open(root.resolve("unpack.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                if (!Files.exists(done)) {
                    try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", arch)) {
                        unpack(in, dir);
                    }
                    Files.createFile(done);
                    ServerUser.handOver(dir);
                }
            }
            return dir.resolve("bin");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the embedded PostgreSQL binaries: " + e.getMessage(), e);
        }
    }

    private static String digest(InputStream in) throws IOException {
        try {
            DigestInputStream d = new DigestInputStream(in, MessageDigest.getInstance("SHA-256"));
            d.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(d.getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void unpack(InputStream txz, Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(txz))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path target = dir.resolve(e.getName()).normalize();
                if (!target.startsWith(dir)) {
                    throw new IOException("archive entry outside the target directory: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else if (e.isSymbolicLink() || e.isLink()) {
                    Files.createDirectories(target.getParent());
                    Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(tar, target);
                    if ((e.getMode() & 0100) != 0 || e.getName().startsWith("bin/")) {
                        target.toFile().setExecutable(true, false);
                    }
                }
            }
        }
    }
}
