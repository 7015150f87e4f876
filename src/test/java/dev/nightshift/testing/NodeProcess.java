package dev.nightshift.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A nightshift daemon in a separate JVM, for tests that kill it or send it signals. */
public final class NodeProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private NodeProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code nightshift run} with this test JVM's classpath and the given environment and flags. */
    public static NodeProcess start(Map<String, String> env, Path logDir, String nodeName, String... flags) throws IOException {
        List<String> args = new ArrayList<>(List.of("run", "--node-name", nodeName));
        args.addAll(List.of(flags));
        return command(env, logDir, nodeName, args.toArray(String[]::new));
    }

    /** Starts {@code nightshift ARGS…} with this test JVM's classpath; output goes to {@code logName}.log. */
    public static NodeProcess command(Map<String, String> env, Path logDir, String logName, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp", System.getProperty("java.class.path"),
                "dev.nightshift.cli.Main"));
        cmd.addAll(List.of(args));
        Path log = logDir.resolve(logName + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("NIGHTSHIFT_"));
        pb.environment().putAll(env);
        return new NodeProcess(pb.start(), log);
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown code runs, sockets are closed by the kernel. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, as systemd and Kubernetes send it. */
    public void term() {
        process.destroy();
    }

    /** SIGSTOP: the JVM is frozen, its sockets stay open (a host pause, a stuck VM). */
    public void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT after {@link #freeze()}. */
    public void thaw() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** The exit code, or null if it did not exit within {@code seconds}. */
    public Integer waitFor(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : null;
    }

    public boolean alive() {
        return process.isAlive();
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
