package dev.nightshift.build;

import dev.nightshift.cli.Main;
import dev.nightshift.db.EmbeddedServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The workload from which the build records its class data sharing archive. Not part of the
 * product: the build runs this file as a single-file source program beside the jar,
 * {@code java -XX:ArchiveClassesAtExit=nightshift.jsa -cp nightshift.jar src/build/CdsTraining.java HOME JOBS}
 * (the class path stays the jar alone, as the launcher's, or the archive would not match). It
 * runs the operator's short commands against an embedded PostgreSQL under HOME, so that the archive holds the classes those commands load (picocli, logging, the pool, the driver,
 * migrations, JSON). The archive only speeds start-up: a training that fails says so on standard
 * error and still exits 0, and the launcher then starts without an archive.
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) {
        Path home = Path.of(args.length > 0 ? args[0] : "target/cds-home");
        String jobs = args.length > 1 ? args[1] : "jobs";
        Map<String, String> env = Map.of("NIGHTSHIFT_HOME", home.toString(), "NIGHTSHIFT_JOBS_DIR", jobs);
        StringWriter errors = new StringWriter();
        // One acquisition held throughout: the commands join the running server instead of starting it each time.
        EmbeddedServer server = null;
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        try {
            server = EmbeddedServer.acquire(home);
            for (List<String> command : List.of(
                    List.of("--version"), List.of("--help"), List.of("validate"), List.of("migrate"), List.of("sync"),
                    List.of("trigger", "schema"), List.of("trigger", "schema", "--json"), List.of("runs", "--limit", "8"),
                    List.of("runs", "--json"), List.of("show", "1"), List.of("show", "1", "--json"), List.of("logs", "1"), List.of("jobs"),
                    List.of("jobs", "--json"), List.of("cancel", "1"), List.of("retry", "1"), List.of("pause", "schema"),
                    List.of("resume", "schema"), List.of("backfills"), List.of("rejects", "1"), List.of("runs", "--help"))) {
                int code = Main.run(command.toArray(String[]::new), env, new PrintWriter(Writer.nullWriter()), new PrintWriter(errors));
                if (code == Main.USAGE) {
                    System.err.println("class data sharing training: " + String.join(" ", command) + " exited " + code + ": " + errors);
                }
            }
        } catch (RuntimeException e) {
            // Why it may fail and not break the build: the archive is an optimisation the launcher can do without.
            System.err.println("class data sharing training incomplete, start-up will be slower: " + e);
        } finally {
            if (server != null) {
                server.release();
            }
        }
        System.exit(0);
    }
}
